-- Read markers: how far each member has read each ticket, the "unread for me" of the inbox.
--
-- A member's marker on a ticket is the last message they have seen (its id and time), set by
-- api.mark_ticket_read when they open the ticket; it only moves forward. A ticket is unread for a
-- member when its last message (system rows aside: they ride on the change they record) was
-- written by someone else after the marker, or the member has no marker (decision 0026).
-- api.ticket_rows and api.unread_counts (inbox_views.sql) read it; ticket.read tells the
-- member's other screens.

-- tables ------------------------------------------------------------------------------------------

create table halo.ticket_reads (
  user_id uuid not null default auth.uid(),
  ticket_id uuid not null references halo.tickets (id) on delete cascade,
  workspace_id uuid not null,
  last_read_message_id uuid references halo.messages (id) on delete set null,
  last_read_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (user_id, ticket_id),
  -- A marker belongs to a member; leaving the workspace takes one's markers along.
  foreign key (workspace_id, user_id) references halo.members (workspace_id, user_id) on delete cascade
);

-- indexes -----------------------------------------------------------------------------------------

create index ticket_reads_ticket_id_idx on halo.ticket_reads (ticket_id);

create index ticket_reads_member_idx on halo.ticket_reads (workspace_id, user_id);

create index ticket_reads_last_read_message_id_idx on halo.ticket_reads (last_read_message_id)
  where last_read_message_id is not null;

-- triggers ----------------------------------------------------------------------------------------

-- ticket.read, so the member's other screens clear the ticket's unread dot (realtime-events.md).
create function halo.ticket_read_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.emit_event(new.workspace_id, 'ticket.read', new.ticket_id, null,
    jsonb_build_object('user_id', new.user_id, 'last_read_message_id', new.last_read_message_id,
                       'last_read_at', new.last_read_at));
  return null;
end
$$;

create trigger ticket_reads_emit_event
  after insert or update on halo.ticket_reads
  for each row execute function halo.ticket_read_changed();

-- row-level security ------------------------------------------------------------------------------

alter table halo.ticket_reads enable row level security;

-- policies ----------------------------------------------------------------------------------------

create policy "members read and write only their own read markers" on halo.ticket_reads
  for all to authenticated
  using (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')))
  with check (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.ticket_reads with (security_invoker = true) as
  select user_id, ticket_id, workspace_id, last_read_message_id, last_read_at, updated_at
  from halo.ticket_reads;
comment on view api.ticket_reads is
  'Read markers: the last message the caller has seen on each ticket they opened (set with '
  'api.mark_ticket_read). Each member with Inbox permission view reads only their own markers.';

-- Sets the caller's marker on a ticket to p_message_id (a message of the ticket), or to the
-- ticket's last message when it is null. A marker never moves back: marking an older message
-- leaves it as it is.
create function api.mark_ticket_read(p_ticket_id uuid, p_message_id uuid default null)
returns api.ticket_reads
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'view', 'reading a ticket');
  message_id uuid;
  read_at timestamptz;
  result api.ticket_reads;
begin
  if auth.uid() is null then
    raise exception 'read markers belong to signed-in members; sign in as the member who read the ticket'
      using errcode = '42501';
  end if;
  if p_message_id is null then
    select m.id, m.created_at into message_id, read_at from halo.messages m
     where m.ticket_id = ticket.id and m.kind <> 'system'
     order by m.created_at desc limit 1;
  else
    select m.id, m.created_at into message_id, read_at from halo.messages m
     where m.id = p_message_id and m.ticket_id = ticket.id;
    if message_id is null then
      raise exception 'message % is not in ticket %', p_message_id, p_ticket_id using errcode = '22023';
    end if;
  end if;
  insert into halo.ticket_reads as r (user_id, ticket_id, workspace_id, last_read_message_id, last_read_at)
  values (auth.uid(), ticket.id, ticket.workspace_id, message_id, coalesce(read_at, now()))
  on conflict (user_id, ticket_id) do update
    set last_read_message_id = excluded.last_read_message_id,
        last_read_at = excluded.last_read_at,
        updated_at = now()
    where r.last_read_at < excluded.last_read_at;
  select * into result from api.ticket_reads r where r.user_id = auth.uid() and r.ticket_id = ticket.id;
  return result;
end
$$;
grant execute on function api.mark_ticket_read(uuid, uuid) to authenticated, service_role;
comment on function api.mark_ticket_read(p_ticket_id uuid, p_message_id uuid) is
  'Marks a ticket read for the caller up to p_message_id (a message of that ticket), or up to its '
  'last message when p_message_id is null, and returns the caller''s marker; a marker only moves '
  'forward, and a change emits ticket.read. Needs a signed-in member with Inbox permission view. '
  'Raises 22023 when the message is not in the ticket, 42501 without a signed-in member or '
  'permission, and P0002 when the ticket is not visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.ticket_reads to authenticated;

grant all on halo.ticket_reads to service_role;

grant select on api.ticket_reads to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
