-- Domain events: every state change appends one row here in the same transaction, numbered by a
-- per-workspace sequence that readers see without gaps, and broadcasts a small payload to the
-- private Realtime topics of the workspace and of the ticket or conversation it concerns.
--
-- Why gap-free for readers: the number comes from `update halo.workspace_counters ... returning`,
-- whose row lock is held until the writing transaction ends. A second writer in the same workspace
-- waits for that lock, and PostgreSQL releases locks only after the first transaction's commit is
-- visible. So seq N+1 can only be taken after N is committed (or, if N's transaction rolled back,
-- N is taken again): no snapshot can contain N+1 without N. The cost is that event-emitting writes
-- in one workspace serialize from their first event to their commit; writes in different
-- workspaces do not wait for each other.

-- tables ------------------------------------------------------------------------------------------

-- An append-only log: no foreign keys to tickets or conversations, so deleting those never has to
-- rewrite history (and the log never blocks a delete).
create table halo.events (
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  seq bigint not null,
  name text not null check (name ~ '^[a-z_]+\.[a-z_]+$'),
  ticket_id uuid,
  conversation_id uuid,
  actor_user_id uuid,
  data jsonb not null default '{}',
  created_at timestamptz not null default now(),
  primary key (workspace_id, seq)
);

-- enable RLS --------------------------------------------------------------------------------------

alter table halo.events enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Appends an event and broadcasts it; returns its seq. Called only by security definer triggers
-- and functions, never by the API roles directly.
create function halo.emit_event(
  p_workspace_id uuid,
  p_name text,
  p_ticket_id uuid default null,
  p_conversation_id uuid default null,
  p_data jsonb default '{}'
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  next_seq bigint;
  payload jsonb;
begin
  update halo.workspace_counters
     set last_event_seq = last_event_seq + 1
   where workspace_id = p_workspace_id
  returning last_event_seq into next_seq;
  if next_seq is null then
    raise exception 'workspace % does not exist', p_workspace_id using errcode = 'P0002';
  end if;
  insert into halo.events (workspace_id, seq, name, ticket_id, conversation_id, actor_user_id, data)
  values (p_workspace_id, next_seq, p_name, p_ticket_id, p_conversation_id, auth.uid(), p_data);

  payload := jsonb_strip_nulls(jsonb_build_object(
    'event', p_name, 'seq', next_seq, 'workspace_id', p_workspace_id,
    'ticket_id', p_ticket_id, 'conversation_id', p_conversation_id
  )) || p_data;
  perform realtime.send(payload, p_name, 'workspace:' || p_workspace_id, true);
  if p_ticket_id is not null then
    perform realtime.send(payload, p_name, 'ticket:' || p_ticket_id, true);
  end if;
  if p_conversation_id is not null then
    perform realtime.send(payload, p_name, 'conversation:' || p_conversation_id, true);
  end if;
  return next_seq;
end
$$;
revoke execute on function halo.emit_event(uuid, text, uuid, uuid, jsonb) from public;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read their workspace's events" on halo.events
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- API objects -------------------------------------------------------------------------------------

create view api.events with (security_invoker = true) as
  select workspace_id, seq, name, ticket_id, conversation_id, actor_user_id, data, created_at
  from halo.events;

-- Catch-up after a reconnect: the events of one workspace after `p_after_seq`, oldest first.
-- Gap-free: if the result ends at seq M, every event up to M has been returned.
create function api.events_since(
  p_workspace_id uuid,
  p_after_seq bigint default 0,
  p_limit integer default 500
) returns setof api.events
language plpgsql stable
security invoker
set search_path = ''
as $$
begin
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000, got %', p_limit using errcode = '22023';
  end if;
  if p_after_seq is null or p_after_seq < 0 then
    raise exception 'p_after_seq must be 0 or more, got %', p_after_seq using errcode = '22023';
  end if;
  return query
    select e.* from api.events e
    where e.workspace_id = p_workspace_id and e.seq > p_after_seq
    order by e.seq
    limit p_limit;
end
$$;
grant execute on function api.events_since(uuid, bigint, integer) to authenticated, service_role;

-- grants ------------------------------------------------------------------------------------------

grant select on halo.events to authenticated;
grant all on halo.events to service_role;
grant select on api.events to authenticated, service_role;

-- PUBLIC may execute every new function by default, and the per-schema default privileges of the
-- first migration cannot take a global default away; so each migration takes it back itself and
-- grants execute function by function (above). The catalog lint checks that none is left.
revoke execute on all functions in schema halo, api from public;
