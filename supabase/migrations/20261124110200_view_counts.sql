-- Sidebar counts without scanning a workspace's tickets (issue 6, performance).
--
-- Counting the status views of a 300k-ticket workspace by scanning even a covering index took
-- ~200 ms under RLS. Instead every ticket write appends signed deltas per "bucket" (its status
-- view, plus agent_requests and sales while active) to halo.ticket_count_deltas, in the ticket's
-- own transaction: insert-only, so writers never wait for each other and no new lock can take part
-- in a deadlock (a counter row updated in place would serialize every ticket write of a
-- workspace and could deadlock with the commit-time event counter). Reading sums the deltas of a
-- workspace; now and then (2% of writes, read committed only, one compactor per workspace via a
-- try-lock) a writer folds the committed deltas into one row per bucket, so the sum stays small.

-- tables ------------------------------------------------------------------------------------------

create table halo.ticket_count_deltas (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  bucket text not null,
  n bigint not null
);
create index ticket_count_deltas_workspace_idx on halo.ticket_count_deltas (workspace_id, bucket);

-- The Priority view's first page: open tickets of high or urgent priority by last activity.
create index tickets_priority_view_idx on halo.tickets (workspace_id, last_activity_at desc)
  where status_category = 'open' and priority in ('high', 'urgent');

-- helpers -----------------------------------------------------------------------------------------

-- The counted views a ticket belongs to.
create function halo.ticket_buckets(t halo.tickets) returns text[]
language sql immutable
set search_path = ''
as $$
  select array[halo.ticket_status(t.status_category, t.priority, t.resolved_by)]
    || case when t.status_category in ('open', 'in_progress') and t.category = 'agent_request'
            then array['agent_requests'] else '{}' end
    || case when t.status_category in ('open', 'in_progress') and t.source = 'sales'
            then array['sales'] else '{}' end
$$;

-- Recomputes a workspace's counts from its tickets (after bulk loads that bypass triggers, such
-- as `halo seed`). Local superuser / service_role only.
create function halo.recount_tickets(p_workspace_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
  delete from halo.ticket_count_deltas where workspace_id = p_workspace_id;
  insert into halo.ticket_count_deltas (workspace_id, bucket, n)
  select p_workspace_id, b, count(*)
  from halo.tickets t, unnest(halo.ticket_buckets(t)) b
  where t.workspace_id = p_workspace_id
  group by b;
$$;
grant execute on function halo.recount_tickets(uuid) to service_role;

-- The bucket counts of a workspace the caller may read (Inbox: View), as {bucket: n}.
create function halo.ticket_bucket_counts(p_workspace_id uuid) returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  if auth.uid() is not null and p_workspace_id not in (select halo.inbox_workspaces('view')) then
    raise exception 'reading the inbox of workspace % needs Inbox: View permission there', p_workspace_id
      using errcode = '42501';
  end if;
  return coalesce((select jsonb_object_agg(bucket, total)
                     from (select bucket, sum(n) as total from halo.ticket_count_deltas
                            where workspace_id = p_workspace_id group by bucket) s), '{}');
end
$$;
grant execute on function halo.ticket_bucket_counts(uuid) to authenticated, service_role;

-- triggers ----------------------------------------------------------------------------------------

create function halo.count_ticket_buckets() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  workspace uuid := coalesce(new.workspace_id, old.workspace_id);
  before_buckets text[] := case when tg_op <> 'INSERT' then halo.ticket_buckets(old) else '{}' end;
  after_buckets text[] := case when tg_op <> 'DELETE' then halo.ticket_buckets(new) else '{}' end;
begin
  if before_buckets = after_buckets
     or (tg_op = 'DELETE' and not exists (select 1 from halo.workspaces where id = workspace)) then
    return null;  -- nothing moved, or the whole workspace is being deleted
  end if;
  insert into halo.ticket_count_deltas (workspace_id, bucket, n)
  select workspace, b, -1 from unnest(before_buckets) b where not b = any (after_buckets)
  union all
  select workspace, b, 1 from unnest(after_buckets) b where not b = any (before_buckets);

  if random() < 0.02 and current_setting('transaction_isolation') = 'read committed'
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

create trigger tickets_count_buckets
  after insert or update or delete on halo.tickets
  for each row execute function halo.count_ticket_buckets();

-- enable RLS --------------------------------------------------------------------------------------

-- No policy: only the security definer functions above read or write it.
alter table halo.ticket_count_deltas enable row level security;

-- The tickets that exist when this migration runs.
insert into halo.ticket_count_deltas (workspace_id, bucket, n)
select t.workspace_id, b, count(*)
from halo.tickets t, unnest(halo.ticket_buckets(t)) b
group by 1, 2;

-- API objects -------------------------------------------------------------------------------------

-- Counts for the sidebar in one call: every built-in view, every custom inbox, every segment of
-- the caller, and the live conversations: {"views": {...}, "custom_inboxes": {id: n},
-- "segments": {id: n}, "conversations": {"live": n}}. Status, agent request and sales counts come
-- from the deltas; assigned_to_me and mentions from their indexes; custom inboxes and segments run
-- their filters (a scan of what the filter selects).
create function api.inbox_counts(p_workspace_id uuid default null) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  workspace uuid := halo.caller_workspace(p_workspace_id);
  buckets jsonb := halo.ticket_bucket_counts(workspace);
  views jsonb := '{}';
  inboxes jsonb := '{}';
  segments jsonb := '{}';
  saved record;
  compiled halo.compiled_filter;
  n bigint;
  live bigint;
  view_name text;
begin
  foreach view_name in array array['open', 'priority', 'in_progress', 'snoozed', 'resolved',
                                   'ai_resolved', 'spam', 'agent_requests', 'sales'] loop
    views := views || jsonb_build_object(view_name, coalesce((buckets ->> view_name)::bigint, 0));
  end loop;
  views := views || jsonb_build_object(
    'all', (views ->> 'open')::bigint + (views ->> 'priority')::bigint + (views ->> 'in_progress')::bigint,
    'assigned_to_me', (select count(*) from halo.tickets t where t.workspace_id = workspace
                         and t.assignee_id = (select auth.uid()) and t.status_category in ('open', 'in_progress')),
    'mentions', (select count(distinct mn.ticket_id) from halo.mentions mn
                  where mn.user_id = (select auth.uid()) and mn.workspace_id = workspace));

  for saved in
    select 'custom' as kind, ci.id, ci.filter from halo.custom_inboxes ci where ci.workspace_id = workspace
    union all
    select 'segment', s.id, s.filter from halo.segments s
     where s.workspace_id = workspace and s.user_id = (select auth.uid())
  loop
    compiled := halo.compile_filter(saved.filter, array[workspace::text]);
    execute format('select count(*) from api.tickets t where t.workspace_id = ($1[1])::uuid and %s', compiled.sql)
      into n using compiled.params;
    if saved.kind = 'custom' then
      inboxes := inboxes || jsonb_build_object(saved.id::text, n);
    else
      segments := segments || jsonb_build_object(saved.id::text, n);
    end if;
  end loop;

  select count(*) into live from halo.conversations c where c.workspace_id = workspace and c.state = 'live';
  return jsonb_build_object('workspace_id', workspace, 'views', views, 'custom_inboxes', inboxes,
                            'segments', segments, 'conversations', jsonb_build_object('live', live));
end
$$;
grant execute on function api.inbox_counts(uuid) to authenticated, service_role;

-- grants ------------------------------------------------------------------------------------------

grant all on halo.ticket_count_deltas to service_role;

-- PUBLIC may execute every new function by default; each migration takes it back itself.
revoke execute on all functions in schema halo, api from public;
