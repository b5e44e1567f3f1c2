-- Domain events: every state change appends one row here in the same transaction, numbered by a
-- per-workspace sequence that readers see without gaps, and broadcasts a small payload to the
-- private Realtime topics of the workspace and of the ticket or conversation it concerns.
--
-- Why gap-free for readers: a change stages its event in halo.pending_events; a deferred
-- constraint trigger numbers it at COMMIT with `update halo.event_counters ... returning`, whose
-- row lock is held until the transaction ends. A second committer in the same workspace waits for
-- that lock, and PostgreSQL releases locks only after the first commit is visible, so seq N+1 is
-- taken only once N is visible (or, if N's transaction failed, N is taken again): no snapshot
-- holds N+1 without N. Numbering at commit keeps the lock window to the commit itself, so
-- writers of one workspace do not queue behind each other's whole transactions, and the counter
-- is always the last lock a transaction takes, so it cannot be part of a deadlock.

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

create table halo.event_counters (
  workspace_id uuid primary key references halo.workspaces (id) on delete cascade,
  last_seq bigint not null default 0
);

-- Events of transactions still running; each row lives from its change to that change's commit.
create table halo.pending_events (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  name text not null,
  ticket_id uuid,
  conversation_id uuid,
  actor_user_id uuid,
  data jsonb not null
);

-- indexes -----------------------------------------------------------------------------------------

-- What happened in a conversation since a cursor, for an AI runtime that holds only a workspace
-- API key. Such a runtime cannot join Realtime (a key is not a Realtime credential), so until now
-- it learned of a takeover only from the 409 on its next AI message and never saw a teammate's
-- reply while the widget stayed open. api.conversation_updates reads the workspace's event log
-- (halo.events: numbered at commit, so readers never see seq N+1 without N) filtered to the
-- conversation: a runtime that polls with the last seq it got misses nothing.
--
-- What it returns: the conversation's own events (conversation.*: paused, resumed, completed, ...)
-- and message.created for what the customer sees (customer, AI and teammate messages, the
-- "joined" notice), each message embedded because a key holder cannot read api.messages. Notes,
-- whispers, other system messages and the ticket's events stay out, but the cursor moves past them.
-- Answer: {"events": [...], "after_seq": the cursor for the next call, "more": a full page}.

create index events_conversation_seq_idx on halo.events (conversation_id, seq)
  where conversation_id is not null;

-- triggers ----------------------------------------------------------------------------------------

create function halo.workspace_created_event_counter() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into halo.event_counters (workspace_id) values (new.id);
  return new;
end
$$;

create trigger workspaces_create_event_counter
  after insert on halo.workspaces
  for each row execute function halo.workspace_created_event_counter();

-- The Realtime broadcast of every event. Runs at commit, once per staged event, in the order the
-- events were staged: numbers the event, logs it in halo.events, and sends its payload to the
-- private topics of its workspace, ticket and conversation (realtime_topics.sql says who may join).
create function halo.broadcast_event() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  next_seq bigint;
  payload jsonb;
begin
  update halo.event_counters
     set last_seq = last_seq + 1
   where workspace_id = new.workspace_id
  returning last_seq into next_seq;
  if next_seq is null then
    -- The workspace was deleted later in the same transaction: its events have no reader.
    delete from halo.pending_events where id = new.id;
    return null;
  end if;
  insert into halo.events (workspace_id, seq, name, ticket_id, conversation_id, actor_user_id, data)
  values (new.workspace_id, next_seq, new.name, new.ticket_id, new.conversation_id,
          new.actor_user_id, new.data);
  delete from halo.pending_events where id = new.id;

  payload := jsonb_strip_nulls(jsonb_build_object(
    'event', new.name, 'seq', next_seq, 'workspace_id', new.workspace_id,
    'ticket_id', new.ticket_id, 'conversation_id', new.conversation_id
  )) || new.data;
  perform realtime.send(payload, new.name, 'workspace:' || new.workspace_id, true);
  if new.ticket_id is not null then
    perform realtime.send(payload, new.name, 'ticket:' || new.ticket_id, true);
  end if;
  if new.conversation_id is not null then
    perform realtime.send(payload, new.name, 'conversation:' || new.conversation_id, true);
  end if;
  return null;
end
$$;

create constraint trigger pending_events_broadcast
  after insert on halo.pending_events
  deferrable initially deferred
  for each row execute function halo.broadcast_event();

-- The event of a row change, for tables whose events say only which row changed. The trigger's
-- first argument names the entity ('contact' gives contact.created, contact.updated and
-- contact.deleted); the payload carries `<entity>_id` when the table has an id, and the columns
-- named by the further arguments. A row with a ticket_id scopes the event to that ticket.
create function halo.emit_row_event() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  row_data jsonb := to_jsonb(coalesce(new, old));
  entity text := tg_argv[0];
  data jsonb := '{}';
  column_name text;
begin
  if row_data ? 'id' then
    data := jsonb_build_object(entity || '_id', row_data -> 'id');
  end if;
  foreach column_name in array coalesce(tg_argv[1:], '{}') loop
    data := data || jsonb_build_object(column_name, row_data -> column_name);
  end loop;
  perform halo.emit_event(
    (row_data ->> 'workspace_id')::uuid,
    entity || '.' || case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'updated' else 'deleted' end,
    (row_data ->> 'ticket_id')::uuid, null, data);
  return null;
end
$$;

-- row-level security ------------------------------------------------------------------------------

alter table halo.events enable row level security;

-- No policy on these two: only the security definer functions here touch them.
alter table halo.event_counters enable row level security;

alter table halo.pending_events enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Stages an event of the current transaction; it is numbered, logged and broadcast at commit.
-- Called only by security definer triggers and functions, never by the API roles directly.
create function halo.emit_event(
  p_workspace_id uuid,
  p_name text,
  p_ticket_id uuid default null,
  p_conversation_id uuid default null,
  p_data jsonb default '{}'
) returns void
language sql
security definer
set search_path = ''
as $$
  insert into halo.pending_events (workspace_id, name, ticket_id, conversation_id, actor_user_id, data)
  values (p_workspace_id, p_name, p_ticket_id, p_conversation_id, auth.uid(), coalesce(p_data, '{}'))
$$;
revoke execute on function halo.emit_event(uuid, text, uuid, uuid, jsonb) from public;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read their workspace's events" on halo.events
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.events with (security_invoker = true) as
  select workspace_id, seq, name, ticket_id, conversation_id, actor_user_id, data, created_at
  from halo.events;
comment on view api.events is
  'The append-only domain event log: one row per state change, numbered per workspace by seq '
  'without gaps. Readable by members with Inbox permission view or higher.';

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
comment on function api.events_since(p_workspace_id uuid, p_after_seq bigint, p_limit integer) is
  'Returns the events of one workspace with seq greater than p_after_seq (default 0), oldest '
  'first, at most p_limit rows (1 to 1000, default 500); use it to catch up after a Realtime '
  'reconnect. The result is gap-free: if it ends at seq M, every event up to M has been returned. '
  'Raises 22023 for an out-of-range p_limit or a negative p_after_seq; returns no rows for '
  'workspaces the caller cannot read.';

-- grants ------------------------------------------------------------------------------------------

grant select on halo.events to authenticated;

grant all on halo.events to service_role;

grant select on halo.event_counters to service_role;

grant select on api.events to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
