-- Count-delta compaction on a schedule the writes themselves set, instead of a coin toss.
--
-- halo.count_ticket_buckets used to fold a workspace's deltas on 2% of writes chosen by random():
-- on average fine, but nothing bounded the log between two lucky writes (a test saw 399 rows after
-- 400 writes). Now a writer folds when its inserted deltas cross a multiple of 32 in the deltas'
-- identity sequence: in a workspace written alone that is every 32 delta rows; with several busy
-- workspaces each one still gets about one fold per 32 of its rows. Rows of a rolled-back write
-- use up sequence values, so a fold can be skipped, never repeated.

create or replace function halo.count_ticket_buckets() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  workspace uuid := coalesce(new.workspace_id, old.workspace_id);
  before_buckets text[] := case when tg_op <> 'INSERT' then halo.ticket_buckets(old) else '{}' end;
  after_buckets text[] := case when tg_op <> 'DELETE' then halo.ticket_buckets(new) else '{}' end;
  inserted bigint;
  last_id bigint;
begin
  if before_buckets = after_buckets
     or (tg_op = 'DELETE' and not exists (select 1 from halo.workspaces where id = workspace)) then
    return null;  -- nothing moved, or the whole workspace is being deleted
  end if;
  insert into halo.ticket_count_deltas (workspace_id, bucket, n)
  select workspace, b, -1 from unnest(before_buckets) b where not b = any (after_buckets)
  union all
  select workspace, b, 1 from unnest(after_buckets) b where not b = any (before_buckets);
  get diagnostics inserted = row_count;
  if inserted = 0 then
    return null;
  end if;
  last_id := currval(pg_catalog.pg_get_serial_sequence('halo.ticket_count_deltas', 'id'));

  if last_id / 32 <> (last_id - inserted) / 32
     and current_setting('transaction_isolation') = 'read committed'
     and pg_try_advisory_xact_lock(hashtextextended('halo.ticket_count_deltas:' || workspace, 0)) then
    with folded as (
      delete from halo.ticket_count_deltas where workspace_id = workspace returning bucket, n
    )
    insert into halo.ticket_count_deltas (workspace_id, bucket, n)
    select workspace, bucket, sum(n) from folded group by bucket;
  end if;
  return null;
end
$$;

revoke execute on all functions in schema halo, api from public;
