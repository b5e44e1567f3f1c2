-- Claiming and completing jobs cost time in proportion to the backlog. Measured with
-- `halo bench ingest` while ~4,900 inbound-email jobs were queued (EXPLAIN ANALYZE mid-run):
--
-- * claim_jobs' dead-letter sweep (`state = 'running' and visible_at <= now()`) walked the
--   claimable index over every queued job to find the few running ones: 4,896 rows filtered,
--   2.5 ms per claim;
-- * its pick (`order by visible_at, id limit n`) read every due job and sorted them, because the
--   index ordered by (kind, visible_at) only: 4,896 rows sorted for 4 taken, 3.9 ms;
-- * complete_jobs joined its entries to halo.jobs by a hash join over a bitmap scan of every
--   queued or running job: 4,908 rows read to update 2, 2.0 ms.
--
-- Together that was 2.8 ms of PostgreSQL time per email at 150 emails/s, growing with the queue.
-- Now: running jobs have their own small index, the claimable index is in the pick's order so
-- the LIMIT stops after n entries, and completion looks its ids up by primary key.

drop index halo.jobs_claimable_idx;
create index jobs_claimable_idx on halo.jobs (kind, visible_at, id)
  where state in ('queued', 'running');
create index jobs_running_idx on halo.jobs (kind, visible_at)
  where state = 'running';

-- API objects -------------------------------------------------------------------------------------

create or replace function api.complete_jobs(p_jobs jsonb) returns bigint[]
language plpgsql
security invoker
set search_path = ''
as $$
declare
  wanted_ids bigint[];
  done_ids bigint[];
begin
  if p_jobs is null or jsonb_typeof(p_jobs) <> 'array'
     or jsonb_array_length(p_jobs) not between 1 and 1000 then
    raise exception 'p_jobs must be an array of 1 to 1000 {"id", "lease_token"} objects'
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_jobs) e
              where jsonb_typeof(e) <> 'object'
                 or jsonb_typeof(e->'id') is distinct from 'number'
                 or jsonb_typeof(e->'lease_token') is distinct from 'string') then
    raise exception 'every entry of p_jobs needs a numeric "id" and a string "lease_token"'
      using errcode = '22023';
  end if;

  select array_agg(distinct (e->>'id')::bigint) into wanted_ids
    from jsonb_array_elements(p_jobs) e;

  -- `id = any(array)` is a primary-key lookup whatever the table's statistics say. No
  -- `state = 'running'` here: a lease token exists only on a running job (the table's check), and
  -- that condition let the planner AND in a scan of the whole running-jobs index.
  with done as (
    update halo.jobs j
       set state = 'done', lease_token = null, finished_at = now(), updated_at = now()
     where j.id = any(wanted_ids)
       and j.lease_token = any(array(
             select (e->>'lease_token')::uuid from jsonb_array_elements(p_jobs) e
              where (e->>'id')::bigint = j.id))
    returning j.id
  )
  select coalesce(array_agg(id order by id), '{}') into done_ids from done;

  return coalesce(
    (select array_agg(id order by id) from unnest(wanted_ids) id where id <> all(done_ids)),
    '{}');
end
$$;
grant execute on function api.complete_jobs(jsonb) to service_role;

revoke execute on all functions in schema halo, api from public;
