-- Completes many jobs in one call: a worker running N handlers at once records their outcomes in
-- one RPC per group instead of one per job (one gateway request per email less on the ingest
-- path, measured by `halo bench ingest`). Same rule as api.complete_job, entry by entry: only a
-- running job whose lease token matches is completed. A lost lease is not an error here (the
-- other entries must still complete): its id is returned, and the caller drops that result.

-- API objects -------------------------------------------------------------------------------------

create function api.complete_jobs(p_jobs jsonb) returns bigint[]
language plpgsql
security invoker
set search_path = ''
as $$
declare
  lost bigint[];
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

  with wanted as (
    select (e->>'id')::bigint as id, (e->>'lease_token')::uuid as lease_token
      from jsonb_array_elements(p_jobs) e
  ), done as (
    update halo.jobs j
       set state = 'done', lease_token = null, finished_at = now(), updated_at = now()
      from wanted w
     where j.id = w.id and j.state = 'running' and j.lease_token = w.lease_token
    returning j.id
  )
  select coalesce(array_agg(distinct w.id order by w.id), '{}') into lost
    from wanted w
   where w.id not in (select id from done);
  return lost;
end
$$;
grant execute on function api.complete_jobs(jsonb) to service_role;

revoke execute on all functions in schema halo, api from public;
