-- Baseline: the schema of supabase/schemas/ as of this migration, file by file.
-- Later migrations hold only differences; tests/db/test_schema_drift.py keeps both equal.

-- ================================================================================================
-- schemas/schemas.sql
-- ================================================================================================

-- The two schemas everything else lives in.
--
--   halo  private: tables, policy helpers, trigger functions and the bodies of the few functions
--         that need their owner's rights. Never exposed over HTTP.
--   api   the contract for dashboards, API clients and workers: security_invoker views and RPC
--         functions, the only schema PostgREST exposes (`[api] schemas = ["api"]` in config.toml).
--         Tables can change behind it without breaking a client.
--
-- Function privileges: PostgreSQL lets PUBLIC execute every new function, and that default is
-- global, so a per-schema `alter default privileges ... revoke` cannot take it away. Each schema
-- file therefore ends with `revoke execute on all functions in schema halo, api from public` and
-- grants execute function by function, role by role. The catalog lint
-- (halo_supabase/sql/catalog_lint.sql) fails on any function PUBLIC may still execute.

create schema if not exists halo;
create schema if not exists api;

comment on schema halo is 'Halo Inbox: private tables and helpers (not exposed over the API).';
comment on schema api is 'Halo Inbox: the API contract (security_invoker views and RPC functions).';

-- grants ------------------------------------------------------------------------------------------

revoke all on schema halo from public;
grant usage on schema halo to postgres, service_role;
-- Policies call helpers in halo as the requesting role, so the API roles need usage (not table
-- access: every table still needs its own grant, and RLS decides rows).
grant usage on schema halo to anon, authenticated;

revoke all on schema api from public;
grant usage on schema api to anon, authenticated, service_role;

-- ================================================================================================
-- schemas/tenancy.sql
-- ================================================================================================

-- Tenancy: workspaces, their members (auth users) with a role (super_admin, admin, member) and an
-- Inbox permission (none < view < reply < manage), alias users (names a teammate may reply as),
-- and the per-workspace counters row.
--
-- Every row of every other table carries workspace_id, and every policy goes through the small
-- helpers here (halo.member_workspaces, halo.inbox_workspaces, halo.admin_workspaces), called as
-- `(select ...)` so PostgreSQL runs them once per statement, not once per row. Functions check a
-- caller through halo.has_inbox_permission, where the service role (no user) always passes. The
-- membership RPCs need their owner's rights (a member cannot otherwise write halo.members), so
-- their bodies live here in halo and the api functions are security invoker wrappers.

-- types -------------------------------------------------------------------------------------------

create type halo.workspace_role as enum ('super_admin', 'admin', 'member');

-- Declared in order: each level includes the ones before it, so policies compare with >=.
create type halo.inbox_permission as enum ('none', 'view', 'reply', 'manage');

-- tables ------------------------------------------------------------------------------------------

create table halo.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 200),
  created_at timestamptz not null default now()
);

create table halo.members (
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role halo.workspace_role not null default 'member',
  inbox_permission halo.inbox_permission not null default 'reply',
  display_name text not null check (length(btrim(display_name)) between 1 and 200),
  email_alias text check (email_alias ~ '^[^@\s]+@[^@\s]+$'),
  online boolean not null default false,
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);

-- Virtual senders: a teammate may reply "as" a shared persona (e.g. "Acme Support").
create table halo.alias_users (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 200),
  avatar_url text,
  created_at timestamptz not null default now()
);

-- The last ticket number of each workspace. Taking a number holds this row's lock until commit,
-- so numbers are gap-free and tickets of one workspace are created one transaction at a time
-- (event numbers have their own row, halo.event_counters, taken only at commit).
create table halo.workspace_counters (
  workspace_id uuid primary key references halo.workspaces (id) on delete cascade,
  last_ticket_number bigint not null default 0
);

-- indexes -----------------------------------------------------------------------------------------

create index members_user_id_idx on halo.members (user_id);

create index alias_users_workspace_id_idx on halo.alias_users (workspace_id);

-- triggers ----------------------------------------------------------------------------------------

create function halo.workspace_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into halo.workspace_counters (workspace_id) values (new.id);
  return new;
end
$$;

create trigger workspaces_create_counters
  after insert on halo.workspaces
  for each row execute function halo.workspace_created();

-- The last super admin of a workspace can be neither demoted nor removed. The workspace row is
-- locked first so two concurrent demotions cannot each see the other as the remaining one.
create function halo.guard_last_super_admin() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role <> 'super_admin' or (tg_op = 'UPDATE' and new.role = 'super_admin') then
    return coalesce(new, old);
  end if;
  perform 1 from halo.workspaces where id = old.workspace_id for update;
  if not found then
    return coalesce(new, old);  -- the workspace itself is being deleted
  end if;
  if not exists (
    select 1 from halo.members
    where workspace_id = old.workspace_id and role = 'super_admin' and user_id <> old.user_id
  ) then
    raise exception 'the last super admin of a workspace cannot be %',
      case tg_op when 'DELETE' then 'removed' else 'demoted' end
      using errcode = '23514',
            hint = 'Make another member super admin first.',
            detail = format('workspace %s, user %s', old.workspace_id, old.user_id);
  end if;
  return coalesce(new, old);
end
$$;

create trigger members_guard_last_super_admin
  before update of role or delete on halo.members
  for each row execute function halo.guard_last_super_admin();

create function halo.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- row-level security ------------------------------------------------------------------------------

alter table halo.workspaces enable row level security;

alter table halo.members enable row level security;

alter table halo.alias_users enable row level security;

alter table halo.workspace_counters enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Policies call these as `x in (select halo.f(...))`: the set is computed once per statement, not
-- once per row. They are security definer so that reading halo.members inside a policy does not
-- recurse into halo.members' own policies.

-- Workspaces where the current user is a member, whatever their permission.
create function halo.member_workspaces() returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select m.workspace_id from halo.members m where m.user_id = auth.uid()
$$;
grant execute on function halo.member_workspaces() to authenticated, service_role;

-- Workspaces where the current user's effective Inbox permission is at least `minimum`. Admins
-- and super admins manage the whole product, so their effective permission is `manage`.
create function halo.inbox_workspaces(minimum halo.inbox_permission) returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select m.workspace_id
  from halo.members m
  where m.user_id = auth.uid()
    and case when m.role in ('super_admin', 'admin') then 'manage'::halo.inbox_permission
             else m.inbox_permission end >= minimum
$$;
grant execute on function halo.inbox_workspaces(halo.inbox_permission) to authenticated, service_role;

-- Whether the caller may act with at least p_minimum Inbox permission in a workspace: a member
-- needs the permission there; a caller without a user (the service role: workers and edge
-- functions acting for the system) always may. Functions check membership through this, once.
create function halo.has_inbox_permission(p_workspace_id uuid, p_minimum halo.inbox_permission)
returns boolean
language sql stable
set search_path = ''
as $$
  select auth.uid() is null or p_workspace_id in (select halo.inbox_workspaces(p_minimum))
$$;
grant execute on function halo.has_inbox_permission(uuid, halo.inbox_permission) to authenticated, service_role;

-- Workspaces where the current user is admin or super admin (team and settings management).
create function halo.admin_workspaces() returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select m.workspace_id from halo.members m
  where m.user_id = auth.uid() and m.role in ('super_admin', 'admin')
$$;
grant execute on function halo.admin_workspaces() to authenticated, service_role;

-- The caller's workspace when p_workspace_id is null and they belong to exactly one.
create function halo.caller_workspace(p_workspace_id uuid) returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  found_ids uuid[];
begin
  if p_workspace_id is not null then
    if not halo.has_inbox_permission(p_workspace_id, 'view') then
      raise exception 'reading the inbox of workspace % needs Inbox: View permission there', p_workspace_id
        using errcode = '42501';
    end if;
    return p_workspace_id;
  end if;
  select array_agg(w) into found_ids from halo.inbox_workspaces('view') w;
  if cardinality(found_ids) = 1 then
    return found_ids[1];
  end if;
  raise exception 'p_workspace_id is required (you belong to % workspaces with inbox access)',
    coalesce(cardinality(found_ids), 0) using errcode = '22023';
end
$$;
grant execute on function halo.caller_workspace(uuid) to authenticated, service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members can read their workspaces" on halo.workspaces
  for select to authenticated
  using (id in (select halo.member_workspaces()));

create policy "admins can rename their workspaces" on halo.workspaces
  for update to authenticated
  using (id in (select halo.admin_workspaces()))
  with check (id in (select halo.admin_workspaces()));

create policy "members can read their teammates" on halo.members
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "members can read their workspace's alias users" on halo.alias_users
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "admins can add alias users" on halo.alias_users
  for insert to authenticated
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can edit alias users" on halo.alias_users
  for update to authenticated
  using (workspace_id in (select halo.admin_workspaces()))
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can delete alias users" on halo.alias_users
  for delete to authenticated
  using (workspace_id in (select halo.admin_workspaces()));

-- api ---------------------------------------------------------------------------------------------

-- workspace_counters has no policy: only security definer triggers touch it.

create view api.workspaces with (security_invoker = true) as
  select id, name, created_at from halo.workspaces;
comment on view api.workspaces is
  'Workspaces the caller belongs to (id, name, created_at); row-level security limits rows to '
  'workspaces where the caller is a member. Admins and super admins may rename a workspace with '
  'PATCH.';

create view api.members with (security_invoker = true) as
  select workspace_id, user_id, role, inbox_permission, display_name, email_alias, online, created_at
  from halo.members;
comment on view api.members is
  'Members of the workspaces the caller belongs to, with their workspace role, Inbox permission, '
  'display name, email alias and online flag. Read-only: use api.set_member, api.remove_member '
  'and api.update_my_profile to change members.';

create view api.alias_users with (security_invoker = true) as
  select id, workspace_id, name, avatar_url, created_at from halo.alias_users;
comment on view api.alias_users is
  'Alias users: shared sender personas (for example Acme Support) that a teammate may reply as. '
  'Every member may read the alias users of their workspaces; admins and super admins may insert, '
  'update and delete them.';

-- Creates a workspace whose first member is the caller, as super admin.
create function halo.create_workspace(p_name text, p_display_name text) returns api.workspaces
language plpgsql
security definer
set search_path = ''
as $$
declare
  created api.workspaces;
begin
  if auth.uid() is null then
    raise exception 'creating a workspace needs a signed-in user' using errcode = '42501';
  end if;
  insert into halo.workspaces (name) values (p_name)
    returning id, name, created_at into created;
  insert into halo.members (workspace_id, user_id, role, inbox_permission, display_name)
    values (created.id, auth.uid(), 'super_admin', 'manage', p_display_name);
  return created;
end
$$;
grant execute on function halo.create_workspace(text, text) to authenticated;

-- The API face of halo.create_workspace: it runs as the caller; only the private body holds definer rights.
create function api.create_workspace(p_name text, p_display_name text) returns api.workspaces
language sql
security invoker
set search_path = ''
as $$
  select * from halo.create_workspace(p_name, p_display_name)
$$;
grant execute on function api.create_workspace(text, text) to authenticated;
comment on function api.create_workspace(p_name text, p_display_name text) is
  'Creates a workspace named p_name and adds the caller as its first member, with role '
  'super_admin, Inbox permission manage and display name p_display_name; returns the new '
  'workspace. Needs a signed-in user (42501 otherwise).';

-- Adds an existing auth user to a workspace, or changes a member's role and Inbox permission.
-- Admins manage members; only a super admin may grant or take away super admin.
create function halo.set_member(
  p_workspace_id uuid,
  p_user_id uuid,
  p_role halo.workspace_role,
  p_inbox_permission halo.inbox_permission,
  p_display_name text default null
) returns api.members
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller_role halo.workspace_role;
  current_role_of_target halo.workspace_role;
  result api.members;
begin
  select role into caller_role from halo.members
    where workspace_id = p_workspace_id and user_id = auth.uid();
  if caller_role is null or caller_role not in ('super_admin', 'admin') then
    raise exception 'managing members needs the admin or super admin role in this workspace'
      using errcode = '42501';
  end if;
  select role into current_role_of_target from halo.members
    where workspace_id = p_workspace_id and user_id = p_user_id;
  if caller_role <> 'super_admin'
     and (p_role = 'super_admin' or current_role_of_target = 'super_admin') then
    raise exception 'only a super admin can grant or change the super admin role'
      using errcode = '42501';
  end if;
  if not exists (select 1 from auth.users where id = p_user_id) then
    raise exception 'user % does not exist', p_user_id using errcode = 'P0002';
  end if;
  insert into halo.members as m (workspace_id, user_id, role, inbox_permission, display_name)
  values (
    p_workspace_id, p_user_id, p_role, p_inbox_permission,
    coalesce(p_display_name, (select split_part(u.email, '@', 1) from auth.users u where u.id = p_user_id), 'Teammate')
  )
  on conflict (workspace_id, user_id) do update
    set role = excluded.role,
        inbox_permission = excluded.inbox_permission,
        display_name = coalesce(p_display_name, m.display_name)
  returning m.workspace_id, m.user_id, m.role, m.inbox_permission, m.display_name, m.email_alias,
            m.online, m.created_at
    into result;
  return result;
end
$$;
grant execute on function halo.set_member(uuid, uuid, halo.workspace_role, halo.inbox_permission, text) to authenticated;

-- The API face of halo.set_member: it runs as the caller; only the private body holds definer rights.
create function api.set_member(
  p_workspace_id uuid,
  p_user_id uuid,
  p_role halo.workspace_role,
  p_inbox_permission halo.inbox_permission,
  p_display_name text default null
) returns api.members
language sql
security invoker
set search_path = ''
as $$
  select * from halo.set_member(p_workspace_id, p_user_id, p_role, p_inbox_permission, p_display_name)
$$;
grant execute on function api.set_member(uuid, uuid, halo.workspace_role, halo.inbox_permission, text) to authenticated;
comment on function api.set_member(p_workspace_id uuid, p_user_id uuid, p_role halo.workspace_role, p_inbox_permission halo.inbox_permission, p_display_name text) is
  'Adds an existing auth user to a workspace, or updates an existing member role and Inbox '
  'permission (p_display_name null keeps the current name, or for a new member defaults to the '
  'local part of their email). Callable by admins and super admins of the workspace; only a super '
  'admin may grant super_admin or change a super admin. Raises 42501 when not allowed, P0002 when '
  'the user does not exist, and 23514 when it would demote the last super admin.';

create function halo.remove_member(p_workspace_id uuid, p_user_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller_role halo.workspace_role;
  target_role halo.workspace_role;
begin
  select role into caller_role from halo.members
    where workspace_id = p_workspace_id and user_id = auth.uid();
  if caller_role is null or caller_role not in ('super_admin', 'admin') then
    raise exception 'removing members needs the admin or super admin role in this workspace'
      using errcode = '42501';
  end if;
  if p_user_id = auth.uid() then
    raise exception 'you cannot remove yourself; ask another admin' using errcode = '42501';
  end if;
  select role into target_role from halo.members
    where workspace_id = p_workspace_id and user_id = p_user_id;
  if target_role is null then
    raise exception 'user % is not a member of workspace %', p_user_id, p_workspace_id
      using errcode = 'P0002';
  end if;
  if target_role = 'super_admin' and caller_role <> 'super_admin' then
    raise exception 'only a super admin can remove a super admin' using errcode = '42501';
  end if;
  delete from halo.members where workspace_id = p_workspace_id and user_id = p_user_id;
end
$$;
grant execute on function halo.remove_member(uuid, uuid) to authenticated;

-- The API face of halo.remove_member: it runs as the caller; only the private body holds definer rights.
create function api.remove_member(p_workspace_id uuid, p_user_id uuid) returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  perform halo.remove_member(p_workspace_id, p_user_id);
end
$$;
grant execute on function api.remove_member(uuid, uuid) to authenticated;
comment on function api.remove_member(p_workspace_id uuid, p_user_id uuid) is
  'Removes a member from a workspace. Callable by admins and super admins; only a super admin may '
  'remove a super admin, and nobody may remove themselves. Raises 42501 when not allowed, P0002 '
  'when the user is not a member, and 23514 when removing the last super admin.';

-- A member's own profile and presence; null leaves a field unchanged.
create function halo.update_my_profile(
  p_workspace_id uuid,
  p_display_name text default null,
  p_email_alias text default null,
  p_online boolean default null
) returns api.members
language plpgsql
security definer
set search_path = ''
as $$
declare
  result api.members;
begin
  update halo.members m
     set display_name = coalesce(p_display_name, m.display_name),
         email_alias = coalesce(p_email_alias, m.email_alias),
         online = coalesce(p_online, m.online)
   where m.workspace_id = p_workspace_id and m.user_id = auth.uid()
  returning m.workspace_id, m.user_id, m.role, m.inbox_permission, m.display_name, m.email_alias,
            m.online, m.created_at
    into result;
  if not found then
    raise exception 'you are not a member of workspace %', p_workspace_id using errcode = 'P0002';
  end if;
  return result;
end
$$;
grant execute on function halo.update_my_profile(uuid, text, text, boolean) to authenticated;

-- The API face of halo.update_my_profile: it runs as the caller; only the private body holds definer rights.
create function api.update_my_profile(
  p_workspace_id uuid,
  p_display_name text default null,
  p_email_alias text default null,
  p_online boolean default null
) returns api.members
language sql
security invoker
set search_path = ''
as $$
  select * from halo.update_my_profile(p_workspace_id, p_display_name, p_email_alias, p_online)
$$;
grant execute on function api.update_my_profile(uuid, text, text, boolean) to authenticated;
comment on function api.update_my_profile(p_workspace_id uuid, p_display_name text, p_email_alias text, p_online boolean) is
  'Updates the display name, email alias and online presence of the caller in one workspace; a '
  'null argument leaves that field unchanged. Returns the updated member row; raises P0002 when '
  'the caller is not a member of p_workspace_id.';

-- grants ------------------------------------------------------------------------------------------

grant select, update on halo.workspaces to authenticated;

grant select on halo.members to authenticated;

grant select, insert, update, delete on halo.alias_users to authenticated;

grant all on halo.workspaces to service_role;

grant all on halo.members to service_role;

grant all on halo.alias_users to service_role;

grant all on halo.workspace_counters to service_role;

grant select, update on api.workspaces to authenticated, service_role;

grant select on api.members to authenticated, service_role;

grant select, insert, update, delete on api.alias_users to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/events.sql
-- ================================================================================================

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

-- ================================================================================================
-- schemas/jobs.sql
-- ================================================================================================

-- Durable jobs (transactional outbox): work that needs code is written in the same transaction as
-- the change that needs it, then claimed by workers in batches with a lease.
--
-- One timestamp, `visible_at`, drives claiming: for a queued job it is when it may run (now, or
-- later after a failure's backoff); for a running job it is when its lease expires. A claim takes
-- every queued-or-running job whose visible_at has passed, so an expired lease is reclaimed by the
-- same query and the same partial index as fresh work. Delivery is at least once: handlers are
-- idempotent, and complete/fail/extend need the lease token so a worker whose lease was taken
-- over cannot overwrite the new owner's result.

-- types -------------------------------------------------------------------------------------------

create type halo.job_state as enum ('queued', 'running', 'done', 'dead');

-- tables ------------------------------------------------------------------------------------------

create table halo.jobs (
  id bigint generated always as identity primary key,
  workspace_id uuid references halo.workspaces (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9_.-]{0,62}$'),
  payload jsonb not null default '{}',
  dedupe_key text check (length(dedupe_key) between 1 and 300),
  state halo.job_state not null default 'queued',
  visible_at timestamptz not null default now(),
  attempts integer not null default 0,
  max_attempts integer not null default 5 check (max_attempts between 1 and 100),
  lease_token uuid,
  locked_by text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  check ((state = 'running') = (lease_token is not null))
);

-- indexes -----------------------------------------------------------------------------------------

-- A dedupe key holds for the life of the row (done and dead jobs included), so a retried
-- enqueue of the same work (e.g. one per inbound Message-ID) is a no-op.
create unique index jobs_kind_dedupe_key_key on halo.jobs (kind, dedupe_key)
  where dedupe_key is not null;

create index jobs_workspace_id_idx on halo.jobs (workspace_id);

create index jobs_claimable_idx on halo.jobs (kind, visible_at, id)
  where state in ('queued', 'running');

create index jobs_running_idx on halo.jobs (kind, visible_at)
  where state = 'running';

-- triggers ----------------------------------------------------------------------------------------

-- The doorbell: one broadcast per kind per inserting statement (not per row, and never NOTIFY),
-- on the private topic `jobs:<kind>` that only service_role can join. It only wakes workers; the
-- jobs table is the mailbox, and workers poll it anyway in case a doorbell is missed.
create function halo.ring_job_doorbell() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  job_kind text;
begin
  for job_kind in select distinct kind from inserted_jobs loop
    perform realtime.send(jsonb_build_object('kind', job_kind), 'job_available',
                          'jobs:' || job_kind, true);
  end loop;
  return null;
end
$$;

create trigger jobs_ring_doorbell
  after insert on halo.jobs
  referencing new table as inserted_jobs
  for each statement execute function halo.ring_job_doorbell();

-- row-level security ------------------------------------------------------------------------------

-- No policy: only service_role (which bypasses RLS) and security definer functions touch jobs.
alter table halo.jobs enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Enqueues a job unless one with the same (kind, dedupe_key) exists; returns the job's id either
-- way. Triggers call this inside the transaction of the change that needs the work.
create function halo.enqueue_job(
  p_kind text,
  p_payload jsonb default '{}',
  p_dedupe_key text default null,
  p_workspace_id uuid default null,
  p_run_at timestamptz default null,
  p_max_attempts integer default 5
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  job_id bigint;
begin
  insert into halo.jobs (kind, payload, dedupe_key, workspace_id, visible_at, max_attempts)
  values (p_kind, coalesce(p_payload, '{}'), p_dedupe_key, p_workspace_id,
          coalesce(p_run_at, now()), p_max_attempts)
  on conflict (kind, dedupe_key) where dedupe_key is not null do nothing
  returning id into job_id;
  if job_id is null then
    select id into job_id from halo.jobs where kind = p_kind and dedupe_key = p_dedupe_key;
  end if;
  return job_id;
end
$$;
revoke execute on function halo.enqueue_job(text, jsonb, text, uuid, timestamptz, integer) from public;
grant execute on function halo.enqueue_job(text, jsonb, text, uuid, timestamptz, integer) to service_role;

-- Raised when a worker presents a lease it no longer holds.
create function halo.lease_lost(p_job_id bigint) returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'job % is not leased with this token', p_job_id
    using errcode = '55000',
          hint = 'The lease expired and another worker reclaimed the job, or it already finished; drop the result.';
end
$$;
revoke execute on function halo.lease_lost(bigint) from public;
grant execute on function halo.lease_lost(bigint) to service_role;

-- Job administration for the worker runtime and `halo jobs`: give a lease back without spending
-- an attempt (graceful shutdown), put a dead letter back in the queue, discard a dead letter.
-- All service_role only, like the rest of the jobs API.

-- Rings the doorbell of one kind. The insert trigger rings for new jobs; a job that becomes
-- claimable again by hand (released, retried) rings too, so a waiting worker takes it at once.
create function halo.ring_doorbell(p_kind text) returns void
language sql
security definer
set search_path = ''
as $$
  select realtime.send(jsonb_build_object('kind', p_kind), 'job_available', 'jobs:' || p_kind, true)
$$;
revoke execute on function halo.ring_doorbell(text) from public;
grant execute on function halo.ring_doorbell(text) to service_role;

-- api ---------------------------------------------------------------------------------------------

create view api.jobs with (security_invoker = true) as
  select id, workspace_id, kind, payload, dedupe_key, state, visible_at, attempts, max_attempts,
         lease_token, locked_by, last_error, created_at, updated_at, finished_at
  from halo.jobs;
comment on view api.jobs is
  'The durable job queue (transactional outbox): kind, payload, state (queued, running, done, '
  'dead), visible_at (run time when queued, lease expiry when running), attempts, lease token and '
  'last error. service_role only.';

create function api.enqueue_job(
  p_kind text,
  p_payload jsonb default '{}',
  p_dedupe_key text default null,
  p_workspace_id uuid default null,
  p_run_at timestamptz default null,
  p_max_attempts integer default 5
) returns bigint
language sql
security invoker
set search_path = ''
as $$
  select halo.enqueue_job(p_kind, p_payload, p_dedupe_key, p_workspace_id, p_run_at, p_max_attempts)
$$;
grant execute on function api.enqueue_job(text, jsonb, text, uuid, timestamptz, integer) to service_role;
comment on function api.enqueue_job(p_kind text, p_payload jsonb, p_dedupe_key text, p_workspace_id uuid, p_run_at timestamp with time zone, p_max_attempts integer) is
  'Enqueues a job of p_kind with p_payload, optionally tied to a workspace, delayed until '
  'p_run_at and limited to p_max_attempts; returns the job id. If a job with the same kind and '
  'p_dedupe_key already exists (in any state), no job is added and its id is returned. '
  'service_role only.';

-- Claims up to p_batch jobs of one kind for p_lease_seconds. Jobs whose lease expired on their
-- last attempt are dead-lettered here rather than run again.
create function api.claim_jobs(
  p_kind text,
  p_worker text,
  p_batch integer default 10,
  p_lease_seconds integer default 60
) returns setof api.jobs
language plpgsql
security invoker
set search_path = ''
as $$
declare
  claimed bigint[];
begin
  -- JOB_BATCH_MAX and JOB_LEASE_MAX_SECONDS, declared in halo_supabase/limits.py (tests/db/test_limits.py).
  if p_batch is null or p_batch not between 1 and 1000 then
    raise exception 'p_batch must be between 1 and 1000, got %', p_batch using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'p_lease_seconds must be between 1 and 86400, got %', p_lease_seconds
      using errcode = '22023';
  end if;

  with exhausted as (
    select id from halo.jobs
    where kind = p_kind and state = 'running' and visible_at <= now()
      and attempts >= max_attempts
    for update skip locked
  )
  update halo.jobs j
     set state = 'dead', lease_token = null, locked_by = null, finished_at = now(),
         updated_at = now(),
         last_error = coalesce(j.last_error || E'\n', '') || 'lease expired on the last attempt'
    from exhausted where j.id = exhausted.id;

  with picked as (
    select id from halo.jobs
    where kind = p_kind and state in ('queued', 'running') and visible_at <= now()
    order by visible_at, id
    limit p_batch
    for update skip locked
  ), updated as (
    update halo.jobs j
       set state = 'running', attempts = j.attempts + 1, lease_token = gen_random_uuid(),
           locked_by = p_worker, visible_at = now() + make_interval(secs => p_lease_seconds),
           updated_at = now()
      from picked where j.id = picked.id
    returning j.id
  )
  select coalesce(array_agg(id), '{}') into claimed from updated;

  return query select * from api.jobs where id = any(claimed) order by id;
end
$$;
grant execute on function api.claim_jobs(text, text, integer, integer) to service_role;
comment on function api.claim_jobs(p_kind text, p_worker text, p_batch integer, p_lease_seconds integer) is
  'Claims up to p_batch (1 to 1000) due jobs of p_kind for worker p_worker and leases them for '
  'p_lease_seconds (1 to 86400); queued jobs and running jobs whose lease expired are both '
  'claimed, and jobs whose lease expired on their last attempt are dead-lettered instead. Returns '
  'the claimed jobs with their new lease_token. service_role only; raises 22023 for out-of-range '
  'arguments.';

create function api.complete_job(p_job_id bigint, p_lease_token uuid) returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  update halo.jobs
     set state = 'done', lease_token = null, finished_at = now(), updated_at = now()
   where id = p_job_id and state = 'running' and lease_token = p_lease_token;
  if not found then
    perform halo.lease_lost(p_job_id);
  end if;
end
$$;
grant execute on function api.complete_job(bigint, uuid) to service_role;
comment on function api.complete_job(p_job_id bigint, p_lease_token uuid) is
  'Marks a running job done; the caller must present the current lease token. service_role only; '
  'raises 55000 when the lease was lost (expired and reclaimed, or the job already finished), in '
  'which case the result should be dropped.';

-- Records a failed attempt. The job runs again after p_retry_in_seconds, or after an exponential
-- backoff (10 s, 20 s, 40 s, ... capped at one hour); after max_attempts it is dead-lettered.
create function api.fail_job(
  p_job_id bigint,
  p_lease_token uuid,
  p_error text,
  p_retry_in_seconds integer default null
) returns api.jobs
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.jobs;
begin
  if p_retry_in_seconds is not null and p_retry_in_seconds not between 0 and 604800 then
    raise exception 'p_retry_in_seconds must be between 0 and 604800, got %', p_retry_in_seconds
      using errcode = '22023';
  end if;
  update halo.jobs j
     set state = case when j.attempts >= j.max_attempts then 'dead'::halo.job_state
                      else 'queued'::halo.job_state end,
         finished_at = case when j.attempts >= j.max_attempts then now() end,
         visible_at = now() + make_interval(secs => coalesce(
           p_retry_in_seconds, least(3600, 10 * power(2, j.attempts - 1))::integer)),
         lease_token = null, locked_by = null, updated_at = now(),
         last_error = left(p_error, 4000)
   where j.id = p_job_id and j.state = 'running' and j.lease_token = p_lease_token;
  if not found then
    perform halo.lease_lost(p_job_id);
  end if;
  select * into result from api.jobs where id = p_job_id;
  return result;
end
$$;
grant execute on function api.fail_job(bigint, uuid, text, integer) to service_role;
comment on function api.fail_job(p_job_id bigint, p_lease_token uuid, p_error text, p_retry_in_seconds integer) is
  'Records a failed attempt of a leased job with p_error: the job is queued again after '
  'p_retry_in_seconds (0 to 604800) or an exponential backoff (10 s doubling per attempt, capped '
  'at one hour), or dead-lettered once max_attempts is reached. Returns the updated job. '
  'service_role only; raises 55000 when the lease was lost and 22023 for an out-of-range '
  'p_retry_in_seconds.';

-- Extends a lease the caller still holds; returns the new expiry.
create function api.extend_job_lease(
  p_job_id bigint,
  p_lease_token uuid,
  p_lease_seconds integer default 60
) returns timestamptz
language plpgsql
security invoker
set search_path = ''
as $$
declare
  expires timestamptz;
begin
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'p_lease_seconds must be between 1 and 86400, got %', p_lease_seconds
      using errcode = '22023';
  end if;
  update halo.jobs
     set visible_at = clock_timestamp() + make_interval(secs => p_lease_seconds), updated_at = now()
   where id = p_job_id and state = 'running' and lease_token = p_lease_token
  returning visible_at into expires;
  if expires is null then
    perform halo.lease_lost(p_job_id);
  end if;
  return expires;
end
$$;
grant execute on function api.extend_job_lease(bigint, uuid, integer) to service_role;
comment on function api.extend_job_lease(p_job_id bigint, p_lease_token uuid, p_lease_seconds integer) is
  'Extends the lease of a running job held with p_lease_token to p_lease_seconds (1 to 86400) '
  'from now and returns the new expiry. service_role only; raises 55000 when the lease was lost '
  'and 22023 for an out-of-range p_lease_seconds.';

-- Gives back a lease the caller holds: the job is queued again at once and the attempt it was
-- claimed with is not counted, because the work never ran to a result (a worker shutting down).
create function api.release_job(p_job_id bigint, p_lease_token uuid) returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
  job_kind text;
begin
  update halo.jobs
     set state = 'queued', attempts = greatest(attempts - 1, 0), lease_token = null,
         locked_by = null, visible_at = now(), updated_at = now()
   where id = p_job_id and state = 'running' and lease_token = p_lease_token
  returning kind into job_kind;
  if job_kind is null then
    perform halo.lease_lost(p_job_id);
  end if;
  perform halo.ring_doorbell(job_kind);
end
$$;
grant execute on function api.release_job(bigint, uuid) to service_role;
comment on function api.release_job(p_job_id bigint, p_lease_token uuid) is
  'Gives back the lease of a running job without spending an attempt (for a worker shutting '
  'down): the job is queued again at once and workers are woken. service_role only; raises 55000 '
  'when the lease was lost.';

-- Puts a dead letter back in the queue with a fresh set of attempts (its last error is kept
-- until it runs again). Only dead jobs: a queued or running one is already on its way.
create function api.retry_job(p_job_id bigint) returns api.jobs
language plpgsql
security invoker
set search_path = ''
as $$
declare
  job_kind text;
  result api.jobs;
begin
  update halo.jobs
     set state = 'queued', attempts = 0, visible_at = now(), finished_at = null, updated_at = now()
   where id = p_job_id and state = 'dead'
  returning kind into job_kind;
  if job_kind is null then
    raise exception 'job % is not a dead letter', p_job_id
      using errcode = '55000', hint = 'Only dead jobs can be retried; list them with `halo jobs list --dead`.';
  end if;
  perform halo.ring_doorbell(job_kind);
  select * into result from api.jobs where id = p_job_id;
  return result;
end
$$;
grant execute on function api.retry_job(bigint) to service_role;
comment on function api.retry_job(p_job_id bigint) is
  'Puts a dead job back in the queue with its attempts reset to 0 (the last error is kept until '
  'it runs again) and returns it. service_role only; raises 55000 when the job is not dead.';

-- Deletes a dead letter for good. Its dedupe key is freed with it, so the same work may be
-- enqueued again later.
create function api.discard_job(p_job_id bigint) returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
begin
  delete from halo.jobs where id = p_job_id and state = 'dead';
  if not found then
    raise exception 'job % is not a dead letter', p_job_id
      using errcode = '55000', hint = 'Only dead jobs can be discarded; list them with `halo jobs list --dead`.';
  end if;
  return p_job_id;
end
$$;
grant execute on function api.discard_job(bigint) to service_role;
comment on function api.discard_job(p_job_id bigint) is
  'Deletes a dead job for good and returns its id; its dedupe key is freed, so the same work may '
  'be enqueued again. service_role only; raises 55000 when the job is not dead (or does not '
  'exist).';

create function api.complete_jobs(p_jobs jsonb) returns bigint[]
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
comment on function api.complete_jobs(p_jobs jsonb) is
  'Completes many leased jobs in one call: p_jobs is an array of 1 to 1000 {id, lease_token} '
  'objects, and each running job whose lease token matches is marked done. Returns the ids that '
  'were not completed because the lease was lost (their results should be dropped); a lost lease '
  'is not an error here. service_role only; raises 22023 for a malformed p_jobs.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.jobs to service_role;

grant select on api.jobs to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/customers.sql
-- ================================================================================================

-- Customers: companies, contacts (identified end users) and anonymous visitors (widget sessions
-- before identify; linked to a contact once identified).

-- tables ------------------------------------------------------------------------------------------

create table halo.companies (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  external_id text check (length(external_id) between 1 and 200),
  name text not null check (length(btrim(name)) between 1 and 300),
  domain text check (domain ~ '^[a-z0-9.-]+\.[a-z]{2,}$'),
  industry text,
  plan text,
  traits jsonb not null default '{}' check (jsonb_typeof(traits) = 'object'),
  custom_fields jsonb not null default '{}' check (jsonb_typeof(custom_fields) = 'object'),
  context jsonb not null default '[]' check (jsonb_typeof(context) = 'array'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, external_id)
);

create table halo.contacts (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  company_id uuid references halo.companies (id) on delete set null,
  external_id text check (length(external_id) between 1 and 200),
  email text check (email ~ '^[^@\s]+@[^@\s]+$'),
  name text check (length(name) <= 300),
  traits jsonb not null default '{}' check (jsonb_typeof(traits) = 'object'),
  custom_fields jsonb not null default '{}' check (jsonb_typeof(custom_fields) = 'object'),
  context jsonb not null default '[]' check (jsonb_typeof(context) = 'array'),
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, external_id)
);

create table halo.visitors (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  anonymous_id text not null check (length(anonymous_id) between 1 and 200),
  contact_id uuid references halo.contacts (id) on delete set null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  unique (workspace_id, anonymous_id)
);

-- indexes -----------------------------------------------------------------------------------------

create unique index contacts_workspace_email_key on halo.contacts (workspace_id, lower(email));

create index contacts_company_id_idx on halo.contacts (company_id);

create index visitors_contact_id_idx on halo.visitors (contact_id);

create index contacts_fts_idx on halo.contacts
  using gin (to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, '')));

-- triggers ----------------------------------------------------------------------------------------

create function halo.contact_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.require_same_workspace(new.workspace_id, 'halo.companies', new.company_id, 'company');
  new.updated_at := now();
  return new;
end
$$;

create trigger contacts_before_write
  before insert or update on halo.contacts
  for each row execute function halo.contact_before_write();

create function halo.visitor_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.contact_id, 'contact');
  return new;
end
$$;

create trigger visitors_before_write
  before insert or update on halo.visitors
  for each row execute function halo.visitor_before_write();

-- contact.created and contact.updated, so open dashboards refresh the customer panel.
create trigger contacts_emit_event
  after insert or update on halo.contacts
  for each row execute function halo.emit_row_event('contact');

create trigger companies_touch_updated_at
  before update on halo.companies
  for each row execute function halo.touch_updated_at();

-- row-level security ------------------------------------------------------------------------------

alter table halo.companies enable row level security;

alter table halo.contacts enable row level security;

alter table halo.visitors enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Rows that point at other rows must stay inside one workspace; foreign keys alone cannot say
-- that, so the before-write triggers of each table check it with this.
create function halo.require_same_workspace(
  p_workspace_id uuid, p_table regclass, p_id uuid, p_what text
) returns void
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  found_workspace uuid;
begin
  if p_id is null then
    return;
  end if;
  execute format('select workspace_id from %s where id = $1', p_table)
    into found_workspace using p_id;
  if found_workspace is distinct from p_workspace_id then
    raise exception '% % does not exist in workspace %', p_what, p_id, p_workspace_id
      using errcode = '23503';
  end if;
end
$$;
revoke execute on function halo.require_same_workspace(uuid, regclass, uuid, text) from public;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read companies" on halo.companies
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can add companies" on halo.companies
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('reply')));

create policy "members who can reply can edit companies" on halo.companies
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('reply')))
  with check (workspace_id in (select halo.inbox_workspaces('reply')));

create policy "members with inbox access can read contacts" on halo.contacts
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can add contacts" on halo.contacts
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('reply')));

create policy "members who can reply can edit contacts" on halo.contacts
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('reply')))
  with check (workspace_id in (select halo.inbox_workspaces('reply')));

create policy "members with inbox access can read visitors" on halo.visitors
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.companies with (security_invoker = true) as
  select id, workspace_id, external_id, name, domain, industry, plan, traits, custom_fields,
         context, created_at, updated_at
  from halo.companies;
comment on view api.companies is
  'Customer companies of a workspace, with external_id, domain, plan, traits, custom fields and '
  'context. Members with Inbox permission view may read; members with reply may insert and '
  'update; deletes are service_role only.';

create view api.contacts with (security_invoker = true) as
  select id, workspace_id, company_id, external_id, email, name, traits, custom_fields, context,
         first_seen_at, last_seen_at, created_at, updated_at
  from halo.contacts;
comment on view api.contacts is
  'Contacts (identified end users) of a workspace, with optional company, external_id, email '
  '(unique per workspace, case-insensitive), traits, custom fields and first and last seen times. '
  'Members with Inbox permission view may read; members with reply may insert and update (the '
  'company must be in the same workspace, else 23503); deletes are service_role only.';

create view api.visitors with (security_invoker = true) as
  select id, workspace_id, anonymous_id, contact_id, first_seen_at, last_seen_at
  from halo.visitors;
comment on view api.visitors is
  'Anonymous widget visitors of a workspace, keyed by anonymous_id and linked to a contact once '
  'identified. Members with Inbox permission view may read; only service_role writes.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.companies to authenticated;

grant select, insert, update on halo.contacts to authenticated;

grant select on halo.visitors to authenticated;

grant all on halo.companies to service_role;

grant all on halo.contacts to service_role;

grant all on halo.visitors to service_role;

grant select, insert, update on api.companies to authenticated;

grant select, insert, update on api.contacts to authenticated;

grant select on api.visitors to authenticated;

grant select, insert, update, delete on api.companies to service_role;

grant select, insert, update, delete on api.contacts to service_role;

grant select, insert, update, delete on api.visitors to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/settings.sql
-- ================================================================================================

-- Workspace settings: AI agents and their escalation settings (mode, confidence threshold,
-- triggers), and the inbox settings (auto-assign on reply, spam detection, offline emails, email
-- settings). Each workspace and each AI agent gets its settings row when it is created; admins
-- change them, members read them.

-- types -------------------------------------------------------------------------------------------

create type halo.ai_agent_type as enum ('customer_facing', 'internal', 'sales', 'help_center');

create type halo.escalation_mode as enum ('off', 'always', 'conditional');

-- tables ------------------------------------------------------------------------------------------

create table halo.ai_agents (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 200),
  type halo.ai_agent_type not null default 'customer_facing',
  active boolean not null default true,
  created_at timestamptz not null default now()
);

create table halo.escalation_settings (
  ai_agent_id uuid primary key references halo.ai_agents (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  mode halo.escalation_mode not null default 'conditional',
  confidence_threshold smallint not null default 50 check (confidence_threshold between 0 and 100),
  max_attempts smallint not null default 3 check (max_attempts between 1 and 10),
  require_knowledge_search boolean not null default true,
  require_web_search boolean not null default false,
  escalation_filters jsonb not null default '[]' check (jsonb_typeof(escalation_filters) = 'array'),
  priority_filters jsonb not null default '[]' check (jsonb_typeof(priority_filters) = 'array'),
  updated_at timestamptz not null default now()
);

create table halo.workspace_settings (
  workspace_id uuid primary key references halo.workspaces (id) on delete cascade,
  auto_assign_on_reply boolean not null default false,
  spam_detection_enabled boolean not null default true,
  offline_email_enabled boolean not null default false,
  offline_email_delay_minutes smallint not null default 15
    check (offline_email_delay_minutes in (5, 15, 30, 60, 120)),
  email_settings jsonb not null default '{}' check (jsonb_typeof(email_settings) = 'object'),
  updated_at timestamptz not null default now()
);

-- indexes -----------------------------------------------------------------------------------------

create index ai_agents_workspace_id_idx on halo.ai_agents (workspace_id);

create index escalation_settings_workspace_id_idx on halo.escalation_settings (workspace_id);

-- triggers ----------------------------------------------------------------------------------------

create function halo.workspace_created_settings() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into halo.workspace_settings (workspace_id) values (new.id);
  return new;
end
$$;

create trigger workspaces_create_settings
  after insert on halo.workspaces
  for each row execute function halo.workspace_created_settings();

create function halo.ai_agent_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into halo.escalation_settings (ai_agent_id, workspace_id, mode)
  values (new.id, new.workspace_id,
          case when new.type = 'internal' then 'off'::halo.escalation_mode
               else 'conditional'::halo.escalation_mode end);
  return new;
end
$$;

create trigger ai_agents_create_escalation_settings
  after insert on halo.ai_agents
  for each row execute function halo.ai_agent_created();

create function halo.escalation_settings_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select workspace_id into new.workspace_id from halo.ai_agents where id = new.ai_agent_id;
  new.updated_at := now();
  return new;
end
$$;

create trigger escalation_settings_before_write
  before insert or update on halo.escalation_settings
  for each row execute function halo.escalation_settings_before_write();

create trigger workspace_settings_touch_updated_at
  before update on halo.workspace_settings
  for each row execute function halo.touch_updated_at();

-- row-level security ------------------------------------------------------------------------------

alter table halo.ai_agents enable row level security;

alter table halo.escalation_settings enable row level security;

alter table halo.workspace_settings enable row level security;

-- policies ----------------------------------------------------------------------------------------

-- Every member may read the settings (the dashboard shows them); only admins change them.

create policy "members can read their workspace's AI agents" on halo.ai_agents
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "admins can add AI agents" on halo.ai_agents
  for insert to authenticated
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can edit AI agents" on halo.ai_agents
  for update to authenticated
  using (workspace_id in (select halo.admin_workspaces()))
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "members can read escalation settings" on halo.escalation_settings
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "admins can change escalation settings" on halo.escalation_settings
  for update to authenticated
  using (workspace_id in (select halo.admin_workspaces()))
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "members can read their workspace's settings" on halo.workspace_settings
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "admins can change workspace settings" on halo.workspace_settings
  for update to authenticated
  using (workspace_id in (select halo.admin_workspaces()))
  with check (workspace_id in (select halo.admin_workspaces()));

-- api ---------------------------------------------------------------------------------------------

create view api.ai_agents with (security_invoker = true) as
  select id, workspace_id, name, type, active, created_at from halo.ai_agents;
comment on view api.ai_agents is
  'AI agents of a workspace (name, type customer_facing, internal, sales or help_center, active '
  'flag). Every member may read; admins and super admins may insert and update. A new agent gets '
  'escalation settings automatically (mode off for internal agents, conditional otherwise).';

create view api.escalation_settings with (security_invoker = true) as
  select ai_agent_id, workspace_id, mode, confidence_threshold, max_attempts,
         require_knowledge_search, require_web_search, escalation_filters, priority_filters,
         updated_at
  from halo.escalation_settings;
comment on view api.escalation_settings is
  'Escalation settings of each AI agent: mode (off, always, conditional), confidence threshold (0 '
  'to 100), maximum attempts, required knowledge or web search and the escalation and priority '
  'filters. One row per agent, created with the agent; every member may read, admins and super '
  'admins may update.';

create view api.workspace_settings with (security_invoker = true) as
  select workspace_id, auto_assign_on_reply, spam_detection_enabled, offline_email_enabled,
         offline_email_delay_minutes, email_settings, updated_at
  from halo.workspace_settings;
comment on view api.workspace_settings is
  'Inbox settings of a workspace: auto-assign on reply, spam detection, offline emails and their '
  'delay (5, 15, 30, 60 or 120 minutes) and email settings. One row per workspace, created with '
  'it; every member may read, admins and super admins may update.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.ai_agents to authenticated;

grant select, update on halo.escalation_settings to authenticated;

grant select, update on halo.workspace_settings to authenticated;

grant all on halo.ai_agents to service_role;

grant all on halo.escalation_settings to service_role;

grant all on halo.workspace_settings to service_role;

grant select, insert, update on api.ai_agents to authenticated;

grant select, update on api.escalation_settings to authenticated;

grant select, update on api.workspace_settings to authenticated;

grant select, insert, update, delete on api.ai_agents to service_role;

-- Settings rows are created with their workspace or AI agent; nobody inserts or deletes them.
grant select, update on api.escalation_settings to service_role;

grant select, update on api.workspace_settings to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/api_keys.sql
-- ================================================================================================

-- Workspace API keys (`halo_sk_...`) for machines that act for a workspace: the conversations
-- function's AI runtimes today. Only a SHA-256 hash and a short prefix are stored; the key itself
-- is returned once by api.create_api_key. api.verify_api_key (service role) resolves a presented
-- key to its workspace and records when it was last used.

-- tables ------------------------------------------------------------------------------------------

create table halo.api_keys (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 200),
  -- The first characters of the key, so people can tell keys apart without the secret.
  prefix text not null,
  key_hash bytea not null unique,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

-- indexes -----------------------------------------------------------------------------------------

create index api_keys_workspace_id_idx on halo.api_keys (workspace_id);

create index api_keys_created_by_idx on halo.api_keys (created_by);

-- row-level security ------------------------------------------------------------------------------

alter table halo.api_keys enable row level security;

-- policies ----------------------------------------------------------------------------------------

create policy "admins can read API keys" on halo.api_keys
  for select to authenticated
  using (workspace_id in (select halo.admin_workspaces()));

create policy "admins can create API keys" on halo.api_keys
  for insert to authenticated
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can revoke API keys" on halo.api_keys
  for update to authenticated
  using (workspace_id in (select halo.admin_workspaces()))
  with check (workspace_id in (select halo.admin_workspaces()));

-- api ---------------------------------------------------------------------------------------------

-- The hash never leaves the database.
create view api.api_keys with (security_invoker = true) as
  select id, workspace_id, name, prefix, created_by, created_at, last_used_at, revoked_at
  from halo.api_keys;
comment on view api.api_keys is
  'Workspace API keys without their secret: name, prefix (the first characters of the key), '
  'creator, created, last used and revoked times. Readable by admins and super admins, who revoke '
  'a key by setting revoked_at; create keys with api.create_api_key.';

-- Creates a workspace API key and returns it; only its hash is stored, so this is the one time
-- anyone sees it. 256 random bits from two v4 UUIDs' random parts (pgcrypto is not required).
create function api.create_api_key(p_workspace_id uuid, p_name text)
returns table (id uuid, key text)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  secret text := 'halo_sk_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  created uuid;
begin
  insert into halo.api_keys (workspace_id, name, prefix, key_hash, created_by)
  values (p_workspace_id, p_name, left(secret, 14), sha256(convert_to(secret, 'UTF8')), auth.uid())
  returning halo.api_keys.id into created;
  return query select created, secret;
end
$$;
grant execute on function api.create_api_key(uuid, text) to authenticated, service_role;
comment on function api.create_api_key(p_workspace_id uuid, p_name text) is
  'Creates a workspace API key named p_name and returns its id and the key (halo_sk_ followed by '
  '64 hex characters). Only a SHA-256 hash is stored, so the key is shown this one time. Callable '
  'by admins and super admins of the workspace (row-level security rejects others with 42501) and '
  'by service_role.';

-- For the Tickets API edge function: which workspace a presented key belongs to (null when the
-- key is unknown or revoked). Records the use.
create function api.verify_api_key(p_key text) returns uuid
language sql
security invoker
set search_path = ''
as $$
  update halo.api_keys
     set last_used_at = now()
   where key_hash = sha256(convert_to(p_key, 'UTF8')) and revoked_at is null
  returning workspace_id
$$;
grant execute on function api.verify_api_key(text) to service_role;
comment on function api.verify_api_key(p_key text) is
  'Returns the workspace of a presented API key and records its last use, or null when the key is '
  'unknown or revoked. service_role only (used by the Tickets API edge function).';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.api_keys to authenticated;

grant all on halo.api_keys to service_role;

grant select, update (revoked_at) on api.api_keys to authenticated;

grant select, update on api.api_keys to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/conversations.sql
-- ================================================================================================

-- Conversations: live AI sessions (chat, voice, video, Live Help) between a contact or an
-- anonymous visitor and an AI agent, with the running signals the Live Feed shows (topic,
-- sentiment and mood, AI confidence) and, once completed, an outcome and an AI score. Their
-- messages live in halo.messages beside the tickets' (messages.sql); the API an AI runtime calls
-- is in conversation_runtime.sql, escalation and takeover in escalation_and_takeover.sql.

-- types -------------------------------------------------------------------------------------------

-- Text domains rather than enums: enum equality is not leakproof, so behind row-level security
-- PostgreSQL may not use an index for `state = 'live'`; text equality is leakproof and may.

create domain halo.conversation_mode as text check (value in ('chat', 'voice', 'video', 'livehelp'));

create domain halo.conversation_state as text check (value in ('live', 'completed'));

create domain halo.mood as text check (value in ('happy', 'neutral', 'confused', 'frustrated', 'angry'));

create domain halo.conversation_outcome as text check (value in ('resolved', 'escalated', 'abandoned'));

-- tables ------------------------------------------------------------------------------------------

create table halo.conversations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  session_id text not null check (length(session_id) between 1 and 200),
  mode halo.conversation_mode not null default 'chat',
  ai_agent_id uuid references halo.ai_agents (id) on delete set null,
  contact_id uuid references halo.contacts (id) on delete set null,
  visitor_id uuid references halo.visitors (id) on delete set null,
  state halo.conversation_state not null default 'live',
  topic text check (length(topic) <= 300),
  -- Running sentiment in [-1, 1]; mood is the badge derived from it by the AI worker.
  sentiment real check (sentiment between -1 and 1),
  mood halo.mood,
  ai_confidence smallint check (ai_confidence between 0 and 100),
  outcome halo.conversation_outcome,
  ai_score smallint check (ai_score between 0 and 100),
  ai_paused boolean not null default false,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  last_user_activity_at timestamptz,
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  unique (workspace_id, session_id),
  check ((state = 'completed') = (ended_at is not null)),
  check (outcome is null or state = 'completed'),
  -- The signals worker's running sentiment (halo_supabase.ai.mood.RunningSentiment as JSON).
  sentiment_state jsonb not null default '{}' check (jsonb_typeof(sentiment_state) = 'object'),
  -- The last customer message the running sentiment includes (dashboards match updates to it).
  scored_message_id uuid,
  -- When the last mood update was streamed: the next one waits until 500 ms after it.
  signal_at timestamptz
);

-- indexes -----------------------------------------------------------------------------------------

create index conversations_ai_agent_id_idx on halo.conversations (ai_agent_id);

create index conversations_contact_id_idx on halo.conversations (contact_id);

create index conversations_visitor_id_idx on halo.conversations (visitor_id);

-- The Live Feed: a workspace's live sessions, newest first.
create index conversations_live_idx on halo.conversations (workspace_id, started_at desc)
  where state = 'live';

create index conversations_completed_idx on halo.conversations (workspace_id, ended_at desc)
  where state = 'completed';

-- triggers ----------------------------------------------------------------------------------------

create function halo.conversation_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and (new.workspace_id <> old.workspace_id or new.session_id <> old.session_id) then
    raise exception 'a conversation cannot move to another workspace or session'
      using errcode = '22023';
  end if;
  perform halo.require_same_workspace(new.workspace_id, 'halo.ai_agents', new.ai_agent_id, 'AI agent');
  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.visitors', new.visitor_id, 'visitor');
  return new;
end
$$;

create trigger conversations_before_write
  before insert or update on halo.conversations
  for each row execute function halo.conversation_before_write();

-- conversation.started, .completed, .ai_paused_changed and .signal, on the conversation's topic.
-- The signals worker's bookkeeping columns emit nothing by themselves, and a signal carries the
-- running sentiment and the last scored message, so a dashboard can show and match it without
-- reading the row.
create function halo.conversation_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed text[];
  event_name text;
begin
  if tg_op = 'INSERT' then
    perform halo.emit_event(new.workspace_id, 'conversation.started', null, new.id,
                            jsonb_build_object('mode', new.mode));
    return null;
  end if;
  select coalesce(array_agg(key order by key), '{}') into changed
  from jsonb_each(to_jsonb(new)) n
  join jsonb_each(to_jsonb(old)) o using (key)
  where n.value is distinct from o.value
    and key not in ('last_user_activity_at', 'sentiment_state', 'signal_at');
  if cardinality(changed) = 0 then
    return null;
  end if;
  event_name := case
    when new.state <> old.state then 'conversation.completed'
    when 'ai_paused' = any (changed) then 'conversation.ai_paused_changed'
    else 'conversation.signal'
  end;
  perform halo.emit_event(new.workspace_id, event_name, null, new.id,
    jsonb_strip_nulls(jsonb_build_object(
      'changed', to_jsonb(changed), 'mood', new.mood, 'ai_confidence', new.ai_confidence,
      'outcome', new.outcome, 'sentiment', new.sentiment, 'topic', new.topic,
      'ai_score', new.ai_score, 'scored_message_id', new.scored_message_id)));
  return null;
end
$$;

create trigger conversations_emit_event
  after insert or update on halo.conversations
  for each row execute function halo.conversation_changed();

-- row-level security ------------------------------------------------------------------------------

alter table halo.conversations enable row level security;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read conversations" on halo.conversations
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- Pausing the AI or taking over is a reply-level action; AI workers write the rest as service_role.
create policy "members who can reply can pause the AI" on halo.conversations
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('reply')))
  with check (workspace_id in (select halo.inbox_workspaces('reply')));

-- api ---------------------------------------------------------------------------------------------

create view api.conversations with (security_invoker = true) as
  select id, workspace_id, session_id, mode, ai_agent_id, contact_id, visitor_id, state, topic,
         sentiment, mood, ai_confidence, outcome, ai_score, ai_paused, metadata,
         last_user_activity_at, started_at, ended_at
  from halo.conversations;
comment on view api.conversations is
  'Conversations: live AI sessions (chat, voice, video, livehelp) between a contact or anonymous '
  'visitor and an AI agent, with their running signals (topic, sentiment, mood, AI confidence), '
  'state live or completed, outcome, AI score and ai_paused flag. Members with Inbox permission '
  'view may read; changes go through the conversation RPCs.';

-- The AI worker's running signals; null leaves a field unchanged.
create function api.record_conversation_signal(
  p_conversation_id uuid,
  p_sentiment real default null,
  p_mood halo.mood default null,
  p_ai_confidence smallint default null,
  p_topic text default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.conversations;
begin
  update halo.conversations c
     set sentiment = coalesce(p_sentiment, c.sentiment),
         mood = coalesce(p_mood, c.mood),
         ai_confidence = coalesce(p_ai_confidence, c.ai_confidence),
         topic = coalesce(p_topic, c.topic)
   where c.id = p_conversation_id and c.state = 'live';
  if not found then
    raise exception 'conversation % does not exist or is not live', p_conversation_id
      using errcode = 'P0002';
  end if;
  select * into result from api.conversations where id = p_conversation_id;
  return result;
end
$$;
grant execute on function api.record_conversation_signal(uuid, real, halo.mood, smallint, text)
  to service_role;
comment on function api.record_conversation_signal(p_conversation_id uuid, p_sentiment real, p_mood halo.mood, p_ai_confidence smallint, p_topic text) is
  'Records the running signals of a live conversation (sentiment in -1 to 1, mood, AI confidence '
  '0 to 100, topic); a null argument leaves that field unchanged. Returns the conversation. '
  'service_role only (AI workers); raises P0002 when the conversation does not exist or is not '
  'live.';

-- Pause the AI on a live conversation (a teammate is about to answer) or hand it back.
create function api.set_conversation_ai_paused(p_conversation_id uuid, p_paused boolean)
returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.conversations;
begin
  update halo.conversations set ai_paused = p_paused where id = p_conversation_id;
  if not found then
    if exists (select 1 from halo.conversations where id = p_conversation_id) then
      raise exception 'pausing the AI needs Inbox: Reply permission in this workspace'
        using errcode = '42501';
    end if;
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  select * into result from api.conversations where id = p_conversation_id;
  return result;
end
$$;
grant execute on function api.set_conversation_ai_paused(uuid, boolean) to authenticated, service_role;
comment on function api.set_conversation_ai_paused(p_conversation_id uuid, p_paused boolean) is
  'Pauses the AI on a conversation (p_paused true, a teammate is about to answer) or hands it '
  'back (false); returns the conversation. Callable by members with Inbox permission reply and by '
  'service_role; raises 42501 when the caller can see the conversation but lacks reply '
  'permission, and P0002 when it does not exist or is not visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, update (ai_paused) on halo.conversations to authenticated;

grant all on halo.conversations to service_role;

grant select on api.conversations to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/ticket_status.sql
-- ================================================================================================

-- Ticket status: the stored facts and Halo's seven statuses derived from them.
--
-- A ticket stores orthogonal facts: a category (open, in_progress, snoozed, resolved, spam), a
-- priority, and who resolved it (human, ai, auto). halo.ticket_status() derives the seven statuses
-- the Inbox shows (Open, Priority, In Progress, Snoozed, Resolved, AI Resolved, Spam): Priority is
-- an open ticket of high or urgent priority, AI Resolved a ticket the AI resolved. Filters and
-- metrics never untangle an overloaded status column.
--
-- Transitions: halo.guard_ticket_transition refuses the moves that are never valid, whoever makes
-- them (out of spam only to open; out of resolved only to open or spam), with HL001. The API calls
-- that change a status, api.set_ticket_status and api.transition_ticket, are in tickets.sql: they
-- need the tickets table, which needs these types first.

-- types -------------------------------------------------------------------------------------------

-- Text domains rather than enums for every column the inbox filters on: enum equality is not
-- leakproof, so behind row-level security PostgreSQL evaluates `status_category = 'open'` only
-- after the policy and cannot use an index for it (measured on 1M tickets: 128 ms instead of
-- 1 ms for a page of the inbox). Text equality is leakproof. Priority therefore sorts as text;
-- order by a case expression where rank matters.

create domain halo.ticket_status_category as text check (value in ('open', 'in_progress', 'snoozed', 'resolved', 'spam'));

create domain halo.ticket_priority as text check (value in ('low', 'normal', 'high', 'urgent'));

create domain halo.resolver as text check (value in ('human', 'ai', 'auto'));

-- triggers ----------------------------------------------------------------------------------------

-- Status moves that are never valid, whoever makes them: out of spam only to open (not spam), out
-- of resolved only to open (reopen) or spam. Unmerge restores a pre-merge status and sets
-- halo.restoring for the length of its update.
create function halo.guard_ticket_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status_category = old.status_category
     or coalesce(current_setting('halo.restoring', true), '') = 'on' then
    return new;
  end if;
  if (old.status_category = 'spam' and new.status_category <> 'open')
     or (old.status_category = 'resolved' and new.status_category not in ('open', 'spam')) then
    raise exception 'cannot move ticket #% from % to %', old.number,
      halo.ticket_status(old.status_category, old.priority, old.resolved_by),
      halo.ticket_status(new.status_category, new.priority, new.resolved_by)
      using errcode = 'HL001',
            hint = case old.status_category when 'spam' then 'Mark it not spam first; it reopens as open.'
                   else 'Reopen it first.' end;
  end if;
  return new;
end
$$;

-- helpers -----------------------------------------------------------------------------------------

-- Halo's seven statuses from the stored facts.
create function halo.ticket_status(
  p_category halo.ticket_status_category, p_priority halo.ticket_priority, p_resolved_by halo.resolver
) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_category = 'spam' then 'spam'
    when p_category = 'resolved' and p_resolved_by = 'ai' then 'ai_resolved'
    when p_category = 'resolved' then 'resolved'
    when p_category = 'snoozed' then 'snoozed'
    when p_category = 'in_progress' then 'in_progress'
    when p_priority in ('high', 'urgent') then 'priority'
    else 'open'
  end
$$;
grant execute on function halo.ticket_status(halo.ticket_status_category, halo.ticket_priority, halo.resolver)
  to anon, authenticated, service_role;

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/tickets.sql
-- ================================================================================================

-- Tickets: async work items with a number, a subject, a status (ticket_status.sql), a priority,
-- an assignee, labels, a contact and company, and the timestamps the views sort by.
--
-- Every change goes through an `api` function checked against the caller's Inbox permission
-- (halo.ticket_for_action) and emits its event through halo.emit_event; a system message in the
-- thread is the audit trail of every status, assignment and priority change, written in the same
-- transaction. Stable errors (SQLSTATE, HTTP status through PostgREST): HL001 (400) invalid status
-- transition, 42501 (403) missing Inbox permission, P0002 (404) ticket not visible, 22023 (400)
-- bad input.

-- types -------------------------------------------------------------------------------------------

create domain halo.channel as text check (value in ('email', 'chat', 'voice', 'video', 'api', 'integration'));

-- tables ------------------------------------------------------------------------------------------

create table halo.tickets (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  -- Per-workspace, gap-free, assigned by the insert trigger.
  number bigint not null,
  subject text not null default '' check (length(subject) <= 500),
  status_category halo.ticket_status_category not null default 'open',
  priority halo.ticket_priority not null default 'normal',
  resolved_by halo.resolver,
  resolved_at timestamptz,
  snoozed_until timestamptz,
  category text check (category ~ '^[a-z0-9_]{1,50}$'),
  source text not null default 'api' check (length(source) between 1 and 50),
  channel halo.channel not null default 'email',
  assignee_id uuid,
  contact_id uuid references halo.contacts (id) on delete set null,
  company_id uuid references halo.companies (id) on delete set null,
  conversation_id uuid references halo.conversations (id) on delete set null,
  merged_into_id uuid references halo.tickets (id) on delete set null,
  metadata jsonb not null default '{}'
    check (jsonb_typeof(metadata) = 'object' and octet_length(metadata::text) <= 50000),
  custom_fields jsonb not null default '{}' check (jsonb_typeof(custom_fields) = 'object'),
  labels text[] not null default '{}',
  ai_confidence smallint check (ai_confidence between 0 and 100),
  escalation_reason text check (length(escalation_reason) <= 2000),
  ai_paused boolean not null default false,
  auto_created boolean not null default false,
  first_response_at timestamptz,
  last_customer_message_at timestamptz,
  last_activity_at timestamptz not null default now(),
  waiting_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, number),
  -- The assignee must be a member of the ticket's workspace; removing the member unassigns.
  foreign key (workspace_id, assignee_id) references halo.members (workspace_id, user_id)
    on delete set null (assignee_id),
  check ((status_category = 'resolved') = (resolved_by is not null)),
  check ((status_category = 'resolved') = (resolved_at is not null)),
  check ((status_category = 'snoozed') = (snoozed_until is not null)),
  check (merged_into_id <> id),
  -- The status facts a merged source had before the merge, restored by unmerge.
  pre_merge jsonb
);

-- indexes -----------------------------------------------------------------------------------------

create index tickets_assignee_idx on halo.tickets (workspace_id, assignee_id);

create index tickets_contact_id_idx on halo.tickets (contact_id);

create index tickets_company_id_idx on halo.tickets (company_id);

create index tickets_conversation_id_idx on halo.tickets (conversation_id);

create index tickets_merged_into_id_idx on halo.tickets (merged_into_id);

-- The inbox list: a workspace's tickets by status, most recently active first.
create index tickets_inbox_idx on halo.tickets (workspace_id, status_category, last_activity_at desc);

-- The snooze waker's due list.
create index tickets_snoozed_until_idx on halo.tickets (snoozed_until) where status_category = 'snoozed';

create index tickets_labels_idx on halo.tickets using gin (labels);

-- Indexes for the built-in views' first pages and counts (docs/performance.md).
create index tickets_active_idx on halo.tickets (workspace_id, last_activity_at desc, id desc)
  where status_category in ('open', 'in_progress');

create index tickets_assignee_active_idx on halo.tickets (workspace_id, assignee_id, last_activity_at desc)
  where status_category in ('open', 'in_progress');

create index tickets_category_idx on halo.tickets (workspace_id, category, last_activity_at desc)
  where category is not null;

create index tickets_source_idx on halo.tickets (workspace_id, source, last_activity_at desc);

create index tickets_last_activity_idx on halo.tickets (workspace_id, last_activity_at desc);

create index tickets_counts_idx on halo.tickets (workspace_id, status_category, priority, resolved_by);

-- Full-text search (language-neutral 'simple' configuration: the inbox is multilingual).
create index tickets_subject_fts_idx on halo.tickets using gin (to_tsvector('simple', subject));

-- The Priority view's first page: open tickets of high or urgent priority by last activity.
create index tickets_priority_view_idx on halo.tickets (workspace_id, last_activity_at desc)
  where status_category = 'open' and priority in ('high', 'urgent');

-- triggers ----------------------------------------------------------------------------------------

create function halo.ticket_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    update halo.workspace_counters
       set last_ticket_number = last_ticket_number + 1
     where workspace_id = new.workspace_id
    returning last_ticket_number into new.number;
    if new.number is null then
      raise exception 'workspace % does not exist', new.workspace_id using errcode = '23503';
    end if;
  elsif new.workspace_id <> old.workspace_id or new.number <> old.number then
    raise exception 'a ticket keeps its workspace and number' using errcode = '22023';
  end if;

  if new.status_category = 'resolved' then
    new.resolved_by := coalesce(new.resolved_by, case when auth.uid() is null
                                                      then 'auto'::halo.resolver
                                                      else 'human'::halo.resolver end);
    new.resolved_at := coalesce(case when tg_op = 'UPDATE' and old.status_category = 'resolved'
                                     then old.resolved_at end, now());
  else
    new.resolved_by := null;
    new.resolved_at := null;
  end if;
  if new.status_category <> 'snoozed' then
    new.snoozed_until := null;
  elsif new.snoozed_until is null then
    raise exception 'a snoozed ticket needs snoozed_until' using errcode = '23502';
  end if;

  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.companies', new.company_id, 'company');
  perform halo.require_same_workspace(new.workspace_id, 'halo.conversations', new.conversation_id, 'conversation');
  perform halo.require_same_workspace(new.workspace_id, 'halo.tickets', new.merged_into_id, 'ticket');
  new.updated_at := now();
  return new;
end
$$;

create trigger tickets_before_write
  before insert or update on halo.tickets
  for each row execute function halo.ticket_before_write();

-- One event per change (ticket.created, ticket.status_changed, ticket.assigned, ticket.updated),
-- plus system messages for status, assignee and priority changes: the audit trail.
create function halo.ticket_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed text[];
  old_status text;
  new_status text := halo.ticket_status(new.status_category, new.priority, new.resolved_by);
  event_name text;
begin
  if tg_op = 'INSERT' then
    perform halo.emit_event(new.workspace_id, 'ticket.created', new.id, new.conversation_id,
      jsonb_build_object('number', new.number, 'status', new_status));
    return null;
  end if;

  changed := halo.ticket_changed_fields(new, old);
  if cardinality(changed) = 0 then
    return null;
  end if;
  old_status := halo.ticket_status(old.status_category, old.priority, old.resolved_by);

  if new_status <> old_status then
    insert into halo.messages (workspace_id, ticket_id, kind, direction, author_kind, author_user_id, activity)
    values (new.workspace_id, new.id, 'system', 'internal', 'system', auth.uid(),
            jsonb_build_object('action', 'status_changed', 'from', old_status, 'to', new_status));
  end if;
  if new.assignee_id is distinct from old.assignee_id then
    insert into halo.messages (workspace_id, ticket_id, kind, direction, author_kind, author_user_id, activity)
    values (new.workspace_id, new.id, 'system', 'internal', 'system', auth.uid(),
            jsonb_build_object('action', 'assigned', 'from', old.assignee_id, 'to', new.assignee_id));
  end if;
  if new.priority <> old.priority then
    insert into halo.messages (workspace_id, ticket_id, kind, direction, author_kind, author_user_id, activity)
    values (new.workspace_id, new.id, 'system', 'internal', 'system', auth.uid(),
            jsonb_build_object('action', 'priority_changed', 'from', old.priority, 'to', new.priority));
  end if;

  event_name := case
    when new_status <> old_status then 'ticket.status_changed'
    when new.assignee_id is distinct from old.assignee_id then 'ticket.assigned'
    else 'ticket.updated'
  end;
  perform halo.emit_event(new.workspace_id, event_name, new.id, new.conversation_id,
    jsonb_strip_nulls(jsonb_build_object(
      'changed', to_jsonb(changed), 'status', new_status, 'assignee_id', new.assignee_id)));
  return null;
end
$$;

create trigger tickets_emit_event
  after insert or update on halo.tickets
  for each row execute function halo.ticket_changed();

create trigger tickets_guard_transition
  before update of status_category on halo.tickets
  for each row execute function halo.guard_ticket_transition();

-- row-level security ------------------------------------------------------------------------------

alter table halo.tickets enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Fields whose change is worth an event; bookkeeping (activity timestamps) is not.
create function halo.ticket_changed_fields(p_new halo.tickets, p_old halo.tickets) returns text[]
language sql immutable
set search_path = ''
as $$
  select coalesce(array_agg(key order by key), '{}')
  from jsonb_each(to_jsonb(p_new)) n
  join jsonb_each(to_jsonb(p_old)) o using (key)
  where n.value is distinct from o.value
    and key not in ('updated_at', 'last_activity_at', 'first_response_at',
                    'last_customer_message_at', 'waiting_since', 'resolved_at')
$$;

-- Raised by the ticket RPCs when the update matched nothing: say whether the ticket is invisible
-- (or absent) or visible but not the caller's to change.
create function halo.ticket_not_changed(p_ticket_id uuid) returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if exists (select 1 from halo.tickets where id = p_ticket_id) then
    raise exception 'changing ticket % needs Inbox: Manage permission in its workspace', p_ticket_id
      using errcode = '42501';
  end if;
  raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
end
$$;
grant execute on function halo.ticket_not_changed(uuid) to authenticated, service_role;

-- Raises 42501 unless the caller has at least `p_minimum` Inbox permission in the ticket's
-- workspace (service_role always may); P0002 when the ticket is not visible. Returns the ticket.
create function halo.ticket_for_action(p_ticket_id uuid, p_minimum halo.inbox_permission, p_what text)
returns halo.tickets
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets;
begin
  select * into ticket from halo.tickets where id = p_ticket_id;
  if ticket.id is null then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(ticket.workspace_id, p_minimum) then
    raise exception '% needs Inbox: % permission in the ticket''s workspace', p_what, initcap(p_minimum::text)
      using errcode = '42501';
  end if;
  return ticket;
end
$$;
grant execute on function halo.ticket_for_action(uuid, halo.inbox_permission, text) to authenticated, service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read tickets" on halo.tickets
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- Replying includes opening tickets; assigning someone else at creation is a manage action.
create policy "members who can reply can open tickets" on halo.tickets
  for insert to authenticated
  with check (
    workspace_id in (select halo.inbox_workspaces('reply'))
    and (assignee_id is null or assignee_id = (select auth.uid())
         or workspace_id in (select halo.inbox_workspaces('manage')))
  );

create policy "members who manage the inbox can change tickets" on halo.tickets
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('manage')))
  with check (workspace_id in (select halo.inbox_workspaces('manage')));

-- api ---------------------------------------------------------------------------------------------

create view api.tickets with (security_invoker = true) as
  select id, workspace_id, number, subject,
         halo.ticket_status(status_category, priority, resolved_by) as status,
         status_category, priority, resolved_by, resolved_at, snoozed_until, category, source,
         channel, assignee_id, contact_id, company_id, conversation_id, merged_into_id, metadata,
         custom_fields, labels, ai_confidence, escalation_reason, ai_paused, auto_created,
         first_response_at, last_customer_message_at, last_activity_at, waiting_since,
         created_at, updated_at
  from halo.tickets;
comment on view api.tickets is
  'Tickets of the workspaces the caller can read (Inbox permission view or higher), with the '
  'derived status (open, priority, in_progress, snoozed, resolved, ai_resolved, spam) next to its '
  'stored facts status_category, priority and resolved_by, plus assignee, customer links, labels, '
  'custom fields, AI fields and activity timestamps. Read-only: change tickets through the ticket '
  'RPCs.';

-- Opens a ticket. p_status is one of the seven statuses; its facts are derived here.
create function api.create_ticket(
  p_workspace_id uuid,
  p_subject text,
  p_status text default 'open',
  p_priority halo.ticket_priority default null,
  p_source text default 'api',
  p_channel halo.channel default 'email',
  p_category text default null,
  p_contact_id uuid default null,
  p_company_id uuid default null,
  p_conversation_id uuid default null,
  p_assignee_id uuid default null,
  p_metadata jsonb default '{}',
  p_custom_fields jsonb default '{}',
  p_labels text[] default '{}',
  p_ai_confidence smallint default null,
  p_escalation_reason text default null,
  p_auto_created boolean default false
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket_id uuid;
  result api.tickets;
begin
  if p_status is null or p_status not in ('open', 'priority', 'in_progress', 'spam') then
    raise exception 'a new ticket''s status must be open, priority, in_progress or spam, got %', p_status
      using errcode = '22023';
  end if;
  if p_metadata is not null and octet_length(p_metadata::text) > 50000 then
    raise exception 'metadata is % bytes; the limit is 50000', octet_length(p_metadata::text)
      using errcode = '22023';
  end if;
  if not halo.has_inbox_permission(p_workspace_id, 'reply') then
    raise exception 'opening a ticket needs Inbox: Reply permission in workspace %', p_workspace_id
      using errcode = '42501';
  end if;
  insert into halo.tickets (
    workspace_id, subject, status_category, priority, source, channel, category, contact_id,
    company_id, conversation_id, assignee_id, metadata, custom_fields, labels, ai_confidence,
    escalation_reason, auto_created)
  values (
    p_workspace_id, coalesce(p_subject, ''),
    case p_status when 'priority' then 'open' else p_status end::halo.ticket_status_category,
    coalesce(p_priority, case when p_status = 'priority' then 'high' else 'normal' end::halo.ticket_priority),
    coalesce(p_source, 'api'), coalesce(p_channel, 'email'), p_category, p_contact_id,
    p_company_id, p_conversation_id, p_assignee_id, coalesce(p_metadata, '{}'),
    coalesce(p_custom_fields, '{}'), coalesce(p_labels, '{}'), p_ai_confidence,
    p_escalation_reason, coalesce(p_auto_created, false))
  returning id into ticket_id;
  select * into result from api.tickets where id = ticket_id;
  return result;
end
$$;
grant execute on function api.create_ticket(uuid, text, text, halo.ticket_priority, text, halo.channel,
  text, uuid, uuid, uuid, uuid, jsonb, jsonb, text[], smallint, text, boolean)
  to authenticated, service_role;
comment on function api.create_ticket(p_workspace_id uuid, p_subject text, p_status text, p_priority halo.ticket_priority, p_source text, p_channel halo.channel, p_category text, p_contact_id uuid, p_company_id uuid, p_conversation_id uuid, p_assignee_id uuid, p_metadata jsonb, p_custom_fields jsonb, p_labels text[], p_ai_confidence smallint, p_escalation_reason text, p_auto_created boolean) is
  'Opens a ticket in p_workspace_id and returns it; p_status must be open, priority, in_progress '
  'or spam (priority means an open ticket with priority high unless p_priority is given). '
  'Callable by members with Inbox permission reply (assigning someone other than themselves needs '
  'manage) and by service_role. Raises 22023 for an invalid status or metadata over 50000 bytes, '
  '42501 when not allowed, and 23503 when a linked contact, company or conversation is not in the '
  'workspace.';

-- Moves a ticket to one of the seven statuses (manage permission). open and priority differ only
-- in priority; resolved is resolved by a human (or `auto` when no user is signed in), ai_resolved
-- by the AI; snoozed needs a future p_snoozed_until.
create function api.set_ticket_status(
  p_ticket_id uuid,
  p_status text,
  p_snoozed_until timestamptz default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  if p_status is null or p_status not in
     ('open', 'priority', 'in_progress', 'snoozed', 'resolved', 'ai_resolved', 'spam') then
    raise exception 'unknown status %; use open, priority, in_progress, snoozed, resolved, ai_resolved or spam', p_status
      using errcode = '22023';
  end if;
  if p_status = 'snoozed' and (p_snoozed_until is null or p_snoozed_until <= now()) then
    raise exception 'snoozing needs p_snoozed_until in the future' using errcode = '22023';
  end if;
  update halo.tickets t
     set status_category = case p_status when 'priority' then 'open' when 'ai_resolved' then 'resolved'
                                else p_status end::halo.ticket_status_category,
         priority = case when p_status = 'priority' and t.priority not in ('high', 'urgent')
                           then 'high'::halo.ticket_priority
                         when p_status = 'open' and t.priority in ('high', 'urgent')
                           then 'normal'::halo.ticket_priority
                         else t.priority end,
         resolved_by = case p_status when 'ai_resolved' then 'ai'::halo.resolver
                                     when 'resolved' then case when auth.uid() is null
                                                               then 'auto'::halo.resolver
                                                               else 'human'::halo.resolver end
                       end,
         snoozed_until = case when p_status = 'snoozed' then p_snoozed_until end
   where t.id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.set_ticket_status(uuid, text, timestamptz) to authenticated, service_role;
comment on function api.set_ticket_status(p_ticket_id uuid, p_status text, p_snoozed_until timestamp with time zone) is
  'Moves a ticket to one of the seven statuses: open and priority only adjust the priority (open '
  'lowers high or urgent to normal, priority raises to high), resolved is recorded as resolved by '
  'a human (or auto without a signed-in user), ai_resolved as resolved by the AI, and snoozed '
  'needs p_snoozed_until in the future. Callable by members with Inbox permission manage and by '
  'service_role. Raises 22023 for an unknown status or missing snooze time, HL001 for a move the '
  'transition guard forbids (out of spam other than to open, out of resolved other than to open '
  'or spam), 42501 when the caller can see but not change the ticket, and P0002 when it does not '
  'exist.';

-- Assigns a ticket to a member of its workspace, or unassigns it with null (manage permission).
create function api.assign_ticket(p_ticket_id uuid, p_assignee_id uuid) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  update halo.tickets set assignee_id = p_assignee_id where id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.assign_ticket(uuid, uuid) to authenticated, service_role;
comment on function api.assign_ticket(p_ticket_id uuid, p_assignee_id uuid) is
  'Assigns a ticket to a member of its workspace, or unassigns it when p_assignee_id is null, and '
  'returns the ticket. Callable by members with Inbox permission manage and by service_role; '
  'raises 42501 when the caller can see but not change the ticket, P0002 when it does not exist, '
  'and 23503 when the assignee is not a member of the workspace.';

-- Changes a ticket's other fields (manage permission); null leaves a field unchanged.
create function api.update_ticket(
  p_ticket_id uuid,
  p_subject text default null,
  p_priority halo.ticket_priority default null,
  p_category text default null,
  p_labels text[] default null,
  p_metadata jsonb default null,
  p_custom_fields jsonb default null,
  p_ai_paused boolean default null,
  p_contact_id uuid default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  if p_metadata is not null and octet_length(p_metadata::text) > 50000 then
    raise exception 'metadata is % bytes; the limit is 50000', octet_length(p_metadata::text)
      using errcode = '22023';
  end if;
  update halo.tickets t
     set subject = coalesce(p_subject, t.subject),
         priority = coalesce(p_priority, t.priority),
         category = coalesce(p_category, t.category),
         labels = coalesce(p_labels, t.labels),
         metadata = coalesce(p_metadata, t.metadata),
         custom_fields = coalesce(p_custom_fields, t.custom_fields),
         ai_paused = coalesce(p_ai_paused, t.ai_paused),
         contact_id = coalesce(p_contact_id, t.contact_id)
   where t.id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.update_ticket(uuid, text, halo.ticket_priority, text, text[], jsonb, jsonb, boolean, uuid)
  to authenticated, service_role;
comment on function api.update_ticket(p_ticket_id uuid, p_subject text, p_priority halo.ticket_priority, p_category text, p_labels text[], p_metadata jsonb, p_custom_fields jsonb, p_ai_paused boolean, p_contact_id uuid) is
  'Changes the subject, priority, category, labels, metadata, custom fields, ai_paused flag or '
  'contact of a ticket; a null argument leaves that field unchanged (fields cannot be cleared '
  'here). Callable by members with Inbox permission manage and by service_role; raises 22023 for '
  'metadata over 50000 bytes, 42501 when the caller can see but not change the ticket, and P0002 '
  'when it does not exist.';

-- One status action on a ticket (Inbox: Manage). Actions and where they are valid:
--   open            in_progress or snoozed -> open         mark_priority   open/in_progress/snoozed -> priority
--   unmark_priority priority -> open                       start_progress  open/priority/snoozed -> in_progress
--   snooze          open/priority/in_progress/snoozed -> snoozed (p_snoozed_until in the future)
--   resolve         open/priority/in_progress/snoozed -> resolved (p_resolved_by: human for
--                   teammates; ai or auto only for service_role)
--   reopen          resolved/ai_resolved -> open          mark_spam   anything but spam -> spam
--   not_spam        spam -> open
-- Anything else raises HL001 naming the ticket's status and the valid actions.
create function api.transition_ticket(
  p_ticket_id uuid,
  p_action text,
  p_snoozed_until timestamptz default null,
  p_resolved_by text default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'manage', 'changing a ticket''s status');
  current_status text := halo.ticket_status(ticket.status_category, ticket.priority, ticket.resolved_by);
  valid text[] := case current_status
    when 'open' then array['mark_priority', 'start_progress', 'snooze', 'resolve', 'mark_spam']
    when 'priority' then array['unmark_priority', 'start_progress', 'snooze', 'resolve', 'mark_spam']
    when 'in_progress' then array['open', 'mark_priority', 'snooze', 'resolve', 'mark_spam']
    when 'snoozed' then array['open', 'mark_priority', 'start_progress', 'snooze', 'resolve', 'mark_spam']
    when 'resolved' then array['reopen', 'mark_spam']
    when 'ai_resolved' then array['reopen', 'mark_spam']
    else array['not_spam'] end;
  resolver halo.resolver;
  result api.tickets;
begin
  if p_action is null or p_action not in ('open', 'mark_priority', 'unmark_priority', 'start_progress',
      'snooze', 'resolve', 'reopen', 'mark_spam', 'not_spam') then
    raise exception 'unknown action %; use open, mark_priority, unmark_priority, start_progress, snooze, resolve, reopen, mark_spam or not_spam', p_action
      using errcode = '22023';
  end if;
  if not p_action = any (valid) then
    raise exception 'cannot % a ticket that is %', replace(p_action, '_', ' '), current_status
      using errcode = 'HL001',
            detail = jsonb_build_object('status', current_status, 'action', p_action, 'valid_actions', valid)::text,
            hint = format('From %s the valid actions are: %s.', current_status, array_to_string(valid, ', '));
  end if;
  if p_action = 'snooze' and (p_snoozed_until is null or p_snoozed_until <= now()) then
    raise exception 'snoozing needs p_snoozed_until in the future' using errcode = '22023';
  end if;
  if p_action = 'resolve' then
    if p_resolved_by is not null and p_resolved_by not in ('human', 'ai', 'auto') then
      raise exception 'p_resolved_by must be human, ai or auto, got %', p_resolved_by using errcode = '22023';
    end if;
    resolver := coalesce(p_resolved_by, case when auth.uid() is null then 'auto' else 'human' end);
    if auth.uid() is not null and resolver <> 'human' then
      raise exception 'a teammate resolves as human; ai and auto are recorded by the AI runtime and automations'
        using errcode = '42501';
    end if;
  end if;

  update halo.tickets t
     set status_category = case p_action
           when 'start_progress' then 'in_progress'
           when 'snooze' then 'snoozed'
           when 'resolve' then 'resolved'
           when 'mark_spam' then 'spam'
           else 'open' end::halo.ticket_status_category,
         priority = case
           when p_action = 'mark_priority' and t.priority not in ('high', 'urgent') then 'high'
           when p_action in ('unmark_priority', 'open') and t.priority in ('high', 'urgent') then 'normal'
           else t.priority end::halo.ticket_priority,
         resolved_by = resolver,
         snoozed_until = case when p_action = 'snooze' then p_snoozed_until end
   where t.id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.transition_ticket(uuid, text, timestamptz, text) to authenticated, service_role;
comment on function api.transition_ticket(p_ticket_id uuid, p_action text, p_snoozed_until timestamp with time zone, p_resolved_by text) is
  'Applies one status action to a ticket and returns it: open, mark_priority, unmark_priority, '
  'start_progress, snooze (needs p_snoozed_until in the future), resolve, reopen, mark_spam or '
  'not_spam, each valid only from certain statuses. Callable by members with Inbox permission '
  'manage and by service_role; p_resolved_by (human, ai, auto) defaults to human for teammates '
  'and auto for service_role, and only service_role may pass ai or auto. Raises HL001 for an '
  'action not valid from the current status (detail lists the valid actions), 22023 for an '
  'unknown action or bad argument, 42501 when not allowed, and P0002 when the ticket is not '
  'visible.';

-- Adds and removes labels (Inbox: Manage). A label is 1-50 characters without commas.
create function api.set_ticket_labels(
  p_ticket_id uuid, p_add text[] default '{}', p_remove text[] default '{}'
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'manage', 'labelling a ticket');
  bad text;
  result api.tickets;
begin
  select l into bad from unnest(coalesce(p_add, '{}')) l
   where l is null or length(btrim(l)) not between 1 and 50 or l like '%,%' limit 1;
  if found then
    raise exception 'invalid label %: 1-50 characters, no commas', coalesce(quote_literal(bad), 'null')
      using errcode = '22023';
  end if;
  update halo.tickets t
     set labels = array(select distinct l from unnest(t.labels || coalesce(p_add, '{}')) l
                        where not l = any (coalesce(p_remove, '{}')) order by l)
   where t.id = ticket.id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.set_ticket_labels(uuid, text[], text[]) to authenticated, service_role;
comment on function api.set_ticket_labels(p_ticket_id uuid, p_add text[], p_remove text[]) is
  'Adds the labels in p_add and removes those in p_remove, keeping the labels sorted and '
  'distinct, and returns the ticket; a label is 1 to 50 characters without commas. Callable by '
  'members with Inbox permission manage and by service_role; raises 22023 for an invalid label, '
  '42501 when not allowed, and P0002 when the ticket is not visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.tickets to authenticated;

grant all on halo.tickets to service_role;

grant select on api.tickets to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/messages.sql
-- ================================================================================================

-- Messages: one model for ticket threads and conversation streams. A message has a kind (chat,
-- email, note, system, whisper), a direction, an author (customer, teammate, AI agent, alias user,
-- system), text and HTML, the email threading headers, attachment metadata and mentions.
--
-- halo.message_created keeps the ticket's activity timestamps, reopens a ticket on a customer
-- reply and emits message.created; api.append_message is the general way in (service role and
-- members), while replies.sql, inbound_email.sql and conversation_runtime.sql are the paths the
-- product uses.

-- types -------------------------------------------------------------------------------------------

create domain halo.message_kind as text check (value in ('chat', 'email', 'note', 'system', 'whisper'));

create domain halo.message_direction as text check (value in ('inbound', 'outbound', 'internal'));

create domain halo.author_kind as text check (value in ('customer', 'teammate', 'ai_agent', 'alias_user', 'system'));

-- tables ------------------------------------------------------------------------------------------

create table halo.messages (
  id uuid primary key default gen_random_uuid(),
  -- Copied from the ticket or conversation by the insert trigger.
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  ticket_id uuid references halo.tickets (id) on delete cascade,
  conversation_id uuid references halo.conversations (id) on delete cascade,
  kind halo.message_kind not null,
  direction halo.message_direction not null,
  author_kind halo.author_kind not null,
  -- The teammate who wrote it (also behind an alias user), or who caused a system message.
  author_user_id uuid references auth.users (id) on delete set null,
  author_contact_id uuid references halo.contacts (id) on delete set null,
  author_visitor_id uuid references halo.visitors (id) on delete set null,
  author_ai_agent_id uuid references halo.ai_agents (id) on delete set null,
  author_alias_user_id uuid references halo.alias_users (id) on delete set null,
  body_text text check (length(body_text) <= 200000),
  body_html text check (length(body_html) <= 1000000),
  -- Threading: the RFC 5322 Message-ID (without <>), its In-Reply-To and References.
  email_message_id text check (length(email_message_id) <= 1000),
  email_in_reply_to text,
  email_references text[],
  -- The other headers worth keeping (from, to, cc, subject, auto-submitted, ...).
  email_headers jsonb check (jsonb_typeof(email_headers) = 'object'),
  -- [{name, content_type, size, storage_path}]; the bytes live in Storage.
  attachments jsonb not null default '[]' check (jsonb_typeof(attachments) = 'array'),
  mentions uuid[] not null default '{}',
  -- System messages: {action, from, to}.
  activity jsonb,
  -- Lets a dashboard match its optimistic message with the stored one.
  client_echo_id text check (length(client_echo_id) <= 200),
  created_at timestamptz not null default now(),
  check (num_nonnulls(ticket_id, conversation_id) >= 1),
  check ((kind in ('note', 'system', 'whisper')) = (direction = 'internal')),
  check (author_kind <> 'customer' or direction = 'inbound'),
  check (kind <> 'system' or author_kind = 'system'),
  check (kind <> 'whisper' or conversation_id is not null),
  -- The ticket a message was merged from, so unmerge can move it back.
  merged_from_ticket_id uuid references halo.tickets (id) on delete set null
);

-- indexes -----------------------------------------------------------------------------------------

create index messages_ticket_thread_idx on halo.messages (ticket_id, created_at);

create index messages_conversation_thread_idx on halo.messages (conversation_id, created_at)
  where conversation_id is not null;

create index messages_author_user_id_idx on halo.messages (author_user_id) where author_user_id is not null;

create index messages_author_contact_id_idx on halo.messages (author_contact_id) where author_contact_id is not null;

create index messages_author_visitor_id_idx on halo.messages (author_visitor_id) where author_visitor_id is not null;

create index messages_author_ai_agent_id_idx on halo.messages (author_ai_agent_id) where author_ai_agent_id is not null;

create index messages_author_alias_user_id_idx on halo.messages (author_alias_user_id) where author_alias_user_id is not null;

create index messages_merged_from_ticket_id_idx on halo.messages (merged_from_ticket_id)
  where merged_from_ticket_id is not null;

create index messages_body_fts_idx on halo.messages
  using gin (to_tsvector('simple', coalesce(body_text, '')))
  where kind <> 'system';

create unique index messages_email_message_id_key on halo.messages (workspace_id, email_message_id);

-- triggers ----------------------------------------------------------------------------------------

-- Before a message is stored: take the workspace from its ticket or conversation, and check that
-- everything it points at lives in that workspace.
create function halo.message_before_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  parent_workspace uuid;
begin
  if new.ticket_id is not null then
    select workspace_id into parent_workspace from halo.tickets where id = new.ticket_id;
    if parent_workspace is null then
      raise exception 'ticket % does not exist', new.ticket_id using errcode = 'P0002';
    end if;
  end if;
  if new.conversation_id is not null then
    select workspace_id into new.workspace_id from halo.conversations where id = new.conversation_id;
    if new.workspace_id is null then
      raise exception 'conversation % does not exist', new.conversation_id using errcode = 'P0002';
    end if;
    if parent_workspace is not null and parent_workspace <> new.workspace_id then
      raise exception 'ticket and conversation belong to different workspaces' using errcode = '23503';
    end if;
  else
    new.workspace_id := parent_workspace;
  end if;
  -- Checked here rather than as table constraints: the author's row may be deleted later (the
  -- foreign keys then set null), and the message must survive that.
  if new.author_kind in ('teammate', 'alias_user') and new.author_user_id is null then
    raise exception 'a % message needs author_user_id', new.author_kind using errcode = '23502';
  end if;
  if new.author_kind = 'alias_user' and new.author_alias_user_id is null then
    raise exception 'an alias_user message needs author_alias_user_id' using errcode = '23502';
  end if;
  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.author_contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.visitors', new.author_visitor_id, 'visitor');
  perform halo.require_same_workspace(new.workspace_id, 'halo.ai_agents', new.author_ai_agent_id, 'AI agent');
  perform halo.require_same_workspace(new.workspace_id, 'halo.alias_users', new.author_alias_user_id, 'alias user');
  if cardinality(new.mentions) > 0 and exists (
    select 1 from unnest(new.mentions) mentioned(user_id)
    where not exists (select 1 from halo.members m
                      where m.workspace_id = new.workspace_id and m.user_id = mentioned.user_id)
  ) then
    raise exception 'every mentioned user must be a member of the workspace' using errcode = '23503';
  end if;
  return new;
end
$$;

create trigger messages_before_insert
  before insert on halo.messages
  for each row execute function halo.message_before_insert();

create function halo.message_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  from_customer boolean := new.author_kind = 'customer' and new.kind in ('chat', 'email');
  -- Bounces and auto-replies (marked by the email worker) join a thread but never reopen it.
  automatic boolean := halo.is_automatic_email(new.email_headers->>'halo_kind');
  public_reply boolean := new.direction = 'outbound' and new.kind in ('chat', 'email');
  auto_assign boolean := false;
  ticket halo.tickets;
  updated halo.tickets;
begin
  if new.kind = 'system' then
    return null;
  end if;

  insert into halo.mentions (message_id, user_id, workspace_id, ticket_id)
  select new.id, mentioned, new.workspace_id, new.ticket_id from unnest(new.mentions) mentioned
  on conflict do nothing;

  -- The row is locked first, as the update would lock it, so the values are computed from the
  -- ticket as it is now; an update that would change nothing is skipped.
  if new.ticket_id is not null then
    select * into ticket from halo.tickets t where t.id = new.ticket_id for no key update;
  end if;
  if ticket.id is not null then
    if public_reply then
      select coalesce(s.auto_assign_on_reply, false) into auto_assign
        from halo.workspace_settings s where s.workspace_id = new.workspace_id;
    end if;
    updated := ticket;
    updated.last_activity_at := greatest(ticket.last_activity_at, new.created_at);
    if from_customer then
      updated.last_customer_message_at := new.created_at;
      updated.waiting_since := coalesce(ticket.waiting_since, new.created_at);
    elsif public_reply then
      updated.waiting_since := null;
    end if;
    if public_reply and new.author_kind <> 'customer' then
      updated.first_response_at := coalesce(ticket.first_response_at, new.created_at);
    end if;
    if from_customer and not automatic and ticket.status_category in ('resolved', 'snoozed') then
      updated.status_category := 'open';
    end if;
    if public_reply and coalesce(auto_assign, false) and ticket.assignee_id is null
       and new.author_kind in ('teammate', 'alias_user') then
      updated.assignee_id := new.author_user_id;
    end if;
    if updated is distinct from ticket then
      update halo.tickets t
         set last_activity_at = updated.last_activity_at,
             last_customer_message_at = updated.last_customer_message_at,
             waiting_since = updated.waiting_since,
             first_response_at = updated.first_response_at,
             status_category = updated.status_category,
             assignee_id = updated.assignee_id
       where t.id = new.ticket_id;
    end if;
  end if;

  if new.conversation_id is not null and new.author_kind = 'customer' then
    update halo.conversations set last_user_activity_at = new.created_at
     where id = new.conversation_id;
  end if;

  if new.kind = 'email' and new.direction = 'outbound' then
    perform halo.enqueue_job('email.send', jsonb_build_object('message_id', new.id),
                             'message:' || new.id, new.workspace_id);
  end if;

  perform halo.emit_event(new.workspace_id, 'message.created', new.ticket_id, new.conversation_id,
    jsonb_build_object('message_id', new.id, 'kind', new.kind, 'author_kind', new.author_kind));
  return null;
end
$$;

create trigger messages_created
  after insert on halo.messages
  for each row execute function halo.message_created();

-- row-level security ------------------------------------------------------------------------------

alter table halo.messages enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Whether an inbound email of this kind (the email worker's classification) is automatic mail:
-- auto-replies and bounces open no ticket and reopen none. The SQL face of `Kind.automatic` in
-- halo_supabase/email/classify.py, which decides it; tests/db/test_automatic_mail.py holds the
-- two equal for every kind.
create function halo.is_automatic_email(p_kind text) returns boolean
language sql immutable
set search_path = ''
as $$
  select coalesce(p_kind in ('auto_reply', 'bounce'), false)
$$;
grant execute on function halo.is_automatic_email(text) to authenticated, service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read messages" on halo.messages
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can write messages as themselves" on halo.messages
  for insert to authenticated
  with check (
    workspace_id in (select halo.inbox_workspaces('reply'))
    and author_kind in ('teammate', 'alias_user')
    and author_user_id = (select auth.uid())
  );

-- api ---------------------------------------------------------------------------------------------

create view api.messages with (security_invoker = true) as
  select id, workspace_id, ticket_id, conversation_id, kind, direction, author_kind,
         author_user_id, author_contact_id, author_visitor_id, author_ai_agent_id,
         author_alias_user_id, body_text, body_html, email_message_id, email_in_reply_to,
         email_references, email_headers, attachments, mentions, activity, client_echo_id,
         created_at
  from halo.messages;
comment on view api.messages is
  'Messages of ticket threads and conversation streams: kind (chat, email, note, system, '
  'whisper), direction, author, text and HTML body, email threading headers, attachment metadata, '
  'mentions, and for system messages the activity {action, from, to}. Members with Inbox '
  'permission view may read; write with api.append_message or api.reply_to_ticket.';

-- Appends a message to a ticket thread or a conversation stream. Signed-in teammates write as
-- themselves (chat, email, note, whisper; optionally as an alias user) and need Inbox: Reply;
-- service_role (workers) also writes customer and AI messages, with email threading headers.
create function api.append_message(
  p_ticket_id uuid default null,
  p_conversation_id uuid default null,
  p_kind halo.message_kind default 'chat',
  p_body_text text default null,
  p_body_html text default null,
  p_author_kind halo.author_kind default 'teammate',
  p_direction halo.message_direction default null,
  p_author_contact_id uuid default null,
  p_author_visitor_id uuid default null,
  p_author_ai_agent_id uuid default null,
  p_author_alias_user_id uuid default null,
  p_email_message_id text default null,
  p_email_in_reply_to text default null,
  p_email_references text[] default null,
  p_email_headers jsonb default null,
  p_attachments jsonb default '[]',
  p_mentions uuid[] default '{}',
  p_client_echo_id text default null
) returns api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  message_id uuid;
  result api.messages;
  author_kind halo.author_kind := coalesce(p_author_kind, 'teammate');
begin
  if p_ticket_id is null and p_conversation_id is null then
    raise exception 'a message needs p_ticket_id or p_conversation_id' using errcode = '22023';
  end if;
  if p_kind = 'system' then
    raise exception 'system messages are written by the database itself' using errcode = '22023';
  end if;
  if coalesce(p_body_text, p_body_html, '') = '' and coalesce(jsonb_array_length(p_attachments), 0) = 0 then
    raise exception 'a message needs a body or an attachment' using errcode = '22023';
  end if;
  if p_ticket_id is not null and not exists (select 1 from halo.tickets where id = p_ticket_id) then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  if p_conversation_id is not null
     and not exists (select 1 from halo.conversations where id = p_conversation_id) then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  if auth.uid() is null and author_kind in ('teammate', 'alias_user') then
    raise exception 'a teammate''s message needs the signed-in teammate; workers write as customer, ai_agent or system'
      using errcode = '42501';
  end if;
  if auth.uid() is not null and author_kind not in ('teammate', 'alias_user') then
    raise exception 'a signed-in teammate writes as a teammate or an alias user, not as %', author_kind
      using errcode = '42501';
  end if;
  begin
    insert into halo.messages (
      ticket_id, conversation_id, kind, direction, author_kind, author_user_id, author_contact_id,
      author_visitor_id, author_ai_agent_id, author_alias_user_id, body_text, body_html,
      email_message_id, email_in_reply_to, email_references, email_headers, attachments, mentions,
      client_echo_id)
    values (
      p_ticket_id, p_conversation_id, p_kind,
      coalesce(p_direction, case
        when p_kind in ('note', 'whisper') then 'internal'
        when author_kind = 'customer' then 'inbound'
        else 'outbound' end::halo.message_direction),
      author_kind, auth.uid(), p_author_contact_id, p_author_visitor_id, p_author_ai_agent_id,
      p_author_alias_user_id, p_body_text, p_body_html, p_email_message_id, p_email_in_reply_to,
      p_email_references, p_email_headers, coalesce(p_attachments, '[]'), coalesce(p_mentions, '{}'),
      p_client_echo_id)
    returning id into message_id;
  exception when insufficient_privilege then
    raise exception 'writing in this thread needs Inbox: Reply permission in its workspace'
      using errcode = '42501';
  end;
  select * into result from api.messages where id = message_id;
  return result;
end
$$;
grant execute on function api.append_message(uuid, uuid, halo.message_kind, text, text, halo.author_kind,
  halo.message_direction, uuid, uuid, uuid, uuid, text, text, text[], jsonb, jsonb, uuid[], text)
  to authenticated, service_role;
comment on function api.append_message(p_ticket_id uuid, p_conversation_id uuid, p_kind halo.message_kind, p_body_text text, p_body_html text, p_author_kind halo.author_kind, p_direction halo.message_direction, p_author_contact_id uuid, p_author_visitor_id uuid, p_author_ai_agent_id uuid, p_author_alias_user_id uuid, p_email_message_id text, p_email_in_reply_to text, p_email_references text[], p_email_headers jsonb, p_attachments jsonb, p_mentions uuid[], p_client_echo_id text) is
  'Appends a message to a ticket thread and/or a conversation stream and returns it; the '
  'direction defaults from kind and author, an outbound email enqueues an email.send job, and a '
  'customer message reopens a resolved or snoozed ticket. Signed-in teammates need Inbox '
  'permission reply and write as teammate or alias_user (chat, email, note, whisper); '
  'service_role writes as customer, ai_agent or system, with email threading headers. Raises '
  '22023 for a missing target, a system kind or an empty message, P0002 when the ticket or '
  'conversation does not exist, and 42501 when the author kind or permission is not allowed.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert on halo.messages to authenticated;

grant all on halo.messages to service_role;

grant select on api.messages to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/replies.sql
-- ================================================================================================

-- Replies: a teammate's chat or email reply or internal note on a ticket, behind the send guard.
--
-- The send guard: the caller passes p_last_seen_seq, the last event seq its screen reflects. When a
-- customer message or another teammate's reply or note reached the ticket after it, nothing is
-- written and PT409 (HTTP 409) lists what changed, so nobody answers a customer blind. Email
-- replies enqueue an `email.send` job (outbound_email.sql).

-- helpers -----------------------------------------------------------------------------------------

-- The send guard. Raises PT409 (HTTP 409) when a customer message, or another teammate's reply or
-- note, reached the ticket after p_last_seen_seq (the last event seq the caller's screen
-- reflects); the error's detail lists those messages as JSON. Volatile: raising is its effect.
create function halo.send_guard(p_ticket halo.tickets, p_last_seen_seq bigint) returns void
language plpgsql
set search_path = ''
as $$
declare
  conflicts jsonb;
begin
  select jsonb_agg(jsonb_build_object('seq', e.seq, 'message_id', e.data ->> 'message_id',
                                      'kind', e.data ->> 'kind', 'author_kind', e.data ->> 'author_kind',
                                      'actor_user_id', e.actor_user_id) order by e.seq)
    into conflicts
    from halo.events e
   where e.workspace_id = p_ticket.workspace_id and e.seq > p_last_seen_seq
     and e.ticket_id = p_ticket.id and e.name = 'message.created'
     and e.data ->> 'kind' in ('chat', 'email', 'note')
     and (e.data ->> 'author_kind' = 'customer'
          or (e.data ->> 'author_kind' in ('teammate', 'alias_user')
              and e.actor_user_id is distinct from auth.uid()));
  if conflicts is not null then
    raise exception 'ticket #% changed since seq %: % new message(s) (%)', p_ticket.number, p_last_seen_seq,
      jsonb_array_length(conflicts),
      (select string_agg(distinct case when c ->> 'author_kind' = 'customer' then 'customer message'
                                       when c ->> 'kind' = 'note' then 'teammate note'
                                       else 'teammate reply' end, ', ')
         from jsonb_array_elements(conflicts) c)
      using errcode = 'PT409', detail = conflicts::text,
            hint = 'Read the new messages, then send again with the latest seq.';
  end if;
end
$$;
grant execute on function halo.send_guard(halo.tickets, bigint) to authenticated, service_role;

-- api ---------------------------------------------------------------------------------------------

-- A teammate's reply (chat or email) or internal note (Inbox: Reply), optionally as an alias user.
-- The send guard: p_last_seen_seq is the last event seq the caller's screen reflects; if a
-- customer message or another teammate's reply or note reached the ticket after it, nothing is
-- written and PT409 (HTTP 409) says what changed (details: JSON list of those messages).
-- Notes record @handle mentions (see halo.mentioned_members).
create function api.reply_to_ticket(
  p_ticket_id uuid,
  p_kind text,
  p_body_text text,
  p_last_seen_seq bigint,
  p_body_html text default null,
  p_alias_user_id uuid default null,
  p_client_echo_id text default null
) returns api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'reply', 'replying');
begin
  if p_kind is null or p_kind not in ('chat', 'email', 'note') then
    raise exception 'p_kind must be chat, email or note, got %', p_kind using errcode = '22023';
  end if;
  if p_last_seen_seq is null or p_last_seen_seq < 0 then
    raise exception 'p_last_seen_seq (the last event seq you saw) is required' using errcode = '22023';
  end if;
  if ticket.merged_into_id is not null then
    raise exception 'ticket #% was merged into another ticket; reply there', ticket.number
      using errcode = 'HL002', detail = jsonb_build_object('merged_into_id', ticket.merged_into_id)::text;
  end if;
  perform halo.send_guard(ticket, p_last_seen_seq);
  return api.append_message(
    p_ticket_id => p_ticket_id,
    p_kind => p_kind::halo.message_kind,
    p_body_text => p_body_text,
    p_body_html => p_body_html,
    p_author_kind => case when p_alias_user_id is null then 'teammate' else 'alias_user' end::halo.author_kind,
    p_author_alias_user_id => p_alias_user_id,
    p_mentions => case when p_kind = 'note'
                       then halo.mentioned_members(ticket.workspace_id, p_body_text) else '{}' end,
    p_client_echo_id => p_client_echo_id);
end
$$;
grant execute on function api.reply_to_ticket(uuid, text, text, bigint, text, uuid, text) to authenticated;
comment on function api.reply_to_ticket(p_ticket_id uuid, p_kind text, p_body_text text, p_last_seen_seq bigint, p_body_html text, p_alias_user_id uuid, p_client_echo_id text) is
  'Writes a reply (p_kind chat or email) or internal note on a ticket as the signed-in teammate, '
  'or as alias user p_alias_user_id, and returns the message; notes record @handle mentions of '
  'members. Send guard: p_last_seen_seq is the last event seq the caller saw, and if a customer '
  'message or another teammate reply or note reached the ticket after it, nothing is written and '
  'PT409 (HTTP 409) is raised with the new messages as JSON in details. Needs Inbox permission '
  'reply (authenticated only); also raises 22023 for a bad kind or missing seq, HL002 when the '
  'ticket was merged, 42501 when not allowed, and P0002 when the ticket is not visible.';

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/mentions.sql
-- ================================================================================================

-- Mentions: @handle in a note or reply notifies the teammate. A handle is the display name's
-- letters and digits (halo.mentioned_members); each mention is a row and a mention.created event
-- for the mentioned teammate's notifications and the Mentions view.

-- tables ------------------------------------------------------------------------------------------

create table halo.mentions (
  message_id uuid not null references halo.messages (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  ticket_id uuid references halo.tickets (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (message_id, user_id)
);

-- indexes -----------------------------------------------------------------------------------------

create index mentions_user_idx on halo.mentions (user_id, created_at desc);

create index mentions_workspace_id_idx on halo.mentions (workspace_id);

create index mentions_ticket_id_idx on halo.mentions (ticket_id);

-- triggers ----------------------------------------------------------------------------------------

-- mention.created feeds the mentioned teammate's notifications.
create trigger mentions_emit_event
  after insert on halo.mentions
  for each row execute function halo.emit_row_event('mention', 'message_id', 'user_id');

-- row-level security ------------------------------------------------------------------------------

alter table halo.mentions enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Members mentioned as @handle in a text: a handle is the display name's letters and digits,
-- lower-cased ("Maya Manager" -> @mayamanager), or the local part of the member's email alias.
create function halo.mentioned_members(p_workspace_id uuid, p_text text) returns uuid[]
language sql stable
security invoker
set search_path = ''
as $$
  select coalesce(array_agg(distinct m.user_id), '{}')
  from halo.members m
  join (select lower(match[1]) as handle
        from regexp_matches(coalesce(p_text, ''), '(?:^|[^[:alnum:]_.])@([[:alnum:]_]+(?:[.-][[:alnum:]_]+)*)', 'g') as match) h
    on h.handle = lower(regexp_replace(m.display_name, '[^[:alnum:]]', '', 'g'))
    or h.handle = lower(split_part(m.email_alias, '@', 1))
  where m.workspace_id = p_workspace_id
$$;
grant execute on function halo.mentioned_members(uuid, text) to authenticated, service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members can read their workspace's mentions" on halo.mentions
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.mentions with (security_invoker = true) as
  select message_id, user_id, workspace_id, ticket_id, created_at from halo.mentions;
comment on view api.mentions is
  'Mentions of workspace members in messages (message, mentioned user, workspace, ticket), one '
  'row per mentioned user, written when the message is stored. Members with Inbox permission view '
  'may read.';

-- grants ------------------------------------------------------------------------------------------

grant select on halo.mentions to authenticated;

grant all on halo.mentions to service_role;

grant select on api.mentions to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/merge.sql
-- ================================================================================================

-- Merge: a duplicate ticket (the source) is merged into another (the target) of the same customer.
-- The source's messages move to the target, remembering where they came from; the source keeps its
-- pre-merge status facts and is closed. A later reply threaded to the source follows it to the
-- target (halo.redirect_merged_message, halo.ticket_after_merges). Unmerge moves the messages back
-- and restores the source's status. Refusals raise HL002 (different customers, already merged,
-- merging into itself).

-- triggers ----------------------------------------------------------------------------------------

-- A message written to a merged ticket (an email follow-up, a late API call) lands on the ticket it
-- was merged into, following the chain. Named to run before messages_before_insert.
create function halo.redirect_merged_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  target uuid;
  hops integer := 0;
begin
  if new.ticket_id is null or new.kind = 'system' then
    return new;
  end if;
  loop
    select merged_into_id into target from halo.tickets where id = new.ticket_id;
    exit when target is null or hops >= 20;
    new.ticket_id := target;
    hops := hops + 1;
  end loop;
  return new;
end
$$;

create trigger messages_a_redirect_merged
  before insert on halo.messages
  for each row execute function halo.redirect_merged_message();

-- helpers -----------------------------------------------------------------------------------------

-- Follows merged tickets to the one that is still in use.
create function halo.ticket_after_merges(p_ticket_id uuid) returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  current_id uuid := p_ticket_id;
  next_id uuid;
begin
  for hop in 1..20 loop
    select merged_into_id into next_id from halo.tickets where id = current_id;
    exit when next_id is null;
    current_id := next_id;
  end loop;
  return current_id;
end
$$;
revoke execute on function halo.ticket_after_merges(uuid) from public;
grant execute on function halo.ticket_after_merges(uuid) to service_role;

-- api ---------------------------------------------------------------------------------------------

-- Merges a duplicate (source) into a target of the same customer (Inbox: Manage). The source's
-- messages, notes and mentions move to the target, each remembering where it came from; the
-- source is resolved and marked merged_into the target; later messages to the source land on the
-- target. Security definer because teammates have no UPDATE on messages; it checks the caller.
create function halo.merge_tickets(p_source_id uuid, p_target_id uuid) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  source halo.tickets;
  target halo.tickets;
  moved integer;
  result api.tickets;
begin
  if p_source_id is null or p_target_id is null or p_source_id = p_target_id then
    raise exception 'merging needs two different tickets' using errcode = '22023';
  end if;
  -- Lock both in id order so two opposite merges cannot deadlock.
  perform 1 from halo.tickets where id in (p_source_id, p_target_id) order by id for update;
  select * into source from halo.tickets where id = p_source_id;
  select * into target from halo.tickets where id = p_target_id;
  if source.id is null or target.id is null
     or not halo.has_inbox_permission(source.workspace_id, 'view')
     or not halo.has_inbox_permission(target.workspace_id, 'view') then
    raise exception 'ticket % does not exist', case when source.id is null then p_source_id else p_target_id end
      using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(source.workspace_id, 'manage') then
    raise exception 'merging tickets needs Inbox: Manage permission' using errcode = '42501';
  end if;
  if source.workspace_id <> target.workspace_id then
    raise exception 'tickets of different workspaces cannot be merged' using errcode = 'HL002';
  end if;
  if source.contact_id is null or source.contact_id is distinct from target.contact_id then
    raise exception 'only tickets of the same customer can be merged (#% and #%)', source.number, target.number
      using errcode = 'HL002', hint = 'Both tickets need the same contact.';
  end if;
  if source.merged_into_id is not null or target.merged_into_id is not null then
    raise exception 'ticket #% is already merged into another ticket',
      case when source.merged_into_id is not null then source.number else target.number end
      using errcode = 'HL002', hint = 'Unmerge it first, or merge into the ticket it was merged into.';
  end if;

  update halo.messages
     set ticket_id = p_target_id, merged_from_ticket_id = coalesce(merged_from_ticket_id, p_source_id)
   where ticket_id = p_source_id and kind <> 'system';
  get diagnostics moved = row_count;
  update halo.mentions set ticket_id = p_target_id
   where ticket_id = p_source_id;

  perform set_config('halo.restoring', 'on', true);
  update halo.tickets
     set pre_merge = jsonb_build_object('status_category', status_category, 'priority', priority,
                                        'resolved_by', resolved_by, 'snoozed_until', snoozed_until),
         merged_into_id = p_target_id,
         status_category = 'resolved', resolved_by = 'human'
   where id = p_source_id;
  perform set_config('halo.restoring', '', true);
  update halo.tickets
     set last_activity_at = greatest(last_activity_at, source.last_activity_at),
         labels = array(select distinct l from unnest(labels || source.labels) l order by l)
   where id = p_target_id;
  insert into halo.messages (ticket_id, kind, direction, author_kind, author_user_id, activity)
  values (p_target_id, 'system', 'internal', 'system', auth.uid(),
          jsonb_build_object('action', 'merged', 'from', p_source_id, 'to', p_target_id, 'messages', moved));

  perform halo.emit_event(target.workspace_id, 'ticket.merged', p_target_id, target.conversation_id,
    jsonb_build_object('source_id', p_source_id, 'target_id', p_target_id, 'messages', moved));
  perform halo.emit_event(source.workspace_id, 'ticket.merged', p_source_id, source.conversation_id,
    jsonb_build_object('source_id', p_source_id, 'target_id', p_target_id, 'messages', moved));
  select * into result from api.tickets where id = p_target_id;
  return result;
end
$$;
grant execute on function halo.merge_tickets(uuid, uuid) to authenticated, service_role;

-- The API face of halo.merge_tickets: it runs as the caller; only the private body holds definer rights.
create function api.merge_tickets(p_source_id uuid, p_target_id uuid) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.merge_tickets(p_source_id, p_target_id)
$$;
grant execute on function api.merge_tickets(uuid, uuid) to authenticated, service_role;
comment on function api.merge_tickets(p_source_id uuid, p_target_id uuid) is
  'Merges the duplicate ticket p_source_id into p_target_id of the same contact: the non-system '
  'messages and mentions of the source move to the target, the labels are combined, the source is '
  'resolved and marked merged_into the target, and later messages to the source land on the '
  'target. Returns the target. Callable by members with Inbox permission manage and by '
  'service_role; raises 22023 unless two different tickets are given, P0002 when a ticket is not '
  'visible, 42501 when not allowed, and HL002 for tickets of different workspaces or customers, a '
  'source without contact, or a ticket already merged.';

-- Undoes a merge (Inbox: Manage): the messages that came from the source move back, and the source
-- gets back its status from before the merge. Messages that reached the target after the merge
-- (redirected follow-ups included) stay on the target. Returns the source.
create function halo.unmerge_ticket(p_source_id uuid) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  source halo.tickets;
  target_id uuid;
  moved integer;
  result api.tickets;
begin
  select * into source from halo.tickets where id = p_source_id for update;
  if source.id is null or not halo.has_inbox_permission(source.workspace_id, 'view') then
    raise exception 'ticket % does not exist', p_source_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(source.workspace_id, 'manage') then
    raise exception 'unmerging tickets needs Inbox: Manage permission' using errcode = '42501';
  end if;
  if source.merged_into_id is null then
    raise exception 'ticket #% is not merged', source.number using errcode = 'HL002';
  end if;
  target_id := source.merged_into_id;

  update halo.messages set ticket_id = p_source_id, merged_from_ticket_id = null
   where merged_from_ticket_id = p_source_id;
  get diagnostics moved = row_count;
  update halo.mentions mn set ticket_id = p_source_id
    from halo.messages m
   where m.id = mn.message_id and m.ticket_id = p_source_id and mn.ticket_id is distinct from p_source_id;

  perform set_config('halo.restoring', 'on', true);
  update halo.tickets
     set merged_into_id = null,
         pre_merge = null,
         status_category = case when (source.pre_merge ->> 'status_category') = 'snoozed'
                                     and (source.pre_merge ->> 'snoozed_until')::timestamptz <= now()
                                then 'open'
                                else coalesce(source.pre_merge ->> 'status_category', 'open') end,
         priority = coalesce(source.pre_merge ->> 'priority', source.priority),
         resolved_by = (source.pre_merge ->> 'resolved_by'),
         snoozed_until = case when (source.pre_merge ->> 'snoozed_until')::timestamptz > now()
                              then (source.pre_merge ->> 'snoozed_until')::timestamptz end
   where id = p_source_id;
  perform set_config('halo.restoring', '', true);
  insert into halo.messages (ticket_id, kind, direction, author_kind, author_user_id, activity)
  values (target_id, 'system', 'internal', 'system', auth.uid(),
          jsonb_build_object('action', 'unmerged', 'from', target_id, 'to', p_source_id, 'messages', moved));

  perform halo.emit_event(source.workspace_id, 'ticket.unmerged', p_source_id, source.conversation_id,
    jsonb_build_object('source_id', p_source_id, 'target_id', target_id, 'messages', moved));
  perform halo.emit_event(source.workspace_id, 'ticket.unmerged', target_id, null,
    jsonb_build_object('source_id', p_source_id, 'target_id', target_id, 'messages', moved));
  select * into result from api.tickets where id = p_source_id;
  return result;
end
$$;
grant execute on function halo.unmerge_ticket(uuid) to authenticated, service_role;

-- The API face of halo.unmerge_ticket: it runs as the caller; only the private body holds definer rights.
create function api.unmerge_ticket(p_source_id uuid) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.unmerge_ticket(p_source_id)
$$;
grant execute on function api.unmerge_ticket(uuid) to authenticated, service_role;
comment on function api.unmerge_ticket(p_source_id uuid) is
  'Undoes a merge: the messages that came from the source move back and the source gets back its '
  'status from before the merge (a snooze that has since passed becomes open); messages that '
  'reached the target after the merge stay there. Returns the source ticket. Callable by members '
  'with Inbox permission manage and by service_role; raises P0002 when the ticket is not visible, '
  '42501 when not allowed, and HL002 when the ticket is not merged.';

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/snooze.sql
-- ================================================================================================

-- Snooze: a snoozed ticket wakes at snoozed_until. Setting or moving the time schedules a
-- `ticket.wake` job for that moment (dedupe key per ticket and time); api.wake_ticket, called by
-- the job or by a client, wakes it only when it is still due, so a moved snooze's old job finds
-- nothing to do. A customer reply wakes a ticket at once (messages.sql). Waking resets the
-- waiting clocks and emits ticket.woken.

-- triggers ----------------------------------------------------------------------------------------

-- Waking (snoozed -> open or in progress, by the timer, a customer reply or a teammate) resets the
-- waiting and activity clocks, so nothing that ages tickets re-closes it straight away.
create function halo.reset_clocks_on_wake() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status_category = 'snoozed' and new.status_category in ('open', 'in_progress') then
    new.waiting_since := now();
    new.last_activity_at := greatest(new.last_activity_at, now());
  end if;
  return new;
end
$$;

create trigger tickets_reset_clocks_on_wake
  before update of status_category on halo.tickets
  for each row execute function halo.reset_clocks_on_wake();

-- Snoozing schedules the wake-up job at snoozed_until (one per ticket and time, so re-snoozing
-- schedules a new one and the old one finds the ticket no longer due); waking emits ticket.woken
-- with its reason (timer, customer_reply or teammate).
create function halo.ticket_snooze_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status_category = 'snoozed'
     and (tg_op = 'INSERT' or old.status_category <> 'snoozed' or old.snoozed_until <> new.snoozed_until) then
    perform halo.enqueue_job('ticket.wake',
      jsonb_build_object('ticket_id', new.id, 'snoozed_until', new.snoozed_until),
      'ticket.wake:' || new.id || ':' || extract(epoch from new.snoozed_until),
      new.workspace_id, new.snoozed_until);
    perform halo.emit_event(new.workspace_id, 'ticket.snoozed', new.id, new.conversation_id,
      jsonb_build_object('snoozed_until', new.snoozed_until));
  elsif tg_op = 'UPDATE' and old.status_category = 'snoozed' and new.status_category in ('open', 'in_progress') then
    perform halo.emit_event(new.workspace_id, 'ticket.woken', new.id, new.conversation_id,
      jsonb_build_object('reason', case
        when new.last_customer_message_at is distinct from old.last_customer_message_at then 'customer_reply'
        when coalesce(current_setting('halo.wake_reason', true), '') = 'timer' then 'timer'
        else 'teammate' end));
  end if;
  return null;
end
$$;

create trigger tickets_snooze_changed
  after insert or update of status_category, snoozed_until on halo.tickets
  for each row execute function halo.ticket_snooze_changed();

-- api ---------------------------------------------------------------------------------------------

-- The snooze wake-up job's handler (service_role): wakes the ticket if it is still snoozed and due
-- (and, when given, still snoozed until p_snoozed_until). Idempotent: a ticket already woken or
-- re-snoozed is returned unchanged.
create function api.wake_ticket(p_ticket_id uuid, p_snoozed_until timestamptz default null)
returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  perform set_config('halo.wake_reason', 'timer', true);
  update halo.tickets
     set status_category = 'open'
   where id = p_ticket_id and status_category = 'snoozed' and snoozed_until <= now()
     and (p_snoozed_until is null or snoozed_until = p_snoozed_until);
  perform set_config('halo.wake_reason', '', true);
  select * into result from api.tickets where id = p_ticket_id;
  if result.id is null then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  return result;
end
$$;
grant execute on function api.wake_ticket(uuid, timestamptz) to service_role;
comment on function api.wake_ticket(p_ticket_id uuid, p_snoozed_until timestamp with time zone) is
  'Handler of the ticket.wake job: reopens a snoozed ticket whose snoozed_until has passed (and, '
  'when p_snoozed_until is given, still equals it) and returns the ticket. Idempotent: a ticket '
  'already woken or snoozed again is returned unchanged. service_role only; raises P0002 when the '
  'ticket does not exist.';

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/filters.sql
-- ================================================================================================

-- The FilterBar compiler: a filter is JSON, compiled against a whitelist into SQL text and a text[]
-- of values.
--
-- A filter is a group {"op": "and"|"or"|"not", "children": [node, ...]} ("not" negates the AND of
-- its children) or a condition {"field": f, "cmp": c, "value": v}. halo.compile_filter checks it
-- against halo.filter_fields and halo.filter_operators and returns SQL that names columns only
-- through the whitelist and reads every value as `$1[n]`: the list function runs it with
-- `execute ... using`, so no value is ever part of SQL text. Every condition is two-valued (null
-- counts as "no match"), so "not" means exactly "does not match". Bad filters raise 22023 naming
-- the JSON path and the field or operator (halo.filter_error); api.validate_filter checks one.

-- types -------------------------------------------------------------------------------------------

create type halo.compiled_filter as (sql text, params text[]);

-- helpers -----------------------------------------------------------------------------------------

-- The FilterBar's fields: name -> (SQL expression over the ticket row `t`, type). `custom:<key>`,
-- `contact.custom:<key>`, `contact.trait:<key>`, `company.custom:<key>` and `company.trait:<key>`
-- are handled in halo.filter_field with the key as a parameter.
create function halo.filter_fields() returns table (field text, expression text, type text)
language sql immutable
set search_path = ''
as $$
  values
    ('status', 'halo.ticket_status(t.status_category, t.priority, t.resolved_by)', 'text'),
    ('status_category', 't.status_category::text', 'text'),
    ('priority', 't.priority::text', 'text'),
    ('resolved_by', 't.resolved_by::text', 'text'),
    ('category', 't.category', 'text'),
    ('source', 't.source', 'text'),
    ('channel', 't.channel::text', 'text'),
    ('subject', 't.subject', 'text'),
    ('escalation_reason', 't.escalation_reason', 'text'),
    ('number', 't.number', 'number'),
    ('ai_confidence', 't.ai_confidence', 'number'),
    ('ai.confidence', 't.ai_confidence', 'number'),
    ('ai_paused', 't.ai_paused', 'boolean'),
    ('ai.paused', 't.ai_paused', 'boolean'),
    ('auto_created', 't.auto_created', 'boolean'),
    ('assignee', 't.assignee_id', 'uuid'),
    ('assignee_id', 't.assignee_id', 'uuid'),
    ('contact_id', 't.contact_id', 'uuid'),
    ('company_id', 't.company_id', 'uuid'),
    ('created_at', 't.created_at', 'time'),
    ('age', 't.created_at', 'time'),
    ('last_activity', 't.last_activity_at', 'time'),
    ('last_activity_at', 't.last_activity_at', 'time'),
    ('waiting_since', 't.waiting_since', 'time'),
    ('snoozed_until', 't.snoozed_until', 'time'),
    ('resolved_at', 't.resolved_at', 'time'),
    ('first_response_at', 't.first_response_at', 'time'),
    ('last_customer_message_at', 't.last_customer_message_at', 'time'),
    ('labels', 't.labels', 'labels'),
    ('mentions', 't.id', 'mentions'),
    ('ai.mood', '(select cv.mood::text from halo.conversations cv where cv.id = t.conversation_id)', 'text'),
    ('contact.name', '(select c.name from halo.contacts c where c.id = t.contact_id)', 'text'),
    ('contact.email', '(select c.email from halo.contacts c where c.id = t.contact_id)', 'text'),
    ('contact.external_id', '(select c.external_id from halo.contacts c where c.id = t.contact_id)', 'text'),
    ('company.name', '(select co.name from halo.companies co where co.id = t.company_id)', 'text'),
    ('company.domain', '(select co.domain from halo.companies co where co.id = t.company_id)', 'text'),
    ('company.industry', '(select co.industry from halo.companies co where co.id = t.company_id)', 'text'),
    ('company.plan', '(select co.plan from halo.companies co where co.id = t.company_id)', 'text')
$$;
grant execute on function halo.filter_fields() to authenticated, service_role;

-- Which operators each field type accepts, and the shape of their value.
create function halo.filter_operators(p_type text) returns text[]
language sql immutable
set search_path = ''
as $$
  select case p_type
    when 'text' then array['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'is_set', 'is_unset']
    when 'number' then array['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'between', 'is_set', 'is_unset']
    when 'boolean' then array['eq', 'neq', 'is_set', 'is_unset']
    when 'uuid' then array['eq', 'neq', 'in', 'not_in', 'is_set', 'is_unset']
    when 'time' then array['gt', 'gte', 'lt', 'lte', 'between', 'within_last', 'older_than', 'is_set', 'is_unset']
    when 'labels' then array['contains', 'not_contains', 'in', 'not_in', 'is_set', 'is_unset']
    when 'mentions' then array['eq', 'neq', 'is_set', 'is_unset']
    -- custom fields and traits (JSON values): text, number and boolean operators
    when 'json' then array['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'between', 'is_set', 'is_unset']
  end
$$;
grant execute on function halo.filter_operators(text) to authenticated, service_role;

-- Raises the filter error: 22023 with the JSON path of the node. Volatile, since raising is its
-- effect: the planner may pre-evaluate an immutable call and raise where no filter was wrong.
create function halo.filter_error(p_path text, p_message text) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  raise exception 'invalid filter at %: %', p_path, p_message
    using errcode = '22023', hint = 'docs/workflows-and-views.md, section FilterBar, lists the fields, operators and value shapes.';
end
$$;
grant execute on function halo.filter_error(text, text) to authenticated, service_role;

-- Compiles one filter node. p_params holds the values collected so far ($1[1..n]).
create function halo.compile_filter_node(p_node jsonb, p_params text[], p_path text)
returns halo.compiled_filter
language plpgsql stable
set search_path = ''
as $$
declare
  op text;
  children jsonb;
  parts text[] := '{}';
  child halo.compiled_filter;
  params text[] := p_params;
  field text;
  cmp text;
  value jsonb;
  expr text;
  ftype text;
  json_key text;
  json_path text;
  n integer;
  sql text;
  item jsonb;
  placeholders text[];
  unit text;
  amount text;
begin
  if p_node is null or jsonb_typeof(p_node) <> 'object' then
    perform halo.filter_error(p_path, 'a node must be an object (a group with "op" and "children", or a condition with "field", "cmp" and "value")');
  end if;

  if p_node ? 'op' then
    op := p_node ->> 'op';
    if op is null or op not in ('and', 'or', 'not') then
      perform halo.filter_error(p_path, format('unknown group operator %s; use and, or or not', coalesce(p_node ->> 'op', 'null')));
    end if;
    children := p_node -> 'children';
    if children is null or jsonb_typeof(children) <> 'array' then
      perform halo.filter_error(p_path, 'a group needs "children": [...]');
    end if;
    if jsonb_array_length(children) > 50 then
      perform halo.filter_error(p_path, 'a group has at most 50 children');
    end if;
    for i in 0 .. jsonb_array_length(children) - 1 loop
      child := halo.compile_filter_node(children -> i, params, p_path || '.children[' || i || ']');
      parts := parts || child.sql;
      params := child.params;
    end loop;
    sql := case
      when cardinality(parts) = 0 then case op when 'or' then 'false' else 'true' end
      when op = 'or' then '(' || array_to_string(parts, ' or ') || ')'
      else '(' || array_to_string(parts, ' and ') || ')' end;
    if op = 'not' then
      sql := '(not ' || sql || ')';
    end if;
    return (sql, params)::halo.compiled_filter;
  end if;

  field := p_node ->> 'field';
  cmp := p_node ->> 'cmp';
  value := p_node -> 'value';
  if field is null then
    perform halo.filter_error(p_path, 'a condition needs "field"');
  end if;
  if field ~ '^(contact\.|company\.)?(custom|trait):.+$' then
    json_key := substr(field, strpos(field, ':') + 1);
    if length(json_key) > 100 then
      perform halo.filter_error(p_path, 'a custom field key has at most 100 characters');
    end if;
    params := params || json_key;
    json_path := format('-> ($1[%s])', cardinality(params));
    expr := case
      when field like 'custom:%' then 't.custom_fields'
      when field like 'contact.custom:%' then '(select c.custom_fields from halo.contacts c where c.id = t.contact_id)'
      when field like 'contact.trait:%' then '(select c.traits from halo.contacts c where c.id = t.contact_id)'
      when field like 'company.custom:%' then '(select co.custom_fields from halo.companies co where co.id = t.company_id)'
      else '(select co.traits from halo.companies co where co.id = t.company_id)' end
      || ' ' || json_path;
    ftype := 'json';
  else
    select f.expression, f.type into expr, ftype from halo.filter_fields() f where f.field = p_node ->> 'field';
    if expr is null then
      perform halo.filter_error(p_path, format('unknown field %s', field));
    end if;
  end if;
  if cmp is null or not cmp = any (halo.filter_operators(ftype)) then
    perform halo.filter_error(p_path, format('operator %s is not valid for field %s (%s); use one of %s',
      coalesce(cmp, 'null'), field, ftype, array_to_string(halo.filter_operators(ftype), ', ')));
  end if;

  -- is_set / is_unset take no value.
  if cmp in ('is_set', 'is_unset') then
    sql := case ftype
      when 'text' then format('(%s) <> %L', expr, '')
      when 'labels' then format('cardinality(%s) > 0', expr)
      when 'mentions' then 'exists (select 1 from halo.mentions mn where mn.ticket_id = t.id)'
      when 'json' then format('jsonb_typeof(%s) <> %L', expr, 'null')
      else format('(%s) is not null', expr) end;
    sql := format('coalesce(%s, false)', sql);
    return (case when cmp = 'is_set' then sql else '(not ' || sql || ')' end, params)::halo.compiled_filter;
  end if;

  -- Value shape per operator.
  if cmp in ('in', 'not_in', 'between') then
    if value is null or jsonb_typeof(value) <> 'array' or jsonb_array_length(value) = 0
       or (cmp = 'between' and jsonb_array_length(value) <> 2) or jsonb_array_length(value) > 1000 then
      perform halo.filter_error(p_path, format('%s needs %s', cmp,
        case cmp when 'between' then 'a [low, high] array' else 'a non-empty array (at most 1000 values)' end));
    end if;
  elsif value is null or jsonb_typeof(value) in ('array', 'object', 'null') then
    perform halo.filter_error(p_path, format('%s needs a single value', cmp));
  end if;

  -- Each value is checked for its type here, so that executing the SQL never fails on a cast.
  placeholders := '{}';
  for item in select v from jsonb_array_elements(case when jsonb_typeof(value) = 'array' then value
                                                       else jsonb_build_array(value) end) v loop
    if cmp in ('within_last', 'older_than') then
      if jsonb_typeof(item) <> 'string' or (item #>> '{}') !~ '^[0-9]{1,5}\s*(m|h|d|w)$' then
        perform halo.filter_error(p_path, format('%s needs a duration such as "30m", "24h", "7d" or "2w"', cmp));
      end if;
      amount := substring(item #>> '{}' from '^[0-9]+');
      unit := case right(item #>> '{}', 1) when 'm' then 'minutes' when 'h' then 'hours'
                                            when 'd' then 'days' else 'weeks' end;
      params := params || (amount || ' ' || unit);
      placeholders := placeholders || format('($1[%s])::interval', cardinality(params));
      continue;
    end if;
    case ftype
      when 'number' then
        if jsonb_typeof(item) <> 'number' or abs((item #>> '{}')::numeric) >= 1e15 then
          perform halo.filter_error(p_path, format('%s needs numbers', field));
        end if;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])::numeric', cardinality(params));
      when 'boolean' then
        if jsonb_typeof(item) <> 'boolean' then
          perform halo.filter_error(p_path, format('%s needs true or false', field));
        end if;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])::boolean', cardinality(params));
      when 'uuid', 'mentions' then
        if jsonb_typeof(item) <> 'string' or ((item #>> '{}') <> 'me'
           and (item #>> '{}') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') then
          perform halo.filter_error(p_path, format('%s needs a user or record id, or "me"', field));
        end if;
        if (item #>> '{}') = 'me' then
          placeholders := placeholders || '(select auth.uid())'::text;
        else
          params := params || (item #>> '{}');
          placeholders := placeholders || format('($1[%s])::uuid', cardinality(params));
        end if;
      when 'time' then
        if jsonb_typeof(item) <> 'string' or (item #>> '{}') !~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$' then
          perform halo.filter_error(p_path, format('%s needs an ISO 8601 timestamp', field));
        end if;
        begin
          perform (item #>> '{}')::timestamptz;
        exception when others then
          perform halo.filter_error(p_path, format('%s needs a valid ISO 8601 timestamp', field));
        end;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])::timestamptz', cardinality(params));
      when 'json' then
        if jsonb_typeof(item) not in ('string', 'number', 'boolean') then
          perform halo.filter_error(p_path, format('%s needs strings, numbers or booleans', field));
        end if;
        if cmp in ('gt', 'gte', 'lt', 'lte', 'between') and jsonb_typeof(item) <> 'number' then
          perform halo.filter_error(p_path, format('%s on %s needs numbers', cmp, field));
        end if;
        if cmp in ('contains', 'not_contains', 'starts_with') and jsonb_typeof(item) <> 'string' then
          perform halo.filter_error(p_path, format('%s on %s needs a string', cmp, field));
        end if;
        params := params || case when cmp in ('eq', 'neq', 'in', 'not_in') then item::text else item #>> '{}' end;
        placeholders := placeholders || format(case when cmp in ('eq', 'neq', 'in', 'not_in') then '($1[%s])::jsonb'
                                                   when cmp in ('contains', 'not_contains', 'starts_with') then '($1[%s])'
                                                   else '($1[%s])::numeric' end, cardinality(params));
      else  -- text, labels
        if jsonb_typeof(item) <> 'string' or length(item #>> '{}') > 1000 then
          perform halo.filter_error(p_path, format('%s needs strings (at most 1000 characters)', field));
        end if;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])', cardinality(params));
    end case;
  end loop;

  -- Status equality compiles to the stored facts (the built-in views' predicates), so indexes on
  -- status_category apply; a value that is not one of the seven statuses matches nothing.
  if field = 'status' and cmp in ('eq', 'neq', 'in', 'not_in') and jsonb_typeof(value) in ('string', 'array') then
    select '(' || string_agg(case when v.s = any (array['open', 'priority', 'in_progress', 'snoozed',
                                                        'resolved', 'ai_resolved', 'spam'])
                                  then halo.builtin_view_sql(v.s) else 'false' end, ') or (') || ')'
      into sql
      from jsonb_array_elements_text(case when jsonb_typeof(value) = 'array' then value
                                          else jsonb_build_array(value) end) v(s);
    return (case when cmp in ('eq', 'in') then '(' || sql || ')' else '(not (' || sql || '))' end,
            params)::halo.compiled_filter;
  end if;

  -- Numbers and orderable JSON: a JSON custom value compares only when it is a number.
  if ftype = 'json' and cmp in ('gt', 'gte', 'lt', 'lte', 'between') then
    expr := format('(case when jsonb_typeof(%1$s) = %2$L then (%1$s #>> %3$L)::numeric end)', expr, 'number', '{}');
  elsif ftype = 'json' and cmp in ('contains', 'not_contains', 'starts_with') then
    expr := format('(case when jsonb_typeof(%1$s) = %2$L then %1$s #>> %3$L end)', expr, 'string', '{}');
  end if;

  sql := case cmp
    when 'eq' then case ftype
      when 'mentions' then format('exists (select 1 from halo.mentions mn where mn.ticket_id = t.id and mn.user_id = %s)', placeholders[1])
      else format('(%s) = %s', expr, placeholders[1]) end
    when 'neq' then case ftype
      when 'mentions' then format('not exists (select 1 from halo.mentions mn where mn.ticket_id = t.id and mn.user_id = %s)', placeholders[1])
      else format('(%s) is distinct from %s', expr, placeholders[1]) end
    when 'in' then case ftype
      when 'labels' then format('(%s) && array[%s]::text[]', expr, array_to_string(placeholders, ', '))
      else format('(%s) in (%s)', expr, array_to_string(placeholders, ', ')) end
    when 'not_in' then case ftype
      when 'labels' then format('not ((%s) && array[%s]::text[])', expr, array_to_string(placeholders, ', '))
      else format('(%s) is null or (%s) not in (%s)', expr, expr, array_to_string(placeholders, ', ')) end
    when 'contains' then case ftype
      when 'labels' then format('%s = any (%s)', placeholders[1], expr)
      else format('strpos(lower(%s), lower(%s)) > 0', expr, placeholders[1]) end
    when 'not_contains' then case ftype
      when 'labels' then format('not (%s = any (%s))', placeholders[1], expr)
      else format('(%1$s) is null or strpos(lower(%1$s), lower(%2$s)) = 0', expr, placeholders[1]) end
    when 'starts_with' then format('starts_with(lower(%s), lower(%s))', expr, placeholders[1])
    when 'gt' then format('(%s) > %s', expr, placeholders[1])
    when 'gte' then format('(%s) >= %s', expr, placeholders[1])
    when 'lt' then format('(%s) < %s', expr, placeholders[1])
    when 'lte' then format('(%s) <= %s', expr, placeholders[1])
    when 'between' then format('(%s) between %s and %s', expr, placeholders[1], placeholders[2])
    when 'within_last' then format('(%s) >= now() - %s', expr, placeholders[1])
    when 'older_than' then format('(%s) < now() - %s', expr, placeholders[1])
  end;
  return ('coalesce(' || sql || ', false)', params)::halo.compiled_filter;
end
$$;
grant execute on function halo.compile_filter_node(jsonb, text[], text) to authenticated, service_role;

-- A whole filter: null or {} matches everything. Also caps the filter's size.
create function halo.compile_filter(p_filter jsonb, p_params text[] default '{}')
returns halo.compiled_filter
language plpgsql stable
set search_path = ''
as $$
begin
  if p_filter is null or p_filter = '{}'::jsonb then
    return ('true', coalesce(p_params, '{}'))::halo.compiled_filter;
  end if;
  if octet_length(p_filter::text) > 20000 then
    perform halo.filter_error('$', 'a filter has at most 20000 bytes');
  end if;
  return halo.compile_filter_node(p_filter, coalesce(p_params, '{}'), '$');
end
$$;
grant execute on function halo.compile_filter(jsonb, text[]) to authenticated, service_role;

-- api ---------------------------------------------------------------------------------------------

-- Checks a filter without running it: returns it unchanged, or raises 22023 naming the problem.
create function api.validate_filter(p_filter jsonb) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  perform halo.compile_filter(p_filter);
  return coalesce(p_filter, '{}');
end
$$;
grant execute on function api.validate_filter(jsonb) to authenticated, service_role;
comment on function api.validate_filter(p_filter jsonb) is
  'Checks a FilterBar filter without running it and returns it unchanged (null becomes {}). A '
  'filter is a group {op: and, or or not, children: [...]} or a condition {field, cmp, value}; '
  'raises 22023 naming the JSON path and the unknown field, operator or bad value.';

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/inbox_views.sql
-- ================================================================================================

-- Inbox views: the built-in ticket views (All, Agent Requests, Sales, Assigned to me, Mentions and
-- one per status), custom inboxes (workspace-wide, a saved filter) and segments (personal), one
-- paginated list function for all of them (api.list_tickets, keyset pages), the sidebar counts
-- (api.inbox_counts) and the conversation lists (Live Feed and Completed: api.conversation_feed,
-- api.list_conversations). Filters are compiled by filters.sql; search is search.sql.

-- tables ------------------------------------------------------------------------------------------

create table halo.custom_inboxes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  emoji text check (length(emoji) between 1 and 16),
  filter jsonb not null default '{}',
  position integer not null default 0,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table halo.segments (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  user_id uuid not null default auth.uid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  filter jsonb not null default '{}',
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A segment belongs to a member; leaving the workspace takes one's segments along.
  foreign key (workspace_id, user_id) references halo.members (workspace_id, user_id) on delete cascade
);

-- Sidebar counts without scanning a workspace's tickets.
--
-- Counting the status views of a 300k-ticket workspace by scanning even a covering index took
-- ~200 ms under RLS. Instead every ticket write appends signed deltas per "bucket" (its status
-- view, plus agent_requests and sales while active) to halo.ticket_count_deltas, in the ticket's
-- own transaction: insert-only, so writers never wait for each other and no new lock can take part
-- in a deadlock (a counter row updated in place would serialize every ticket write of a
-- workspace and could deadlock with the commit-time event counter). Reading sums the deltas of a
-- workspace; now and then (see halo.count_ticket_buckets; read committed only, one compactor per
-- workspace via a try-lock) a writer folds the committed deltas into one row per bucket, so the
-- sum stays small.

create table halo.ticket_count_deltas (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  bucket text not null,
  n bigint not null
);

-- indexes -----------------------------------------------------------------------------------------

create index custom_inboxes_workspace_idx on halo.custom_inboxes (workspace_id, position);

create index custom_inboxes_created_by_idx on halo.custom_inboxes (created_by);

create index segments_owner_idx on halo.segments (workspace_id, user_id, position);

create index segments_user_id_idx on halo.segments (user_id);

create index ticket_count_deltas_workspace_idx on halo.ticket_count_deltas (workspace_id, bucket);

-- triggers ----------------------------------------------------------------------------------------

-- Filters are validated when saved, so a stored inbox or segment always compiles.
create function halo.saved_filter_before_write() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform halo.compile_filter(new.filter);
  new.updated_at := now();
  return new;
end
$$;

create trigger custom_inboxes_before_write
  before insert or update on halo.custom_inboxes
  for each row execute function halo.saved_filter_before_write();

create trigger segments_before_write
  before insert or update on halo.segments
  for each row execute function halo.saved_filter_before_write();

-- custom_inbox.created, .updated and .deleted, so every dashboard's sidebar follows.
create trigger custom_inboxes_emit_event
  after insert or update or delete on halo.custom_inboxes
  for each row execute function halo.emit_row_event('custom_inbox');

-- Count-delta compaction on a schedule the writes themselves set: a writer folds a workspace's
-- deltas when its inserted rows cross a multiple of 32 in the deltas' identity sequence. In a
-- workspace written alone that is every 32 delta rows; with several busy workspaces each still
-- gets about one fold per 32 of its rows, so the log stays bounded (a random 2% fold did not bound
-- it). Rows of a rolled-back write use up sequence values, so a fold can be skipped, never repeated.

create function halo.count_ticket_buckets() returns trigger
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

create trigger tickets_count_buckets
  after insert or update or delete on halo.tickets
  for each row execute function halo.count_ticket_buckets();

-- row-level security ------------------------------------------------------------------------------

alter table halo.custom_inboxes enable row level security;

alter table halo.segments enable row level security;

-- No policy: only the security definer functions above read or write it.
alter table halo.ticket_count_deltas enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- The built-in ticket views as SQL over `t` (fixed text, no values).
create function halo.builtin_view_sql(p_view text) returns text
language sql immutable
set search_path = ''
as $$
  select case p_view
    when 'all' then $v$t.status_category in ('open', 'in_progress')$v$
    when 'agent_requests' then $v$t.category = 'agent_request' and t.status_category in ('open', 'in_progress')$v$
    when 'sales' then $v$t.source = 'sales' and t.status_category in ('open', 'in_progress')$v$
    when 'assigned_to_me' then $v$t.assignee_id = (select auth.uid()) and t.status_category in ('open', 'in_progress')$v$
    when 'mentions' then $v$t.id in (select mn.ticket_id from halo.mentions mn where mn.user_id = (select auth.uid()))$v$
    when 'open' then $v$t.status_category = 'open' and t.priority in ('low', 'normal')$v$
    when 'priority' then $v$t.status_category = 'open' and t.priority in ('high', 'urgent')$v$
    when 'in_progress' then $v$t.status_category = 'in_progress'$v$
    when 'snoozed' then $v$t.status_category = 'snoozed'$v$
    when 'resolved' then $v$t.status_category = 'resolved' and t.resolved_by in ('human', 'auto')$v$
    when 'ai_resolved' then $v$t.status_category = 'resolved' and t.resolved_by = 'ai'$v$
    when 'spam' then $v$t.status_category = 'spam'$v$
  end
$$;
grant execute on function halo.builtin_view_sql(text) to authenticated, service_role;

create function halo.builtin_views() returns text[]
language sql immutable
set search_path = ''
as $$
  select array['all', 'agent_requests', 'sales', 'assigned_to_me', 'mentions', 'open', 'priority',
               'in_progress', 'snoozed', 'resolved', 'ai_resolved', 'spam']
$$;
grant execute on function halo.builtin_views() to authenticated, service_role;

-- The SQL predicate and values of a view: a built-in name, `custom:<id>`, `segment:<id>`, plus an
-- optional ad-hoc filter and search text; $1[1] must be the workspace id. Search matches the subject, the contact's name and
-- email, and message text (full text, 'simple' configuration, web-search syntax).
create function halo.view_predicate(p_view text, p_filter jsonb, p_search text, p_params text[])
returns halo.compiled_filter
language plpgsql stable
set search_path = ''
as $$
declare
  base text;
  saved jsonb;
  compiled halo.compiled_filter;
  params text[] := p_params;
  search_sql text := 'true';
begin
  if p_view = 'everything' then
    base := 'true';
  elsif p_view = any (halo.builtin_views()) then
    base := halo.builtin_view_sql(p_view);
  elsif p_view ~* '^(custom|segment):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    if p_view like 'custom:%' then
      select ci.filter into saved from halo.custom_inboxes ci where ci.id = substr(p_view, 8)::uuid;
    else
      select s.filter into saved from halo.segments s where s.id = substr(p_view, 9)::uuid;
    end if;
    if saved is null then
      raise exception 'view % does not exist', p_view using errcode = 'P0002';
    end if;
    compiled := halo.compile_filter(saved, params);
    base := compiled.sql;
    params := compiled.params;
  else
    raise exception 'unknown view %; use one of %, everything (every status), custom:<id> or segment:<id>', p_view,
      array_to_string(halo.builtin_views(), ', ') using errcode = '22023';
  end if;
  compiled := halo.compile_filter(p_filter, params);
  params := compiled.params;
  if nullif(btrim(coalesce(p_search, '')), '') is not null then
    if length(p_search) > 500 then
      raise exception 'search text has at most 500 characters' using errcode = '22023';
    end if;
    params := params || p_search;
    search_sql := format('t.id in (select halo.search_ticket_ids(($1[1])::uuid, $1[%s]))', cardinality(params));
  end if;
  return (format('(%s) and %s and %s', base, compiled.sql, search_sql), params)::halo.compiled_filter;
end
$$;
grant execute on function halo.view_predicate(text, jsonb, text, text[]) to authenticated, service_role;

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
  if not halo.has_inbox_permission(p_workspace_id, 'view') then
    raise exception 'reading the inbox of workspace % needs Inbox: View permission there', p_workspace_id
      using errcode = '42501';
  end if;
  return coalesce((select jsonb_object_agg(bucket, total)
                     from (select bucket, sum(n) as total from halo.ticket_count_deltas
                            where workspace_id = p_workspace_id group by bucket) s), '{}');
end
$$;
grant execute on function halo.ticket_bucket_counts(uuid) to authenticated, service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read custom inboxes" on halo.custom_inboxes
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who manage the inbox can add custom inboxes" on halo.custom_inboxes
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('manage')));

create policy "members who manage the inbox can edit custom inboxes" on halo.custom_inboxes
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('manage')))
  with check (workspace_id in (select halo.inbox_workspaces('manage')));

create policy "members who manage the inbox can delete custom inboxes" on halo.custom_inboxes
  for delete to authenticated
  using (workspace_id in (select halo.inbox_workspaces('manage')));

create policy "members manage their own segments" on halo.segments
  for all to authenticated
  using (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')))
  with check (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.custom_inboxes with (security_invoker = true) as
  select id, workspace_id, name, emoji, filter, position, created_by, created_at, updated_at
  from halo.custom_inboxes;
comment on view api.custom_inboxes is
  'Custom inboxes: workspace-wide saved ticket views with a name, emoji, FilterBar filter '
  '(validated when saved, 22023 when invalid) and position. Members with Inbox permission view '
  'may read; members with manage may insert, update and delete.';

create view api.segments with (security_invoker = true) as
  select id, workspace_id, user_id, name, filter, position, created_at, updated_at
  from halo.segments;
comment on view api.segments is
  'Segments: personal saved ticket views (name, FilterBar filter validated when saved, position) '
  'owned by one member. Each member with Inbox permission view reads and manages only their own '
  'segments; they are deleted when the member leaves the workspace.';

-- One page of a ticket view (built-in, `everything`, custom:<id>, segment:<id>), narrowed by an optional
-- FilterBar filter and search, as the caller sees it (RLS). p_sort: last_activity_at, created_at
-- or number, with .desc (default) or .asc. Keyset pagination: pass the last row's sort value and
-- id as p_after_value / p_after_id to get the next page.
create function api.list_tickets(
  p_workspace_id uuid default null,
  p_view text default 'all',
  p_filter jsonb default null,
  p_search text default null,
  p_sort text default 'last_activity_at.desc',
  p_after_value text default null,
  p_after_id uuid default null,
  p_limit integer default 50
) returns setof api.tickets
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  workspace uuid := halo.caller_workspace(p_workspace_id);
  predicate halo.compiled_filter;
  sort_column text := split_part(coalesce(p_sort, ''), '.', 1);
  direction text := coalesce(nullif(split_part(coalesce(p_sort, ''), '.', 2), ''), 'desc');
  sort_type text;
  keyset text := 'true';
  params text[] := array[workspace::text];
begin
  if p_limit is null or p_limit not between 1 and 200 then
    raise exception 'p_limit must be between 1 and 200, got %', p_limit using errcode = '22023';
  end if;
  sort_type := case sort_column when 'last_activity_at' then 'timestamptz' when 'created_at' then 'timestamptz'
                                when 'number' then 'bigint' end;
  if sort_type is null or direction not in ('asc', 'desc') then
    raise exception 'unknown sort %; use last_activity_at, created_at or number with .desc or .asc', p_sort
      using errcode = '22023';
  end if;
  predicate := halo.view_predicate(coalesce(p_view, 'all'), p_filter, p_search, params);
  params := predicate.params;
  if p_after_value is not null or p_after_id is not null then
    if p_after_value is null or p_after_id is null then
      raise exception 'keyset pagination needs both p_after_value and p_after_id' using errcode = '22023';
    end if;
    begin
      execute format('select %L::%s', p_after_value, sort_type);
    exception when others then
      raise exception 'p_after_value % is not a valid % for sort %', p_after_value, sort_type, p_sort
        using errcode = '22023';
    end;
    params := params || p_after_value || p_after_id::text;
    keyset := format('(t.%1$I, t.id) %2$s (($1[%3$s])::%4$s, ($1[%5$s])::uuid)', sort_column,
                     case direction when 'desc' then '<' else '>' end,
                     cardinality(params) - 1, sort_type, cardinality(params));
  end if;
  return query execute format(
    'select t.* from api.tickets t where t.workspace_id = ($1[1])::uuid and %s and %s'
    ' order by t.%I %s, t.id %s limit %s',
    predicate.sql, keyset, sort_column, direction, direction, p_limit)
    using params;
end
$$;
grant execute on function api.list_tickets(uuid, text, jsonb, text, text, text, uuid, integer)
  to authenticated, service_role;
comment on function api.list_tickets(p_workspace_id uuid, p_view text, p_filter jsonb, p_search text, p_sort text, p_after_value text, p_after_id uuid, p_limit integer) is
  'Returns one page of a ticket view as the caller sees it: a built-in view (all, agent_requests, '
  'sales, assigned_to_me, mentions, open, priority, in_progress, snoozed, resolved, ai_resolved, '
  'spam), everything, custom:<id> or segment:<id>, narrowed by an optional FilterBar filter and '
  'full-text p_search (at most 500 characters). p_sort is last_activity_at, created_at or number '
  'with .desc (default) or .asc; for the next page pass the sort value and id of the last row as '
  'p_after_value and p_after_id; p_limit 1 to 200; p_workspace_id may be omitted when the caller '
  'belongs to exactly one workspace. Needs Inbox permission view; raises 42501 when not allowed, '
  '22023 for a bad view, filter, sort, cursor or limit, and P0002 when the custom inbox or '
  'segment does not exist.';

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
comment on function api.inbox_counts(p_workspace_id uuid) is
  'Returns the sidebar counts of a workspace in one call: {workspace_id, views: {all, open, '
  'priority, in_progress, snoozed, resolved, ai_resolved, spam, agent_requests, sales, '
  'assigned_to_me, mentions}, custom_inboxes: {id: n}, segments: {id: n} (segments of the '
  'caller), conversations: {live: n}}. p_workspace_id may be omitted when the caller belongs to '
  'exactly one workspace. Needs Inbox permission view (or service_role); raises 42501 when not '
  'allowed and 22023 when the workspace cannot be chosen.';

-- The Live Feed and Completed rows: api.conversations' columns plus who it is with (the contact's
-- name or email, or Anonymous), the AI agent's name, and whether the user was active in the last
-- 30 seconds (the pulsing dot).
create view api.conversation_feed with (security_invoker = true) as
  select c.id, c.workspace_id, c.session_id, c.mode, c.ai_agent_id, c.contact_id, c.visitor_id,
         c.state, c.topic, c.sentiment, c.mood, c.ai_confidence, c.outcome, c.ai_score,
         c.ai_paused, c.metadata, c.last_user_activity_at, c.started_at, c.ended_at,
         coalesce((select coalesce(nullif(btrim(ct.name), ''), ct.email)
                   from halo.contacts ct where ct.id = c.contact_id), 'Anonymous') as user_name,
         (select a.name from halo.ai_agents a where a.id = c.ai_agent_id) as agent_name,
         coalesce(c.state = 'live' and c.last_user_activity_at > now() - interval '30 seconds', false)
           as user_active
  from halo.conversations c;
comment on view api.conversation_feed is
  'Rows of the Live Feed and Completed lists: the columns of api.conversations plus user_name '
  '(the contact name or email, or Anonymous), agent_name and user_active (live and user activity '
  'in the last 30 seconds). Members with Inbox permission view may read.';

create function api.list_conversations(
  p_workspace_id uuid default null,
  p_view text default 'live',
  p_before timestamptz default null,
  p_before_id uuid default null,
  p_limit integer default 50
) returns setof api.conversation_feed
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  workspace uuid := halo.caller_workspace(p_workspace_id);
begin
  if p_limit is null or p_limit not between 1 and 200 then
    raise exception 'p_limit must be between 1 and 200, got %', p_limit using errcode = '22023';
  end if;
  if p_view = 'live' then
    return query select * from api.conversation_feed c
      where c.workspace_id = workspace and c.state = 'live'
        and (p_before is null or (c.started_at, c.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      order by c.started_at desc, c.id desc limit p_limit;
  elsif p_view = 'completed' then
    return query select * from api.conversation_feed c
      where c.workspace_id = workspace and c.state = 'completed'
        and (p_before is null or (c.ended_at, c.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      order by c.ended_at desc, c.id desc limit p_limit;
  else
    raise exception 'unknown conversation view %; use live or completed', p_view using errcode = '22023';
  end if;
end
$$;
grant execute on function api.list_conversations(uuid, text, timestamptz, uuid, integer) to authenticated, service_role;
comment on function api.list_conversations(p_workspace_id uuid, p_view text, p_before timestamp with time zone, p_before_id uuid, p_limit integer) is
  'Returns one page of the Live Feed (p_view live, newest start first) or Completed list (p_view '
  'completed, newest end first) as api.conversation_feed rows. Keyset pagination: pass the '
  'started_at (live) or ended_at (completed) and id of the last row as p_before and p_before_id; '
  'p_limit 1 to 200; p_workspace_id may be omitted when the caller belongs to exactly one '
  'workspace. Needs Inbox permission view (or service_role); raises 42501 when not allowed and '
  '22023 for an unknown view, a bad limit or when the workspace cannot be chosen.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.custom_inboxes to authenticated;

grant select, insert, update, delete on halo.segments to authenticated;

grant all on halo.custom_inboxes to service_role;

grant all on halo.segments to service_role;

grant select, insert, update, delete on api.custom_inboxes to authenticated, service_role;

grant select, insert, update, delete on api.segments to authenticated, service_role;

grant all on halo.ticket_count_deltas to service_role;

grant select on api.conversation_feed to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/search.sql
-- ================================================================================================

-- Search: full-text search of a workspace's tickets over the subject, the contact's name and
-- email, and message text, ranked; the list function combines it with any view and filter.

-- helpers -----------------------------------------------------------------------------------------

-- Full-text search of a workspace's tickets: subject, the contact's name and email, message text
-- ('simple' configuration, web-search syntax). Security definer because `@@` is not leakproof:
-- behind RLS PostgreSQL may not use the GIN indexes for it and scanned every message (7.5 s on
-- 3M messages); here it checks the caller's Inbox: View permission once and uses the indexes.
-- A query of only very common words yields the 500 most recently active matches.
create function halo.search_ticket_ids(p_workspace_id uuid, p_search text) returns setof uuid
language plpgsql stable
security definer
rows 100
set search_path = ''
as $$
declare
  query tsquery := websearch_to_tsquery('simple', p_search);
begin
  if not halo.has_inbox_permission(p_workspace_id, 'view') then
    raise exception 'searching workspace % needs Inbox: View permission there', p_workspace_id
      using errcode = '42501';
  end if;
  -- Words in a large share of messages ("screenshot") would fetch all those messages from the
  -- index; then the most recently active matching tickets are found by walking the tickets.
  -- "Common" = every word is among the index's most common lexemes with a frequency of 0.2% or
  -- more (ANALYZE statistics of messages_body_fts_idx; without them, nothing is common).
  if (select bool_and(coalesce(s.most_common_elem_freqs[array_position(s.most_common_elems::text::text[], w.word)], 0) >= 0.002)
        from unnest(tsvector_to_array(to_tsvector('simple', p_search))) w(word)
        left join pg_catalog.pg_stats s on s.schemaname = 'halo' and s.tablename = 'messages_body_fts_idx') then
    return query
      select t.id from halo.tickets t
       where t.workspace_id = p_workspace_id
         and (to_tsvector('simple', t.subject) @@ query
              -- offset 0 keeps this a per-ticket probe (not a hash of every matching message)
              or exists (select 1 from halo.messages m
                          where m.ticket_id = t.id and m.kind <> 'system'
                            and to_tsvector('simple', coalesce(m.body_text, '')) @@ query offset 0)
              or t.contact_id in (select c.id from halo.contacts c
                                   where c.workspace_id = p_workspace_id
                                     and to_tsvector('simple', coalesce(c.name, '') || ' ' || coalesce(c.email, '')) @@ query))
       order by t.last_activity_at desc
       limit 500;
    return;
  end if;
  return query
    select t.id from halo.tickets t
     where t.workspace_id = p_workspace_id and to_tsvector('simple', t.subject) @@ query
    union
    select m.ticket_id from halo.messages m
     where m.workspace_id = p_workspace_id and m.kind <> 'system' and m.ticket_id is not null
       and to_tsvector('simple', coalesce(m.body_text, '')) @@ query
    union
    select t.id from halo.tickets t
     where t.workspace_id = p_workspace_id
       and t.contact_id in (select c.id from halo.contacts c
                             where c.workspace_id = p_workspace_id
                               and to_tsvector('simple', coalesce(c.name, '') || ' ' || coalesce(c.email, '')) @@ query);
end
$$;
grant execute on function halo.search_ticket_ids(uuid, text) to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/inbound_email.sql
-- ================================================================================================

-- Inbound email: the addresses that route mail to a workspace, the spam rules and trusted senders,
-- the deliveries the `inbound-email` edge function stores before it answers the provider, and the
-- one call that turns a parsed message into a ticket update.
--
-- The edge function verifies the webhook, stores the raw delivery (inline when small, else in the
-- private Storage bucket `inbound-email`) and calls api.receive_inbound_email, which records the
-- delivery and enqueues its `email.inbound` job in one transaction; only then does it answer 2xx.
-- The worker parses the stored bytes (halo_supabase/email) and calls api.apply_inbound_emails with
-- a group of parsed emails, each applied in its own subtransaction by api.apply_inbound_email:
-- idempotent per delivery, deduped on (workspace, Message-ID), threaded, reopening, upserting the
-- contact and appending the message.

-- tables ------------------------------------------------------------------------------------------

create table halo.spam_rules (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  description text not null check (length(btrim(description)) between 1 and 1000),
  enabled boolean not null default true,
  created_at timestamptz not null default now()
);

-- An address (`jo@example.com`) or a whole domain (`@example.com`); both bypass spam detection.
create table halo.trusted_senders (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  pattern text not null check (pattern ~ '^([^@\s]+)?@[^@\s]+\.[^@\s]+$'),
  created_at timestamptz not null default now()
);

create table halo.inbound_addresses (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  address text not null check (address ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  display_name text,
  is_default boolean not null default false,
  created_at timestamptz not null default now()
);

create table halo.inbound_emails (
  id uuid primary key default gen_random_uuid(),
  -- Resolved from the recipient through halo.inbound_addresses at receipt; null = unroutable.
  workspace_id uuid references halo.workspaces (id) on delete cascade,
  provider text not null check (provider in ('mailgun', 'postmark', 'sendgrid', 'raw')),
  -- The provider's own id of the delivery; the same id delivered twice is stored once.
  provider_message_id text check (length(provider_message_id) between 1 and 500),
  recipient text not null check (length(recipient) between 3 and 500),
  -- Where the delivery's bytes are, in the `inbound-email` bucket, and in which shape:
  -- `mime` (raw RFC 5322) or the provider's `form`/`json` payload (rebuilt by the worker).
  -- Small deliveries (valid UTF-8, at most 64 KiB) are kept in raw_inline instead and carried by
  -- the `email.inbound` job's payload: no Storage upload in the function, no download in the
  -- worker. Either way the raw message is stored before the webhook is answered 2xx.
  storage_path text check (length(storage_path) between 1 and 1000),
  payload_format text not null check (payload_format in ('mime', 'form', 'json')),
  -- MESSAGE_MAX_BYTES and INLINE_RAW_MAX_BYTES below are declared in halo_supabase/limits.py;
  -- tests/db/test_limits.py holds these literals equal to them.
  size_bytes integer not null check (size_bytes between 0 and 26214400),
  state text not null default 'received'
    check (state in ('received', 'applied', 'duplicate', 'ignored', 'unroutable')),
  outcome jsonb,
  ticket_id uuid references halo.tickets (id) on delete set null,
  message_id uuid references halo.messages (id) on delete set null,
  received_at timestamptz not null default now(),
  applied_at timestamptz,
  raw_inline text check (octet_length(raw_inline) <= 65536),
  constraint inbound_emails_stored_once check (num_nonnulls(storage_path, raw_inline) = 1)
);

-- Mailgun webhook tokens already accepted (replay protection), kept until `expires_at`.
create table halo.webhook_tokens (
  token text primary key check (length(token) between 1 and 200),
  expires_at timestamptz not null
);

-- The secrets that sign our Message-IDs and reply addresses, newest first when read; old ones stay
-- so replies to threads signed before a rotation still verify.
create table halo.email_secrets (
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  secret text not null check (length(secret) >= 32),
  created_at timestamptz not null default clock_timestamp(),
  primary key (workspace_id, created_at)
);

-- Private: raw deliveries hold customer data; only the service role (bypassing RLS) reads them.
-- The size limit is MESSAGE_MAX_BYTES (halo_supabase/limits.py; tests/db/test_limits.py).
insert into storage.buckets (id, name, public, file_size_limit)
values ('inbound-email', 'inbound-email', false, 26214400)
on conflict (id) do nothing;

-- indexes -----------------------------------------------------------------------------------------

create index spam_rules_workspace_id_idx on halo.spam_rules (workspace_id);

create unique index trusted_senders_workspace_pattern_key
  on halo.trusted_senders (workspace_id, lower(pattern));

-- An address routes to exactly one workspace.
create unique index inbound_addresses_address_key on halo.inbound_addresses (lower(address));

create index inbound_addresses_workspace_id_idx on halo.inbound_addresses (workspace_id);

create unique index inbound_emails_provider_message_id_key
  on halo.inbound_emails (provider, provider_message_id) where provider_message_id is not null;

create index inbound_emails_workspace_id_idx on halo.inbound_emails (workspace_id);

create index inbound_emails_ticket_id_idx on halo.inbound_emails (ticket_id);

create index inbound_emails_message_id_idx on halo.inbound_emails (message_id);

create index webhook_tokens_expires_at_idx on halo.webhook_tokens (expires_at);

-- row-level security ------------------------------------------------------------------------------

alter table halo.spam_rules enable row level security;

alter table halo.trusted_senders enable row level security;

alter table halo.inbound_addresses enable row level security;

-- No policies: service_role only (workers and the edge function).
alter table halo.inbound_emails enable row level security;

alter table halo.webhook_tokens enable row level security;

alter table halo.email_secrets enable row level security;

-- policies ----------------------------------------------------------------------------------------

create policy "members can read spam rules" on halo.spam_rules
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "admins can add spam rules" on halo.spam_rules
  for insert to authenticated
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can edit spam rules" on halo.spam_rules
  for update to authenticated
  using (workspace_id in (select halo.admin_workspaces()))
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can delete spam rules" on halo.spam_rules
  for delete to authenticated
  using (workspace_id in (select halo.admin_workspaces()));

create policy "members can read trusted senders" on halo.trusted_senders
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "admins can add trusted senders" on halo.trusted_senders
  for insert to authenticated
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can delete trusted senders" on halo.trusted_senders
  for delete to authenticated
  using (workspace_id in (select halo.admin_workspaces()));

create policy "members can read inbound addresses" on halo.inbound_addresses
  for select to authenticated
  using (workspace_id in (select halo.member_workspaces()));

create policy "admins can add inbound addresses" on halo.inbound_addresses
  for insert to authenticated
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can edit inbound addresses" on halo.inbound_addresses
  for update to authenticated
  using (workspace_id in (select halo.admin_workspaces()))
  with check (workspace_id in (select halo.admin_workspaces()));

create policy "admins can delete inbound addresses" on halo.inbound_addresses
  for delete to authenticated
  using (workspace_id in (select halo.admin_workspaces()));

-- api ---------------------------------------------------------------------------------------------

create view api.spam_rules with (security_invoker = true) as
  select id, workspace_id, description, enabled, created_at from halo.spam_rules;
comment on view api.spam_rules is
  'Spam rules of a workspace: a free-text description used by spam detection, and an enabled '
  'flag. Every member may read; admins and super admins may insert, update and delete.';

create view api.trusted_senders with (security_invoker = true) as
  select id, workspace_id, pattern, created_at from halo.trusted_senders;
comment on view api.trusted_senders is
  'Trusted senders of a workspace: an address (jo@example.com) or a whole domain (@example.com) '
  'whose mail bypasses spam detection. Every member may read; admins and super admins may insert '
  'and delete.';

create view api.inbound_addresses with (security_invoker = true) as
  select id, workspace_id, address, display_name, is_default, created_at
  from halo.inbound_addresses;
comment on view api.inbound_addresses is
  'Email addresses that route inbound mail to a workspace; an address belongs to exactly one '
  'workspace (case-insensitive). Every member may read; admins and super admins may insert, '
  'update and delete.';

create view api.inbound_emails with (security_invoker = true) as
  select id, workspace_id, provider, provider_message_id, recipient, storage_path, payload_format,
         size_bytes, state, outcome, ticket_id, message_id, received_at, applied_at
  from halo.inbound_emails;
comment on view api.inbound_emails is
  'Inbound email deliveries as received from the provider webhook: workspace (null when '
  'unroutable), provider and provider message id, recipient, Storage path and payload format of '
  'the raw bytes, size, state (received, applied, duplicate, ignored, unroutable), the outcome of '
  'applying it, and the resulting ticket and message. service_role only.';

-- The workspace's signing secrets, newest first; the first call creates one.
create function api.email_secrets(p_workspace_id uuid) returns text[]
language plpgsql
security invoker
set search_path = ''
as $$
declare
  secrets text[];
begin
  select array_agg(secret order by created_at desc) into secrets
    from halo.email_secrets where workspace_id = p_workspace_id;
  if secrets is null then
    insert into halo.email_secrets (workspace_id, secret)
    values (p_workspace_id, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
    on conflict do nothing;
    select array_agg(secret order by created_at desc) into secrets
      from halo.email_secrets where workspace_id = p_workspace_id;
  end if;
  return secrets;
end
$$;
grant execute on function api.email_secrets(uuid) to service_role;
comment on function api.email_secrets(p_workspace_id uuid) is
  'Returns the secrets that sign the outbound Message-IDs and reply addresses of a workspace, '
  'newest first; older ones are kept so replies to threads signed before a rotation still verify. '
  'The first call for a workspace creates a secret. service_role only.';

create function api.receive_inbound_email(
  p_provider text,
  p_recipient text,
  p_storage_path text,
  p_payload_format text,
  p_size_bytes integer,
  p_provider_message_id text default null,
  p_token text default null,
  p_token_ttl_seconds integer default 600,
  p_raw text default null
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  delivery_id uuid;
  workspace uuid;
begin
  if num_nonnulls(p_storage_path, p_raw) <> 1 then
    raise exception 'pass either p_storage_path (bytes in Storage) or p_raw (the payload inline)'
      using errcode = '22023';
  end if;
  if octet_length(p_raw) > 65536 then  -- INLINE_RAW_MAX_BYTES, halo_supabase/limits.py
    raise exception 'p_raw is % bytes; payloads over 64 KiB go to Storage (p_storage_path)',
      octet_length(p_raw) using errcode = '22023';
  end if;
  if p_raw is not null and p_payload_format = 'form' then
    raise exception 'form payloads (with files) go to Storage (p_storage_path)'
      using errcode = '22023';
  end if;
  if p_token is not null then
    delete from halo.webhook_tokens where expires_at < now();
    insert into halo.webhook_tokens (token, expires_at)
    values (p_token, now() + make_interval(secs => p_token_ttl_seconds))
    on conflict (token) do nothing;
    if not found then
      raise exception 'webhook token already used' using errcode = '23505',
        hint = 'A replayed webhook; the original delivery was stored.';
    end if;
  end if;
  select workspace_id into workspace from halo.inbound_addresses
   where lower(address) = lower(btrim(p_recipient, ' <>'));
  -- A reply address (reply+<ticket hex>-<mac>@…) routes to its ticket's workspace; the worker
  -- verifies the MAC with the workspace's secrets before it threads anything by it.
  if workspace is null then
    select t.workspace_id into workspace from halo.tickets t
     where t.id = (substring(lower(p_recipient) from '^<?reply\+([0-9a-f]{32})-[0-9a-f]{16}@'))::uuid;
  end if;
  insert into halo.inbound_emails (workspace_id, provider, provider_message_id, recipient,
                                   storage_path, raw_inline, payload_format, size_bytes, state)
  values (workspace, p_provider, p_provider_message_id, p_recipient, p_storage_path, p_raw,
          p_payload_format, p_size_bytes,
          case when workspace is null then 'unroutable' else 'received' end)
  on conflict (provider, provider_message_id) where provider_message_id is not null do nothing
  returning id into delivery_id;
  if delivery_id is null then
    select id into delivery_id from halo.inbound_emails
     where provider = p_provider and provider_message_id = p_provider_message_id;
    return jsonb_build_object('id', delivery_id, 'duplicate', true);
  end if;
  if workspace is not null then
    perform halo.enqueue_job('email.inbound',
                             jsonb_strip_nulls(jsonb_build_object(
                               'inbound_id', delivery_id, 'provider', p_provider,
                               'storage_path', p_storage_path, 'raw', p_raw,
                               'payload_format', p_payload_format)),
                             'inbound:' || delivery_id, workspace);
  end if;
  return jsonb_build_object('id', delivery_id, 'duplicate', false, 'routed', workspace is not null);
end
$$;
grant execute on function
  api.receive_inbound_email(text, text, text, text, integer, text, text, integer, text)
  to service_role;
comment on function api.receive_inbound_email(p_provider text, p_recipient text, p_storage_path text, p_payload_format text, p_size_bytes integer, p_provider_message_id text, p_token text, p_token_ttl_seconds integer, p_raw text) is
  'Records one verified inbound email delivery and, when its recipient routes to a workspace (an '
  'inbound address, or a reply+ address of a ticket), enqueues its email.inbound job in the same '
  'transaction; pass exactly one of p_storage_path (bytes in the inbound-email Storage bucket) or '
  'p_raw (the payload inline, at most 64 KiB, not form). Returns {id, duplicate, routed}; a '
  'provider message id stored before returns that delivery with duplicate true and enqueues '
  'nothing. service_role only; raises 23505 when the webhook token p_token was already used (a '
  'replay) and 22023 for invalid payload arguments.';

create function api.apply_inbound_email(p_inbound_id uuid, p_email jsonb) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  delivery halo.inbound_emails;
  automatic boolean := halo.is_automatic_email(p_email->>'kind');
  sender text := lower(p_email->>'from_email');
  customer text := lower(coalesce(p_email->>'customer_email', p_email->>'from_email'));
  contact uuid;
  ticket halo.tickets;
  candidate text;
  found_ticket uuid;
  new_message uuid;
  result jsonb;
  participants jsonb;
begin
  select * into delivery from halo.inbound_emails where id = p_inbound_id for update;
  if delivery.id is null then
    raise exception 'inbound email % does not exist', p_inbound_id using errcode = 'P0002';
  end if;
  if delivery.state <> 'received' then
    return delivery.outcome || jsonb_build_object('replayed', true);
  end if;

  if p_email->>'message_id' is not null and exists (
    select 1 from halo.messages
     where workspace_id = delivery.workspace_id and email_message_id = p_email->>'message_id'
  ) then
    result := jsonb_build_object('result', 'duplicate');
    update halo.inbound_emails set state = 'duplicate', outcome = result, applied_at = now()
     where id = p_inbound_id;
    return result;
  end if;

  -- Threading: verified ticket ids first, then stored Message-IDs, each behind the guards.
  for candidate in
    select value from jsonb_array_elements_text(coalesce(p_email->'ticket_candidates', '[]'))
    union all
    select m.ticket_id::text
      from jsonb_array_elements_text(coalesce(p_email->'message_id_candidates', '[]'))
             with ordinality as c(value, position)
      join halo.messages m on m.workspace_id = delivery.workspace_id
                          and m.email_message_id = c.value and m.ticket_id is not null
  loop
    select * into ticket from halo.tickets
     where id = halo.ticket_after_merges(candidate::uuid) and workspace_id = delivery.workspace_id;
    continue when ticket.id is null;
    if automatic or exists (
      select 1 from halo.contacts c where c.id = ticket.contact_id and lower(c.email) = sender
    ) or ticket.metadata->'participants' ? sender then
      found_ticket := ticket.id;
      exit;
    end if;
  end loop;

  if found_ticket is null and automatic then
    result := jsonb_build_object('result', 'ignored', 'kind', p_email->>'kind');
    update halo.inbound_emails set state = 'ignored', outcome = result, applied_at = now()
     where id = p_inbound_id;
    return result;
  end if;

  if not automatic then
    insert into halo.contacts (workspace_id, email, name)
    values (delivery.workspace_id, customer,
            nullif(coalesce(p_email->>'customer_name', p_email->>'from_name'), ''))
    on conflict (workspace_id, lower(email)) do update
      set last_seen_at = now(), name = coalesce(halo.contacts.name, excluded.name)
    returning id into contact;
  else
    select id into contact from halo.contacts
     where workspace_id = delivery.workspace_id and lower(email) = sender;
  end if;

  select coalesce(jsonb_agg(distinct lower(cc->>'email')), '[]') into participants
    from jsonb_array_elements(coalesce(p_email->'cc', '[]')) cc
   where lower(cc->>'email') <> customer;

  if found_ticket is null then
    -- With the activity the message trigger would set, so it has nothing left to update.
    insert into halo.tickets (workspace_id, subject, status_category, source, channel, contact_id,
                              last_activity_at, last_customer_message_at, waiting_since, metadata)
    values (delivery.workspace_id, left(coalesce(p_email->>'subject', ''), 500),
            case when coalesce((p_email->>'spam')::boolean, false) then 'spam' else 'open' end
              ::halo.ticket_status_category,
            'email', 'email', contact, now(), now(), now(),
            jsonb_build_object('participants', participants, 'inbound_address', delivery.recipient)
              || case when coalesce((p_email->>'spam')::boolean, false)
                      then jsonb_build_object('spam_reasons', p_email->'spam_reasons')
                      else '{}'::jsonb end)
    returning id into found_ticket;
  elsif jsonb_array_length(participants) > 0 then
    update halo.tickets t
       set metadata = jsonb_set(t.metadata, '{participants}', (
             select coalesce(jsonb_agg(distinct p), '[]')
               from jsonb_array_elements(coalesce(t.metadata->'participants', '[]') || participants) p))
     where t.id = found_ticket;
  end if;

  insert into halo.messages (ticket_id, kind, direction, author_kind, author_contact_id, body_text,
                             body_html, email_message_id, email_in_reply_to, email_references,
                             email_headers, attachments)
  values (found_ticket, 'email', 'inbound', 'customer', contact,
          left(coalesce(p_email->>'body_text', ''), 200000), left(p_email->>'body_html', 1000000),
          p_email->>'message_id', p_email->>'in_reply_to',
          array(select jsonb_array_elements_text(coalesce(p_email->'references', '[]'))),
          coalesce(p_email->'headers', '{}') || jsonb_build_object('halo_kind', p_email->>'kind'),
          coalesce(p_email->'attachments', '[]'))
  returning id into new_message;

  result := jsonb_build_object('result', 'applied', 'ticket_id', found_ticket,
                                'message_id', new_message, 'kind', p_email->>'kind');
  update halo.inbound_emails
     set state = 'applied', outcome = result, ticket_id = found_ticket, message_id = new_message,
         applied_at = now()
   where id = p_inbound_id;
  return result;
end
$$;
grant execute on function api.apply_inbound_email(uuid, jsonb) to service_role;
comment on function api.apply_inbound_email(p_inbound_id uuid, p_email jsonb) is
  'Applies one parsed inbound delivery (p_email built by the email worker) and returns the '
  'outcome, also stored on the delivery: dedupes on the Message-ID in the workspace, threads onto '
  'a candidate ticket whose contact or a participant is the sender (following merges), ignores '
  'bounces and auto-replies that match no thread, otherwise upserts the contact and opens a new '
  'ticket (spam when p_email.spam), then appends the inbound message. Idempotent: a delivery '
  'applied before returns its first outcome with replayed true. service_role only; raises P0002 '
  'when the delivery does not exist.';

-- Applies a group of parsed emails, each in its own subtransaction, so one email's error is its own
-- outcome. A new ticket takes its workspace's ticket counter (halo.workspace_counters) and holds
-- it to the end of the transaction, and a group holds contact rows too; so that two groups from
-- several email workers cannot deadlock, a group takes the counters of every workspace it writes
-- to before anything else, in workspace order. (Events take their workspace's counter only at
-- commit, events.sql, so they are never part of such a cycle.)

create function api.apply_inbound_emails(p_items jsonb) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  item jsonb;
  outcome jsonb;
  outcomes jsonb := '[]';
  failure_code text;
  failure_message text;
begin
  if p_items is null or jsonb_typeof(p_items) <> 'array'
     or jsonb_array_length(p_items) not between 1 and 500 then
    raise exception 'p_items must be an array of 1 to 500 {"inbound_id", "email"} objects'
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_items) e
              where jsonb_typeof(e) <> 'object'
                 or jsonb_typeof(e->'inbound_id') is distinct from 'string'
                 or jsonb_typeof(e->'email') is distinct from 'object') then
    raise exception 'every entry of p_items needs a string "inbound_id" and an object "email"'
      using errcode = '22023';
  end if;

  -- Ids that are not uuids are left to fail as their own email's outcome below.
  perform 1 from halo.workspace_counters c
   where c.workspace_id in (
           select d.workspace_id from halo.inbound_emails d
            where d.id in (select (e->>'inbound_id')::uuid from jsonb_array_elements(p_items) e
                            where e->>'inbound_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'))
   order by c.workspace_id
     for update;

  for item in select e from jsonb_array_elements(p_items) e loop
    begin
      outcome := api.apply_inbound_email((item->>'inbound_id')::uuid, item->'email');
    exception when others then
      get stacked diagnostics failure_code = returned_sqlstate, failure_message = message_text;
      outcome := jsonb_build_object(
        'error', jsonb_build_object('code', failure_code, 'message', failure_message));
    end;
    outcomes := outcomes || jsonb_build_array(outcome);
  end loop;
  return outcomes;
end
$$;
grant execute on function api.apply_inbound_emails(jsonb) to service_role;
comment on function api.apply_inbound_emails(p_items jsonb) is
  'Applies a group of 1 to 500 parsed inbound deliveries ([{inbound_id, email}]) in one '
  'transaction, each through api.apply_inbound_email in its own subtransaction, and returns one '
  'outcome per item in order; a failed item yields {error: {code, message}} and does not affect '
  'the others. The ticket counters of the workspaces involved are locked first, so groups of one '
  'workspace run one after the other. service_role only; raises 22023 for a malformed p_items.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.spam_rules to authenticated;

grant select, insert, update, delete on halo.inbound_addresses to authenticated;

grant select, insert, delete on halo.trusted_senders to authenticated;

grant all on halo.spam_rules to service_role;

grant all on halo.trusted_senders to service_role;

grant all on halo.inbound_addresses to service_role;

grant select, insert, update, delete on api.spam_rules to authenticated;

grant select, insert, update, delete on api.inbound_addresses to authenticated;

grant select, insert, delete on api.trusted_senders to authenticated;

grant select, insert, update, delete on api.spam_rules to service_role;

grant select, insert, update, delete on api.trusted_senders to service_role;

grant select, insert, update, delete on api.inbound_addresses to service_role;

grant select, insert, update, delete on halo.inbound_emails to service_role;

grant select, insert, update, delete on halo.webhook_tokens to service_role;

grant select, insert, update, delete on halo.email_secrets to service_role;

grant select on api.inbound_emails to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/outbound_email.sql
-- ================================================================================================

-- Outbound email: what the `email.send` worker reads to build a threaded reply, and how it records
-- that the reply went out. Service role only.

-- api ---------------------------------------------------------------------------------------------

-- Everything needed to send one outbound email message: the message, its ticket, the customer,
-- the message it answers (the latest inbound email before it), the sender identity (the
-- workspace's default inbound address and name, the author's display name).
create function api.outbound_email_context(p_message_id uuid) returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'message', jsonb_build_object(
      'id', m.id, 'ticket_id', m.ticket_id, 'workspace_id', m.workspace_id, 'kind', m.kind,
      'direction', m.direction, 'author_kind', m.author_kind, 'body_text', m.body_text,
      'body_html', m.body_html, 'email_message_id', m.email_message_id,
      'automatic', coalesce(m.email_headers->>'auto_submitted', '') = 'auto-replied'),
    'ticket', jsonb_build_object('id', t.id, 'subject', t.subject, 'metadata', t.metadata),
    'contact', (select jsonb_build_object('email', c.email, 'name', c.name)
                  from halo.contacts c where c.id = t.contact_id),
    'replied', (select jsonb_build_object('email_message_id', r.email_message_id,
                                          'email_references', coalesce(r.email_references, '{}'))
                  from halo.messages r
                 where r.ticket_id = m.ticket_id and r.kind = 'email' and r.direction = 'inbound'
                   and r.email_message_id is not null and r.created_at <= m.created_at
                 order by r.created_at desc limit 1),
    'identity', (select jsonb_build_object('address', a.address,
                                           'name', coalesce(a.display_name, w.name))
                   from halo.inbound_addresses a
                  where a.workspace_id = m.workspace_id
                  order by a.is_default desc, a.created_at limit 1),
    'agent_name', (select mb.display_name from halo.members mb
                    where mb.workspace_id = m.workspace_id and mb.user_id = m.author_user_id))
  from halo.messages m
  join halo.tickets t on t.id = m.ticket_id
  join halo.workspaces w on w.id = m.workspace_id
  where m.id = p_message_id
$$;
grant execute on function api.outbound_email_context(uuid) to service_role;
comment on function api.outbound_email_context(p_message_id uuid) is
  'Returns what the email.send worker needs to send one outbound ticket message as JSON: message '
  '(with an automatic flag), ticket (subject, metadata), contact (email, name), replied '
  '(Message-ID and References of the latest inbound email before it, for threading), identity '
  '(the default inbound address of the workspace and its display name) and agent_name. Returns '
  'null when the message does not exist or has no ticket. service_role only.';

-- Records that an outbound message was handed to the mail provider: its Message-ID (threading
-- looks replies up by it) and threading headers. Only the first call writes; a retried job sees
-- the Message-ID and does not send again.
create function api.mark_email_sent(
  p_message_id uuid,
  p_email_message_id text,
  p_in_reply_to text default null,
  p_references text[] default null
) returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
  update halo.messages
     set email_message_id = p_email_message_id, email_in_reply_to = p_in_reply_to,
         email_references = p_references
   where id = p_message_id and email_message_id is null;
  return found;
end
$$;
grant execute on function api.mark_email_sent(uuid, text, text, text[]) to service_role;
comment on function api.mark_email_sent(p_message_id uuid, p_email_message_id text, p_in_reply_to text, p_references text[]) is
  'Records that an outbound message was handed to the mail provider: stores its Message-ID, '
  'In-Reply-To and References. Only the first call writes and returns true; it returns false when '
  'the message already has a Message-ID (a retried job must not send again) or does not exist. '
  'service_role only.';

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/conversation_runtime.sql
-- ================================================================================================

-- The conversation runtime API: what an AI runtime (the chat widget's backend, with a workspace API
-- key through the `conversations` edge function, or the service role) calls to record a session:
-- start, messages (user, AI with confidence and tool calls, teammate, system), user-activity
-- heartbeats, the widget opening and closing, identify, end, and the updates it polls.
--
-- Every AI message of a live, unpaused conversation without a ticket enqueues one
-- `conversation.escalate` job in the same transaction (escalation_and_takeover.sql decides).
-- Teammate replies reach the widget as message.created on the conversation's topic while the
-- widget is open; while it is closed they wait in halo.queued_replies and every opening returns
-- them until api.acknowledge_widget_replies says they were shown (at least once delivery).
-- What the AI did on each turn (confidence 0-100, tool calls) is kept in halo.ai_replies.
--
-- Every RPC here takes an optional p_workspace_id: the edge function passes the API key's
-- workspace, so a conversation of another workspace is "not found", exactly like a missing one.
-- Errors: 22023 bad argument (named), P0002 unknown conversation or visitor, PT409 (HTTP 409) the
-- conversation's state forbids it (AI paused, completed, taken over), 42501 not allowed.

-- tables ------------------------------------------------------------------------------------------

create table halo.ai_replies (
  message_id uuid primary key references halo.messages (id) on delete cascade,
  conversation_id uuid not null references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  confidence smallint check (confidence between 0 and 100),
  -- [{"name": "knowledge_search", "arguments": {...}}, ...]; names checked by the API.
  tool_calls jsonb not null default '[]'
    check (jsonb_typeof(tool_calls) = 'array' and octet_length(tool_calls::text) <= 20000),
  created_at timestamptz not null default now()
);

create table halo.widget_states (
  conversation_id uuid primary key references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  open boolean not null,
  changed_at timestamptz not null default now()
);

create table halo.queued_replies (
  -- Delivery order: the order the replies were written (created_at ties within a transaction).
  seq bigint generated always as identity,
  message_id uuid primary key references halo.messages (id) on delete cascade,
  conversation_id uuid not null references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  queued_at timestamptz not null default now(),
  deliveries integer not null default 0,
  last_delivered_at timestamptz
);

comment on column halo.queued_replies.deliveries is
  'How many times opening the widget returned this reply without an acknowledgement yet.';

-- indexes -----------------------------------------------------------------------------------------

create index ai_replies_conversation_idx on halo.ai_replies (conversation_id, created_at);

create index ai_replies_workspace_id_idx on halo.ai_replies (workspace_id);

create index widget_states_workspace_id_idx on halo.widget_states (workspace_id);

create index queued_replies_conversation_idx on halo.queued_replies (conversation_id, seq);

create index queued_replies_workspace_id_idx on halo.queued_replies (workspace_id);

-- triggers ----------------------------------------------------------------------------------------

-- One thread: a conversation message (not a whisper) joins the conversation's ticket, and a chat
-- reply on a conversation's ticket joins the conversation (so it reaches the widget). Runs after
-- messages_before_insert (trigger names fire in order), which has already checked workspaces.
create function halo.link_conversation_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.conversation_id is not null and new.ticket_id is null and new.kind <> 'whisper' then
    new.ticket_id := halo.conversation_ticket(new.conversation_id);
  elsif new.ticket_id is not null and new.conversation_id is null and new.kind = 'chat' then
    select t.conversation_id into new.conversation_id from halo.tickets t where t.id = new.ticket_id;
  end if;
  return new;
end
$$;

create trigger messages_link_conversation
  before insert on halo.messages
  for each row execute function halo.link_conversation_message();

create function halo.ai_reply_before_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select workspace_id, conversation_id into new.workspace_id, new.conversation_id
  from halo.messages where id = new.message_id;
  if new.conversation_id is null then
    raise exception 'message % is not a conversation message', new.message_id using errcode = '22023';
  end if;
  return new;
end
$$;

create trigger ai_replies_before_insert
  before insert on halo.ai_replies
  for each row execute function halo.ai_reply_before_insert();

-- What the customer sees from the human side (teammate chat, the handoff notice) is queued while
-- the widget is closed. A conversation without a widget row has its widget open.
create function halo.queue_reply_for_closed_widget() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if ((new.kind = 'chat' and new.author_kind in ('teammate', 'alias_user'))
      or (new.kind = 'system' and new.activity ->> 'action' = 'teammate_joined'))
     and exists (select 1 from halo.widget_states w
                 where w.conversation_id = new.conversation_id and not w.open) then
    insert into halo.queued_replies (message_id, conversation_id, workspace_id)
    values (new.id, new.conversation_id, new.workspace_id);
  end if;
  return null;
end
$$;

create trigger messages_queue_for_closed_widget
  after insert on halo.messages
  for each row
  when (new.conversation_id is not null and new.author_kind in ('teammate', 'alias_user', 'system'))
  execute function halo.queue_reply_for_closed_widget();

-- row-level security ------------------------------------------------------------------------------

alter table halo.ai_replies enable row level security;

alter table halo.widget_states enable row level security;

alter table halo.queued_replies enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- The conversation an API call names, locked for the caller's transaction when p_lock; "not
-- found" when it is missing or belongs to another workspace than p_workspace_id (when given).
create function halo.conversation_for_api(
  p_conversation_id uuid, p_workspace_id uuid, p_lock boolean default false
) returns halo.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
begin
  if p_conversation_id is null then
    raise exception 'p_conversation_id is required' using errcode = '22023';
  end if;
  if p_lock then
    select * into conv from halo.conversations where id = p_conversation_id for update;
  else
    select * into conv from halo.conversations where id = p_conversation_id;
  end if;
  if conv.id is null or (p_workspace_id is not null and conv.workspace_id <> p_workspace_id) then
    raise exception 'conversation % does not exist in this workspace', p_conversation_id
      using errcode = 'P0002';
  end if;
  return conv;
end
$$;
grant execute on function halo.conversation_for_api(uuid, uuid, boolean) to service_role;

-- Normalizes tool calls to [{"name", "arguments"?}]: each element is a tool name or an object
-- with one; at most 50.
create function halo.normalized_tool_calls(p_tool_calls jsonb) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
  call jsonb;
  name text;
  result jsonb := '[]';
begin
  if p_tool_calls is null then
    return result;
  end if;
  if jsonb_typeof(p_tool_calls) <> 'array' then
    raise exception 'p_tool_calls must be a JSON array of tool names or {"name": ...} objects'
      using errcode = '22023';
  end if;
  if jsonb_array_length(p_tool_calls) > 50 then
    raise exception 'at most 50 tool calls per message, got %', jsonb_array_length(p_tool_calls)
      using errcode = '22023';
  end if;
  for call in select value from jsonb_array_elements(p_tool_calls) loop
    name := case jsonb_typeof(call) when 'string' then call #>> '{}'
                                    when 'object' then call ->> 'name' end;
    if name is null or name !~ '^[a-z][a-z0-9_.-]{0,63}$' then
      raise exception 'tool call % needs a name of lower-case letters, digits, _ . or - (at most 64)', call
        using errcode = '22023';
    end if;
    result := result || jsonb_build_array(case when jsonb_typeof(call) = 'object' then call
                                               else jsonb_build_object('name', name) end);
  end loop;
  return result;
end
$$;
grant execute on function halo.normalized_tool_calls(jsonb) to service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read AI replies" on halo.ai_replies
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members with inbox access can read widget states" on halo.widget_states
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members with inbox access can read queued replies" on halo.queued_replies
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create function api.start_conversation(
  p_workspace_id uuid,
  p_session_id text default null,
  p_mode halo.conversation_mode default 'chat',
  p_ai_agent_id uuid default null,
  p_contact_id uuid default null,
  p_visitor_id uuid default null,
  p_metadata jsonb default '{}',
  p_anonymous_id text default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conversation_id uuid;
  visitor uuid := p_visitor_id;
  result api.conversations;
begin
  if p_workspace_id is null then
    raise exception 'p_workspace_id is required' using errcode = '22023';
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or octet_length(p_metadata::text) > 20000) then
    raise exception 'p_metadata must be a JSON object of at most 20000 bytes' using errcode = '22023';
  end if;
  if p_anonymous_id is not null and visitor is null then
    if length(p_anonymous_id) not between 1 and 200 then
      raise exception 'p_anonymous_id must be 1-200 characters' using errcode = '22023';
    end if;
    insert into halo.visitors (workspace_id, anonymous_id) values (p_workspace_id, p_anonymous_id)
    on conflict (workspace_id, anonymous_id) do update set last_seen_at = now()
    returning id into visitor;
  end if;
  insert into halo.conversations
    (workspace_id, session_id, mode, ai_agent_id, contact_id, visitor_id, metadata)
  values (p_workspace_id, coalesce(p_session_id, gen_random_uuid()::text), p_mode, p_ai_agent_id,
          coalesce(p_contact_id, (select v.contact_id from halo.visitors v where v.id = visitor)),
          visitor, coalesce(p_metadata, '{}'))
  on conflict (workspace_id, session_id) do nothing
  returning id into conversation_id;
  if conversation_id is null then
    select id into conversation_id from halo.conversations
    where workspace_id = p_workspace_id and session_id = p_session_id;
  end if;
  select * into result from api.conversations where id = conversation_id;
  return result;
end
$$;
grant execute on function api.start_conversation(uuid, text, halo.conversation_mode, uuid, uuid, uuid, jsonb, text)
  to service_role;
comment on function api.start_conversation(p_workspace_id uuid, p_session_id text, p_mode halo.conversation_mode, p_ai_agent_id uuid, p_contact_id uuid, p_visitor_id uuid, p_metadata jsonb, p_anonymous_id text) is
  'Starts a live conversation in p_workspace_id and returns it; when p_session_id already exists '
  'in the workspace, the existing conversation is returned unchanged. p_anonymous_id finds or '
  'creates the anonymous visitor when p_visitor_id is not given, and the contact defaults to the '
  'contact of the visitor. service_role only; raises 22023 for a missing workspace, metadata that '
  'is not an object of at most 20000 bytes or a bad p_anonymous_id, and 23503 when the agent, '
  'contact or visitor is not in the workspace.';

-- Appends one message of the session. p_role: user (the customer or anonymous visitor), ai (the
-- conversation's agent; p_confidence 0-100 and p_tool_calls), teammate (p_author_user_id, a member
-- of the workspace) or system (a notice such as "transferred to voice"). An AI message needs a
-- live conversation whose AI is not paused.
create function api.add_conversation_message(
  p_conversation_id uuid,
  p_role text,
  p_text text,
  p_confidence smallint default null,
  p_tool_calls jsonb default null,
  p_author_user_id uuid default null,
  p_client_echo_id text default null,
  p_workspace_id uuid default null
) returns api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
  tool_calls jsonb := halo.normalized_tool_calls(p_tool_calls);
  message_id uuid;
  result api.messages;
begin
  if p_role is null or p_role not in ('user', 'ai', 'teammate', 'system') then
    raise exception 'p_role must be user, ai, teammate or system, got %', p_role using errcode = '22023';
  end if;
  if p_text is null or btrim(p_text) = '' then
    raise exception 'p_text is empty; a message needs text' using errcode = '22023';
  end if;
  if length(p_text) > 20000 then
    raise exception 'p_text is % characters; a conversation message holds at most 20000', length(p_text)
      using errcode = '22023';
  end if;
  if p_confidence is not null and p_role <> 'ai' then
    raise exception 'only AI messages carry a confidence' using errcode = '22023';
  end if;
  if p_confidence is not null and p_confidence not between 0 and 100 then
    raise exception 'p_confidence must be 0-100, got %', p_confidence using errcode = '22023';
  end if;
  if jsonb_array_length(tool_calls) > 0 and p_role <> 'ai' then
    raise exception 'only AI messages carry tool calls' using errcode = '22023';
  end if;
  if p_role = 'teammate' and (p_author_user_id is null or not exists (
       select 1 from halo.members m
       join halo.conversations c on c.workspace_id = m.workspace_id
       where c.id = p_conversation_id and m.user_id = p_author_user_id)) then
    raise exception 'a teammate message needs p_author_user_id, a member of the conversation''s workspace'
      using errcode = '22023';
  end if;
  conv := halo.conversation_for_api(p_conversation_id, p_workspace_id, p_role = 'ai');
  if p_role = 'ai' and conv.state <> 'live' then
    raise exception 'conversation % is completed; the AI cannot answer in it', p_conversation_id
      using errcode = 'PT409';
  end if;
  if p_role = 'ai' and conv.ai_paused then
    raise exception 'the AI is paused on conversation %: a teammate has taken over', p_conversation_id
      using errcode = 'PT409', hint = 'Wait for conversation.resumed on the conversation''s topic.';
  end if;

  insert into halo.messages (
    conversation_id, kind, direction, author_kind, author_user_id, author_contact_id,
    author_visitor_id, author_ai_agent_id, body_text, activity, client_echo_id)
  values (
    conv.id,
    case p_role when 'system' then 'system' else 'chat' end,
    case p_role when 'user' then 'inbound' when 'system' then 'internal' else 'outbound' end,
    case p_role when 'user' then 'customer' when 'ai' then 'ai_agent' when 'teammate' then 'teammate'
                else 'system' end,
    case when p_role = 'teammate' then p_author_user_id end,
    case when p_role = 'user' then conv.contact_id end,
    case when p_role = 'user' then conv.visitor_id end,
    case when p_role = 'ai' then conv.ai_agent_id end,
    p_text,
    case when p_role = 'system' then jsonb_build_object('action', 'notice') end,
    p_client_echo_id)
  returning id into message_id;

  if p_role = 'system' then
    -- message_created leaves system messages to the change they record; this one is its own.
    perform halo.emit_event(conv.workspace_id, 'message.created', halo.conversation_ticket(conv.id),
      conv.id, jsonb_build_object('message_id', message_id, 'kind', 'system', 'author_kind', 'system'));
  elsif p_role = 'ai' then
    insert into halo.ai_replies (message_id, conversation_id, workspace_id, confidence, tool_calls)
    values (message_id, conv.id, conv.workspace_id, p_confidence, tool_calls);
    if p_confidence is not null and p_confidence is distinct from conv.ai_confidence then
      update halo.conversations set ai_confidence = p_confidence where id = conv.id;
    end if;
    if halo.escalation_possible(conv) then
      perform halo.enqueue_job('conversation.escalate',
        jsonb_build_object('conversation_id', conv.id, 'message_id', message_id),
        'escalate:' || message_id, conv.workspace_id);
    end if;
  end if;
  select * into result from api.messages where id = message_id;
  return result;
end
$$;
grant execute on function api.add_conversation_message(uuid, text, text, smallint, jsonb, uuid, text, uuid)
  to service_role;
comment on function api.add_conversation_message(p_conversation_id uuid, p_role text, p_text text, p_confidence smallint, p_tool_calls jsonb, p_author_user_id uuid, p_client_echo_id text, p_workspace_id uuid) is
  'Appends one message (1 to 20000 characters) to a conversation and returns it: p_role is user '
  '(the contact or visitor), ai (the conversation agent, with optional p_confidence 0 to 100 and '
  'p_tool_calls; may enqueue a conversation.escalate job), teammate (p_author_user_id, a member '
  'of the workspace) or system (a notice). service_role only; p_workspace_id restricts the lookup '
  'to that workspace. Raises 22023 for a bad argument, P0002 when the conversation is not found, '
  'and PT409 when an AI message targets a completed conversation or one whose AI is paused.';

-- One conversation as the runtime sees it (state, ai_paused, outcome): for runtimes that cannot
-- join the conversation's Realtime topic (an API key is not a Realtime credential).
create function api.get_conversation(p_conversation_id uuid, p_workspace_id uuid default null)
returns api.conversations
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  result api.conversations;
begin
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.get_conversation(uuid, uuid) to service_role;
comment on function api.get_conversation(p_conversation_id uuid, p_workspace_id uuid) is
  'Returns one conversation (state, ai_paused, outcome and the other columns of '
  'api.conversations), for AI runtimes that cannot join its Realtime topic. service_role only; '
  'p_workspace_id restricts the lookup to that workspace; raises P0002 when the conversation is '
  'not found.';

-- The Live Feed's pulsing indicator: the user is active. Stores last_user_activity_at (no domain
-- event: bookkeeping) and, at most every 2 seconds per conversation, broadcasts
-- `conversation.user_activity` on the workspace topic.
create function api.conversation_heartbeat(p_conversation_id uuid, p_workspace_id uuid default null)
returns timestamptz
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  at timestamptz := now();
begin
  update halo.conversations set last_user_activity_at = at where id = conv.id;
  if conv.last_user_activity_at is null or conv.last_user_activity_at < at - interval '2 seconds' then
    perform realtime.send(
      jsonb_build_object('event', 'conversation.user_activity', 'workspace_id', conv.workspace_id,
                         'conversation_id', conv.id, 'last_user_activity_at', at),
      'conversation.user_activity', 'workspace:' || conv.workspace_id, true);
  end if;
  return at;
end
$$;
grant execute on function api.conversation_heartbeat(uuid, uuid) to service_role;
comment on function api.conversation_heartbeat(p_conversation_id uuid, p_workspace_id uuid) is
  'Records that the user of a conversation is active (last_user_activity_at, no domain event) and '
  'returns the time stored; at most every 2 seconds per conversation it broadcasts '
  'conversation.user_activity on the workspace topic. service_role only; raises P0002 when the '
  'conversation is not found.';

create function api.complete_conversation(
  p_conversation_id uuid,
  p_outcome halo.conversation_outcome default null,
  p_ai_score smallint default null,
  p_end_reason text default 'closed',
  p_workspace_id uuid default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
  result api.conversations;
begin
  if p_end_reason is null or p_end_reason not in ('closed', 'timed_out') then
    raise exception 'p_end_reason must be closed or timed_out, got %', p_end_reason using errcode = '22023';
  end if;
  if p_ai_score is not null and p_ai_score not between 0 and 100 then
    raise exception 'p_ai_score must be 0-100, got %', p_ai_score using errcode = '22023';
  end if;
  conv := halo.conversation_for_api(p_conversation_id, p_workspace_id, true);
  if conv.state = 'live' then
    update halo.conversations c
       set state = 'completed', ended_at = now(),
           outcome = coalesce(p_outcome, case
             when halo.conversation_ticket(c.id) is not null then 'escalated'
             when p_end_reason = 'timed_out' then 'abandoned'
             else 'resolved' end::halo.conversation_outcome),
           ai_score = coalesce(p_ai_score, c.ai_score),
           metadata = c.metadata || jsonb_build_object('end_reason', p_end_reason)
     where c.id = conv.id;
  end if;
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.complete_conversation(uuid, halo.conversation_outcome, smallint, text, uuid)
  to service_role;
comment on function api.complete_conversation(p_conversation_id uuid, p_outcome halo.conversation_outcome, p_ai_score smallint, p_end_reason text, p_workspace_id uuid) is
  'Ends a live conversation as completed and returns it; without p_outcome the outcome is '
  'escalated when it has a ticket, else abandoned when p_end_reason is timed_out and resolved '
  'when it is closed (the default), and p_ai_score is 0 to 100. A completed conversation is '
  'returned unchanged, so retries are safe. service_role only; raises 22023 for a bad end reason '
  'or score and P0002 when the conversation is not found.';

-- Identify: the anonymous visitor is the contact p_contact_id, or the one with p_external_id or
-- p_email (created when there is none). Re-links the visitor, its conversations, their tickets
-- and its messages to the contact; returns what moved.
create function api.identify_visitor(
  p_workspace_id uuid,
  p_anonymous_id text,
  p_contact_id uuid default null,
  p_email text default null,
  p_name text default null,
  p_external_id text default null
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  visitor halo.visitors;
  contact uuid := p_contact_id;
  company uuid;
  conversations integer;
  tickets integer;
  messages integer;
begin
  select * into visitor from halo.visitors
  where workspace_id = p_workspace_id and anonymous_id = p_anonymous_id for update;
  if visitor.id is null then
    raise exception 'no visitor % in this workspace', p_anonymous_id using errcode = 'P0002';
  end if;
  if contact is not null then
    if not exists (select 1 from halo.contacts where id = contact and workspace_id = p_workspace_id) then
      raise exception 'contact % does not exist in this workspace', contact using errcode = 'P0002';
    end if;
  elsif p_external_id is null and p_email is null then
    raise exception 'identify needs p_contact_id, p_external_id or p_email' using errcode = '22023';
  else
    select id into contact from halo.contacts
    where workspace_id = p_workspace_id
      and (external_id = p_external_id or lower(email) = lower(p_email))
    order by (external_id = p_external_id) desc nulls last
    limit 1;
    if contact is null then
      begin
        insert into halo.contacts (workspace_id, external_id, email, name)
        values (p_workspace_id, p_external_id, p_email, p_name)
        returning id into contact;
      exception when check_violation then
        raise exception 'p_email, p_name or p_external_id is not valid (an address, at most 300 and 200 characters)'
          using errcode = '22023';
      end;
    end if;
  end if;
  select company_id into company from halo.contacts where id = contact;

  update halo.visitors set contact_id = contact, last_seen_at = now() where id = visitor.id;
  update halo.conversations set contact_id = contact
   where visitor_id = visitor.id and contact_id is distinct from contact;
  get diagnostics conversations = row_count;
  update halo.tickets t set contact_id = contact, company_id = coalesce(t.company_id, company)
   where t.conversation_id in (select id from halo.conversations where visitor_id = visitor.id)
     and t.contact_id is null;
  get diagnostics tickets = row_count;
  update halo.messages set author_contact_id = contact
   where author_visitor_id = visitor.id and author_contact_id is null;
  get diagnostics messages = row_count;
  return jsonb_build_object('contact_id', contact, 'visitor_id', visitor.id,
    'conversations', conversations, 'tickets', tickets, 'messages', messages);
end
$$;
grant execute on function api.identify_visitor(uuid, text, uuid, text, text, text) to service_role;
comment on function api.identify_visitor(p_workspace_id uuid, p_anonymous_id text, p_contact_id uuid, p_email text, p_name text, p_external_id text) is
  'Identifies the anonymous visitor p_anonymous_id as a contact: p_contact_id, or the contact '
  'with p_external_id or p_email, created (with p_name) when there is none. Links the visitor, '
  'its conversations, their tickets without a contact and its messages to the contact, and '
  'returns {contact_id, visitor_id, conversations, tickets, messages} with the counts changed. '
  'service_role only; raises P0002 when the visitor or the given contact is not in the workspace '
  'and 22023 when no identifier is given or the new contact values are invalid.';

create function api.set_widget_open(
  p_conversation_id uuid, p_open boolean, p_workspace_id uuid default null
) returns setof api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
begin
  if p_open is null then
    raise exception 'p_open must be true (the widget opened) or false (it closed)' using errcode = '22023';
  end if;
  insert into halo.widget_states (conversation_id, workspace_id, open)
  values (conv.id, conv.workspace_id, p_open)
  on conflict (conversation_id) do update set open = excluded.open, changed_at = now();
  if p_open then
    return query
      with delivered as (
        update halo.queued_replies q
        set deliveries = q.deliveries + 1, last_delivered_at = now()
        where q.conversation_id = conv.id
        returning q.message_id, q.seq
      )
      select m.* from api.messages m join delivered d on d.message_id = m.id
      order by d.seq;
  end if;
end
$$;
grant execute on function api.set_widget_open(uuid, boolean, uuid) to service_role;
comment on function api.set_widget_open(p_conversation_id uuid, p_open boolean, p_workspace_id uuid) is
  'Records that the chat widget of a conversation opened (p_open true) or closed (false). Opening '
  'returns the teammate replies and handoff notices queued while it was closed, oldest first, and '
  'keeps them queued until acknowledged with api.acknowledge_widget_replies, so they may be '
  'returned again. service_role only; raises 22023 for a null p_open and P0002 when the '
  'conversation is not found.';

-- The runtime has shown these replies to the customer: they leave the queue. Ids that are not
-- queued for this conversation (already acknowledged, another conversation's) are ignored, so a
-- retried acknowledgement is harmless. Returns how many left the queue.
create function api.acknowledge_widget_replies(
  p_conversation_id uuid, p_message_ids uuid[], p_workspace_id uuid default null
) returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  acknowledged integer;
begin
  if p_message_ids is null then
    raise exception 'p_message_ids is required: the ids of the delivered replies the customer has seen'
      using errcode = '22023';
  end if;
  if cardinality(p_message_ids) > 1000 then
    raise exception 'p_message_ids holds % ids; acknowledge at most 1000 at a time',
      cardinality(p_message_ids) using errcode = '22023';
  end if;
  delete from halo.queued_replies q
  where q.conversation_id = conv.id and q.message_id = any (p_message_ids);
  get diagnostics acknowledged = row_count;
  return acknowledged;
end
$$;
grant execute on function api.acknowledge_widget_replies(uuid, uuid[], uuid) to service_role;
comment on function api.acknowledge_widget_replies(p_conversation_id uuid, p_message_ids uuid[], p_workspace_id uuid) is
  'Removes replies the widget has shown (p_message_ids, at most 1000) from the queue of a '
  'conversation and returns how many were removed; ids that are not queued are ignored, so a '
  'retry is harmless. service_role only; raises 22023 for a missing or oversized id list and '
  'P0002 when the conversation is not found.';

create function api.conversation_updates(
  p_conversation_id uuid,
  p_after_seq bigint default 0,
  p_limit integer default 100,
  p_workspace_id uuid default null
) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  updates jsonb;
  last_seq bigint;
  read integer;
begin
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000, got %', coalesce(p_limit::text, 'null')
      using errcode = '22023';
  end if;
  if p_after_seq is null or p_after_seq < 0 then
    raise exception 'p_after_seq must be 0 or more (the last seq you received), got %',
      coalesce(p_after_seq::text, 'null') using errcode = '22023';
  end if;
  with page as (
    select e.seq, e.name, e.data, e.created_at
    from halo.events e
    where e.conversation_id = conv.id and e.workspace_id = conv.workspace_id
      and e.seq > p_after_seq
    order by e.seq
    limit p_limit
  ), shown as (
    select p.seq,
           jsonb_build_object('seq', p.seq, 'event', p.name, 'created_at', p.created_at,
                              'data', p.data)
             || case when m.id is null then '{}'::jsonb
                     else jsonb_build_object('message', to_jsonb(m)) end as item
    from page p
    left join api.messages m
      on p.name = 'message.created' and m.id = (p.data ->> 'message_id')::uuid
    where p.name like 'conversation.%'
       or (m.id is not null
           and (m.direction <> 'internal'
                or (m.kind = 'system' and m.activity ->> 'action' = 'teammate_joined')))
  )
  select coalesce((select jsonb_agg(s.item order by s.seq) from shown s), '[]'::jsonb),
         (select max(p.seq) from page p),
         (select count(*) from page p)
  into updates, last_seq, read;
  -- `more`: the page was full, so ask again at once with `after_seq`.
  return jsonb_build_object('events', updates, 'after_seq', coalesce(last_seq, p_after_seq),
                            'more', read = p_limit);
end
$$;
grant execute on function api.conversation_updates(uuid, bigint, integer, uuid) to service_role;
comment on function api.conversation_updates(p_conversation_id uuid, p_after_seq bigint, p_limit integer, p_workspace_id uuid) is
  'Returns what happened in a conversation after event seq p_after_seq, for AI runtimes without '
  'Realtime, as {events, after_seq, more}: the conversation.* events and message.created for '
  'messages the customer sees (customer, AI and teammate messages and the joined notice), each '
  'with the message embedded. Pass after_seq to the next call, and call again at once while more '
  'is true; p_limit is 1 to 1000. service_role only; raises 22023 for a bad p_limit or '
  'p_after_seq and P0002 when the conversation is not found.';

-- grants ------------------------------------------------------------------------------------------

grant select on halo.ai_replies to authenticated;

grant all on halo.ai_replies to service_role;

grant select on halo.widget_states to authenticated;

grant select on halo.queued_replies to authenticated;

grant all on halo.widget_states to service_role;

grant all on halo.queued_replies to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/escalation_and_takeover.sql
-- ================================================================================================

-- Escalation and takeover: how a live conversation becomes a ticket, and who answers it.
--
-- The escalation worker reads api.escalation_context, decides (halo_supabase/ai/escalation.py) and
-- calls api.escalate_conversation; a customer may ask for a human (api.request_human); a teammate
-- takes over (api.take_over) and hands back (api.pass_back_to_ai). All of them open the
-- conversation's ticket through halo.open_conversation_ticket, once, with the transcript, the
-- contact and company, the tools the AI tried and the reason. From then on the conversation and
-- the ticket are one thread. Every change of `ai_paused`, whoever makes it, emits
-- conversation.paused or conversation.resumed: the AI runtime's signal to stop or resume.
-- Taking over and passing back need their owner's rights, so their bodies live in halo and the
-- api functions are security invoker wrappers.

-- triggers ----------------------------------------------------------------------------------------

-- The AI runtime's signal. `halo.pause_reason` (transaction-local) says why when the change comes
-- from a takeover, a pass back or an escalation; otherwise a teammate paused it by hand.
create function halo.conversation_pause_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.emit_event(new.workspace_id,
    case when new.ai_paused then 'conversation.paused' else 'conversation.resumed' end,
    halo.conversation_ticket(new.id), new.id,
    jsonb_build_object('ai_paused', new.ai_paused,
                       'reason', coalesce(nullif(current_setting('halo.pause_reason', true), ''), 'manual')));
  return null;
end
$$;

create trigger conversations_pause_signal
  after update of ai_paused on halo.conversations
  for each row when (old.ai_paused is distinct from new.ai_paused)
  execute function halo.conversation_pause_changed();

-- helpers -----------------------------------------------------------------------------------------

-- The first ticket linked to a conversation, followed through merges; null when there is none.
create function halo.conversation_ticket(p_conversation_id uuid) returns uuid
language sql stable
security definer
set search_path = ''
as $$
  select halo.ticket_after_merges(t.id)
  from halo.tickets t
  where t.conversation_id = p_conversation_id
  order by t.created_at, t.id
  limit 1
$$;
grant execute on function halo.conversation_ticket(uuid) to service_role;

-- Opens the ticket of a conversation, or returns the one it already has (created = false then);
-- the one place that does so, for escalations and takeovers alike. The conversation row stays
-- locked until the caller's transaction ends, so two callers at once get one ticket.
--   p_opened_by  'escalation' (source ai_escalation) or 'takeover' (source takeover)
--   p_status     'open', 'priority' (high priority) or 'in_progress'
--   p_reason     why, in words (the ticket's escalation_reason); p_reason_code the stable code
-- The new ticket links the transcript (every message of the conversation but whispers), takes the
-- conversation's contact and the contact's company, the last AI confidence, and keeps in
-- metadata the conversation (id, session, mode, agent, mood), the escalation (by, code, tools the
-- AI tried, AI turns) and a snapshot of the contact's and company's traits.
create function halo.open_conversation_ticket(
  p_conversation_id uuid,
  p_opened_by text,
  p_status text default 'open',
  p_assignee_id uuid default null,
  p_reason text default null,
  p_reason_code text default null,
  out ticket_id uuid,
  out created boolean
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  conv halo.conversations;
  contact halo.contacts;
  company halo.companies;
  tools jsonb;
  turns integer;
  last_confidence smallint;
  first_words text;
  last_customer_at timestamptz;
  context jsonb;
begin
  if p_opened_by is null or p_opened_by not in ('escalation', 'takeover') then
    raise exception 'p_opened_by must be escalation or takeover, got %', p_opened_by using errcode = '22023';
  end if;
  if p_status is null or p_status not in ('open', 'priority', 'in_progress') then
    raise exception 'a conversation''s ticket opens as open, priority or in_progress, got %', p_status
      using errcode = '22023';
  end if;
  select * into conv from halo.conversations where id = p_conversation_id for update;
  if conv.id is null then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  ticket_id := halo.conversation_ticket(p_conversation_id);
  if ticket_id is not null then
    -- Messages written before the link existed (imported history) join it now.
    update halo.messages m set ticket_id = open_conversation_ticket.ticket_id
     where m.conversation_id = p_conversation_id and m.ticket_id is null and m.kind <> 'whisper';
    created := false;
    return;
  end if;

  select * into contact from halo.contacts where id = conv.contact_id;
  select * into company from halo.companies where id = contact.company_id;
  select coalesce(jsonb_agg(distinct coalesce(call ->> 'name', call #>> '{}')), '[]'),
         count(distinct r.message_id)
    into tools, turns
  from halo.ai_replies r
  left join lateral jsonb_array_elements(r.tool_calls) call on true
  where r.conversation_id = p_conversation_id;
  select r.confidence into last_confidence from halo.ai_replies r
  where r.conversation_id = p_conversation_id and r.confidence is not null
  order by r.created_at desc limit 1;
  select m.body_text into first_words from halo.messages m
  where m.conversation_id = p_conversation_id and m.author_kind = 'customer'
  order by m.created_at limit 1;
  select max(m.created_at) into last_customer_at from halo.messages m
  where m.conversation_id = p_conversation_id and m.author_kind = 'customer';

  -- Traits are free-form; a snapshot too large for the ticket's metadata is left to the contact.
  context := jsonb_strip_nulls(jsonb_build_object(
    'contact', case when contact.id is not null then jsonb_build_object(
      'id', contact.id, 'name', contact.name, 'traits', contact.traits,
      'custom_fields', contact.custom_fields) end,
    'company', case when company.id is not null then jsonb_build_object(
      'id', company.id, 'name', company.name, 'plan', company.plan, 'industry', company.industry,
      'traits', company.traits) end));
  if octet_length(context::text) > 30000 then
    context := jsonb_build_object('truncated', true);
  end if;

  insert into halo.tickets (
    workspace_id, subject, status_category, priority, source, channel, contact_id, company_id,
    conversation_id, assignee_id, metadata, ai_confidence, escalation_reason, auto_created,
    ai_paused, last_customer_message_at, waiting_since)
  values (
    conv.workspace_id,
    left(coalesce(nullif(btrim(conv.topic), ''), nullif(btrim(regexp_replace(first_words, '\s+', ' ', 'g')), ''),
                  'Conversation ' || conv.session_id), 200),
    case when p_status = 'in_progress' then 'in_progress' else 'open' end::halo.ticket_status_category,
    case when p_status = 'priority' then 'high' else 'normal' end::halo.ticket_priority,
    case when p_opened_by = 'escalation' then 'ai_escalation' else 'takeover' end,
    case conv.mode when 'voice' then 'voice' when 'video' then 'video' else 'chat' end::halo.channel,
    contact.id, company.id, conv.id, p_assignee_id,
    jsonb_build_object(
      'conversation', jsonb_strip_nulls(jsonb_build_object(
        'id', conv.id, 'session_id', conv.session_id, 'mode', conv.mode,
        'ai_agent_id', conv.ai_agent_id, 'visitor_id', conv.visitor_id, 'state', conv.state,
        'mood', conv.mood, 'sentiment', conv.sentiment, 'started_at', conv.started_at)),
      'escalation', jsonb_strip_nulls(jsonb_build_object(
        'opened_by', p_opened_by, 'reason_code', p_reason_code, 'tools_tried', tools,
        'ai_turns', turns))
    ) || context,
    last_confidence, left(p_reason, 2000), p_opened_by = 'escalation',
    p_opened_by = 'takeover', last_customer_at,
    case when p_status <> 'in_progress' then last_customer_at end)
  returning id into ticket_id;

  update halo.messages m set ticket_id = open_conversation_ticket.ticket_id
   where m.conversation_id = p_conversation_id and m.ticket_id is null and m.kind <> 'whisper';
  created := true;
end
$$;
grant execute on function halo.open_conversation_ticket(uuid, text, text, uuid, text, text) to service_role;

-- The conversation a teammate acts on (take over, pass back), locked: "not found" without Inbox:
-- View in its workspace, 42501 without Inbox: Reply. The service role (no user) passes.
create function halo.conversation_for_teammate(p_conversation_id uuid, p_action text)
returns halo.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
begin
  select * into conv from halo.conversations where id = p_conversation_id for update;
  if conv.id is null or not halo.has_inbox_permission(conv.workspace_id, 'view') then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(conv.workspace_id, 'reply') then
    raise exception '% needs Inbox: Reply permission', p_action using errcode = '42501';
  end if;
  return conv;
end
$$;

-- Whether an AI reply of this conversation needs the escalation worker at all.
create function halo.escalation_possible(p_conversation halo.conversations) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select p_conversation.state = 'live' and not p_conversation.ai_paused
     and halo.conversation_ticket(p_conversation.id) is null
     and exists (select 1 from halo.ai_agents a
                 join halo.escalation_settings s on s.ai_agent_id = a.id
                 where a.id = p_conversation.ai_agent_id
                   and a.type <> 'internal' and s.mode <> 'off')
$$;
grant execute on function halo.escalation_possible(halo.conversations) to service_role;

-- api ---------------------------------------------------------------------------------------------

-- Pause the AI on a ticket, or pass it back to the AI (Inbox: Reply, as for conversations). The
-- linked live conversation follows; ticket.ai_paused / ticket.ai_resumed tell the AI runtime.
create function halo.set_ticket_ai_paused(p_ticket_id uuid, p_paused boolean) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  ticket halo.tickets;
  result api.tickets;
begin
  if p_paused is null then
    raise exception 'p_paused must be true (pause) or false (pass back to AI)' using errcode = '22023';
  end if;
  select * into ticket from halo.tickets where id = p_ticket_id for update;
  if ticket.id is null or not halo.has_inbox_permission(ticket.workspace_id, 'view') then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(ticket.workspace_id, 'reply') then
    raise exception 'pausing the AI needs Inbox: Reply permission' using errcode = '42501';
  end if;
  if ticket.ai_paused <> p_paused then
    update halo.tickets set ai_paused = p_paused where id = p_ticket_id;
    update halo.conversations set ai_paused = p_paused
     where id = ticket.conversation_id and ai_paused <> p_paused;
    perform halo.emit_event(ticket.workspace_id,
      case when p_paused then 'ticket.ai_paused' else 'ticket.ai_resumed' end,
      p_ticket_id, ticket.conversation_id, jsonb_build_object('ai_paused', p_paused));
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function halo.set_ticket_ai_paused(uuid, boolean) to authenticated, service_role;

-- The API face of halo.set_ticket_ai_paused: it runs as the caller; only the private body holds definer rights.
create function api.set_ticket_ai_paused(p_ticket_id uuid, p_paused boolean) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.set_ticket_ai_paused(p_ticket_id, p_paused)
$$;
grant execute on function api.set_ticket_ai_paused(uuid, boolean) to authenticated, service_role;
comment on function api.set_ticket_ai_paused(p_ticket_id uuid, p_paused boolean) is
  'Pauses the AI on a ticket (p_paused true) or passes it back to the AI (false); the linked '
  'conversation follows, and ticket.ai_paused or ticket.ai_resumed is emitted when the flag '
  'changes. Returns the ticket. Callable by members with Inbox permission reply and by '
  'service_role; raises 22023 for a null p_paused, P0002 when the ticket is not visible, and '
  '42501 when not allowed.';

-- The widget's "talk to a human" button: the escalation worker decides (it escalates in every
-- mode but for internal agents). Returns the job's id.
create function api.request_human(p_conversation_id uuid, p_workspace_id uuid default null)
returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
begin
  if conv.state <> 'live' then
    raise exception 'conversation % is completed', p_conversation_id using errcode = 'PT409';
  end if;
  return halo.enqueue_job('conversation.escalate',
    jsonb_build_object('conversation_id', conv.id, 'human_requested', true),
    'human:' || conv.id, conv.workspace_id);
end
$$;
grant execute on function api.request_human(uuid, uuid) to service_role;
comment on function api.request_human(p_conversation_id uuid, p_workspace_id uuid) is
  'The widget talk-to-a-human button: enqueues the conversation.escalate job with human_requested '
  'for the escalation worker and returns the job id. There is one such job per conversation: a '
  'repeated request returns the same job id. service_role only; raises P0002 when the '
  'conversation is not found and PT409 when it is completed.';

-- What the escalation worker decides on: the agent's settings and type, the AI reply (p_message_id,
-- or the latest one) with its confidence and tool calls, the customer's message before it, the
-- gates (AI turns, knowledge and web search so far) and the contact's traits (custom fields,
-- email, name, and the company under `company`). Null when there is nothing to decide any more:
-- the conversation is completed, paused, already has a ticket, or has no agent.
create function api.escalation_context(p_conversation_id uuid, p_message_id uuid default null)
returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, null);
  reply record;
  used text[];
  result jsonb;
begin
  if conv.state <> 'live' or conv.ai_paused or conv.ai_agent_id is null
     or halo.conversation_ticket(conv.id) is not null then
    return null;
  end if;
  -- The tools the AI called so far in the conversation (knowledge and web search are gates).
  select coalesce(array_agg(distinct call ->> 'name'), '{}') into used
  from halo.ai_replies r, jsonb_array_elements(r.tool_calls) call
  where r.conversation_id = conv.id;
  select m.id, m.body_text, m.created_at, r.confidence, r.tool_calls into reply
  from halo.ai_replies r join halo.messages m on m.id = r.message_id
  where r.conversation_id = conv.id and (p_message_id is null or r.message_id = p_message_id)
  order by r.created_at desc
  limit 1;
  select jsonb_build_object(
    'conversation_id', conv.id,
    'agent_type', a.type,
    'settings', to_jsonb(s) - 'ai_agent_id' - 'workspace_id' - 'updated_at',
    'message_id', reply.id,
    'reply', coalesce(reply.body_text, ''),
    'confidence', reply.confidence,
    'tool_calls', coalesce((select jsonb_agg(call ->> 'name')
                            from jsonb_array_elements(reply.tool_calls) call), '[]'),
    'escalate_reason', (select call #>> '{arguments,reason}'
                        from jsonb_array_elements(reply.tool_calls) call
                        where call ->> 'name' = 'escalate' limit 1),
    'customer_message', (select m.body_text from halo.messages m
                         where m.conversation_id = conv.id and m.author_kind = 'customer'
                           and (reply.created_at is null or m.created_at <= reply.created_at)
                         order by m.created_at desc limit 1),
    'ai_turns', (select count(*) from halo.ai_replies r
                 where r.conversation_id = conv.id
                   and (reply.created_at is null or r.created_at <= reply.created_at)),
    'knowledge_searched', 'knowledge_search' = any (used),
    'web_searched', 'web_search' = any (used),
    'contact_traits', coalesce(ct.traits, '{}') || coalesce(ct.custom_fields, '{}')
      || jsonb_strip_nulls(jsonb_build_object('email', ct.email, 'name', ct.name,
           'company', case when co.id is not null then
             co.traits || co.custom_fields || jsonb_strip_nulls(jsonb_build_object(
               'name', co.name, 'plan', co.plan, 'industry', co.industry, 'domain', co.domain)) end)))
  into result
  from halo.ai_agents a
  join halo.escalation_settings s on s.ai_agent_id = a.id
  left join halo.contacts ct on ct.id = conv.contact_id
  left join halo.companies co on co.id = ct.company_id
  where a.id = conv.ai_agent_id;
  return result;
end
$$;
grant execute on function api.escalation_context(uuid, uuid) to service_role;
comment on function api.escalation_context(p_conversation_id uuid, p_message_id uuid) is
  'Returns what the escalation worker decides on as JSON: agent type and escalation settings, the '
  'AI reply p_message_id (or the latest) with its confidence, tool calls and any escalate reason, '
  'the customer message before it, the AI turns so far, whether knowledge and web search were '
  'used, and the contact traits (with the company). Returns null when there is nothing to decide: '
  'the conversation is completed, paused, has no agent or already has a ticket. service_role '
  'only; raises P0002 when the conversation does not exist.';

-- The escalation worker's outcome: the conversation's ticket (Open, or Priority with p_priority),
-- the conversation completed as Escalated with its AI paused. Idempotent: a second call returns
-- the same ticket and changes nothing.
create function api.escalate_conversation(
  p_conversation_id uuid,
  p_reason text,
  p_reason_code text default null,
  p_priority boolean default false,
  p_workspace_id uuid default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id, true);
  opened record;
  result api.tickets;
begin
  if p_reason is null or btrim(p_reason) = '' then
    raise exception 'an escalation needs p_reason' using errcode = '22023';
  end if;
  select * into opened from halo.open_conversation_ticket(conv.id, 'escalation',
    case when coalesce(p_priority, false) then 'priority' else 'open' end, null, p_reason, p_reason_code);
  if opened.created then
    perform set_config('halo.pause_reason', 'escalation', true);
    update halo.conversations
       set ai_paused = true,
           state = 'completed', ended_at = coalesce(ended_at, now()),
           outcome = 'escalated'
     where id = conv.id;
  end if;
  select * into result from api.tickets where id = opened.ticket_id;
  return result;
end
$$;
grant execute on function api.escalate_conversation(uuid, text, text, boolean, uuid) to service_role;
comment on function api.escalate_conversation(p_conversation_id uuid, p_reason text, p_reason_code text, p_priority boolean, p_workspace_id uuid) is
  'The escalation outcome: opens the conversation ticket (open, or priority with p_priority) '
  'carrying the transcript, contact and company, tools the AI tried and the reason p_reason '
  '(p_reason_code is the stable code), then completes the conversation as escalated with its AI '
  'paused, and returns the ticket. Idempotent: when the conversation already has a ticket, that '
  'ticket is returned and nothing changes. service_role only; raises 22023 for an empty p_reason '
  'and P0002 when the conversation is not found.';

-- Takeover (Inbox: Reply): pauses the AI, opens the conversation's ticket In Progress assigned to
-- the caller (or takes the existing one), and posts the handoff notice the customer sees
-- ("<name> from <team> joined"). Works on completed conversations too (the ticket then carries
-- the transcript). Taking over again is a no-op for the same teammate; while another teammate
-- holds it (AI paused, ticket theirs) it is refused with PT409.
create function halo.take_over(p_conversation_id uuid) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  conv halo.conversations;
  ticket halo.tickets;
  opened record;
  member halo.members;
  team text;
  notice uuid;
  result api.tickets;
begin
  if me is null then
    raise exception 'taking over needs a signed-in teammate' using errcode = '42501';
  end if;
  conv := halo.conversation_for_teammate(p_conversation_id, 'taking over');
  select * into ticket from halo.tickets where id = halo.conversation_ticket(conv.id) for update;
  if ticket.id is not null and conv.ai_paused and ticket.assignee_id is not null then
    if ticket.assignee_id <> me then
      raise exception 'conversation % is already taken over by %', p_conversation_id,
        coalesce((select display_name from halo.members
                  where workspace_id = conv.workspace_id and user_id = ticket.assignee_id), 'a teammate')
        using errcode = 'PT409', hint = 'Ask them to pass it back, or reassign the ticket.';
    elsif ticket.status_category = 'in_progress' then
      select * into result from api.tickets where id = ticket.id;
      return result;
    end if;
  end if;
  if ticket.status_category = 'spam' then
    raise exception 'ticket #% of this conversation is spam; mark it not spam first', ticket.number
      using errcode = 'PT409';
  end if;

  select * into opened from halo.open_conversation_ticket(conv.id, 'takeover', 'in_progress', me,
                                                         'Taken over by a teammate', 'takeover');
  if not opened.created then
    if ticket.status_category = 'resolved' then
      update halo.tickets set status_category = 'open' where id = ticket.id;
    end if;
    update halo.tickets set status_category = 'in_progress', assignee_id = me, ai_paused = true
     where id = opened.ticket_id;
  end if;
  perform set_config('halo.pause_reason', 'takeover', true);
  update halo.conversations set ai_paused = true where id = conv.id and not ai_paused;

  select * into member from halo.members where workspace_id = conv.workspace_id and user_id = me;
  select name into team from halo.workspaces where id = conv.workspace_id;
  insert into halo.messages (conversation_id, ticket_id, kind, direction, author_kind, author_user_id,
                             body_text, activity)
  values (conv.id, opened.ticket_id, 'system', 'internal', 'system', me,
          member.display_name || ' from ' || team || ' joined',
          jsonb_build_object('action', 'teammate_joined', 'user_id', me,
                             'name', member.display_name, 'team', team))
  returning id into notice;
  perform halo.emit_event(conv.workspace_id, 'message.created', opened.ticket_id, conv.id,
    jsonb_build_object('message_id', notice, 'kind', 'system', 'author_kind', 'system'));
  select * into result from api.tickets where id = opened.ticket_id;
  return result;
end
$$;
grant execute on function halo.take_over(uuid) to authenticated;

-- The API face of halo.take_over: it runs as the caller; only the private body holds definer rights.
create function api.take_over(p_conversation_id uuid) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.take_over(p_conversation_id)
$$;
grant execute on function api.take_over(uuid) to authenticated;
comment on function api.take_over(p_conversation_id uuid) is
  'A signed-in teammate takes over a conversation: pauses the AI, opens the conversation ticket '
  'as in_progress assigned to the caller (or moves the existing ticket to in_progress and assigns '
  'it to the caller, reopening it when resolved), and posts the handoff notice the customer sees. '
  'Taking over again as the same teammate is a no-op; works on completed conversations too. Needs '
  'Inbox permission reply (authenticated only); raises 42501 when not allowed, P0002 when the '
  'conversation is not visible, and PT409 when another teammate holds it or its ticket is spam.';

-- Pass back to AI (Inbox: Reply): the AI answers again on a live conversation; its ticket stays as
-- it is. Emits conversation.resumed (reason pass_back). Passing back an unpaused conversation
-- changes nothing.
create function halo.pass_back_to_ai(p_conversation_id uuid) returns api.conversations
language plpgsql
security definer
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_teammate(p_conversation_id, 'passing back to the AI');
  result api.conversations;
begin
  if conv.ai_paused then
    if conv.state <> 'live' then
      raise exception 'conversation % is completed; the AI cannot take it back', p_conversation_id
        using errcode = 'PT409';
    end if;
    perform set_config('halo.pause_reason', 'pass_back', true);
    update halo.conversations set ai_paused = false where id = conv.id;
    update halo.tickets set ai_paused = false where conversation_id = conv.id and ai_paused;
  end if;
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function halo.pass_back_to_ai(uuid) to authenticated, service_role;

-- The API face of halo.pass_back_to_ai: it runs as the caller; only the private body holds definer rights.
create function api.pass_back_to_ai(p_conversation_id uuid) returns api.conversations
language sql
security invoker
set search_path = ''
as $$
  select * from halo.pass_back_to_ai(p_conversation_id)
$$;
grant execute on function api.pass_back_to_ai(uuid) to authenticated, service_role;
comment on function api.pass_back_to_ai(p_conversation_id uuid) is
  'Hands a paused conversation back to the AI: clears ai_paused on the conversation and its '
  'tickets and emits conversation.resumed (reason pass_back); the ticket otherwise stays as it '
  'is, and an unpaused conversation is returned unchanged. Callable by members with Inbox '
  'permission reply and by service_role; raises P0002 when the conversation is not visible, 42501 '
  'when not allowed, and PT409 when the conversation is completed.';

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/conversation_signals.sql
-- ================================================================================================

-- Conversation signals: the sentiment and confidence of live conversations, and the teammates'
-- feedback on the AI.
--
-- The signals worker (workers/sentiment.py) scores every customer message. Its mailbox is
-- halo.conversation_signal_queue, filled by triggers whoever inserted the message, and drained in
-- batches: one claim and one apply call for hundreds of messages. The apply function is the
-- authority for "at most two updates a second per conversation" (signal_at) and takes a running
-- state only when nobody changed it since the worker read it, so two workers never fold one
-- conversation twice. Feedback: whispers to the AI (a transient note for its next reply, and a
-- training entry for an identified visitor), corrections of AI messages, thumbs up or down.

-- tables ------------------------------------------------------------------------------------------

-- Per-message ratings and corrections by teammates (Completed conversations, trainer feedback).
create table halo.message_feedback (
  message_id uuid not null references halo.messages (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  rating smallint check (rating in (-1, 1)),
  correction text check (length(correction) <= 20000),
  created_at timestamptz not null default now(),
  primary key (message_id, user_id),
  check (num_nonnulls(rating, correction) >= 1)
);

create table halo.conversation_signal_queue (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  conversation_id uuid not null references halo.conversations (id) on delete cascade,
  -- 'message': score this customer message; 'score': compute the AI score of a completed
  -- conversation (after its end, or after feedback on one of its messages).
  kind text not null check (kind in ('message', 'score')),
  message_id uuid references halo.messages (id) on delete cascade,
  lease_token uuid,
  leased_until timestamptz,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  check ((kind = 'message') = (message_id is not null)),
  check ((lease_token is null) = (leased_until is null))
);

-- Durable Inbox Training: lessons the AI applies on every reply whose context matches. Written
-- here by whispers to identified visitors (scope contact) and by corrections (scope workspace).
create table halo.training_entries (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  scope text not null check (scope in ('workspace', 'contact', 'company')),
  contact_id uuid references halo.contacts (id) on delete cascade,
  company_id uuid references halo.companies (id) on delete cascade,
  source text not null check (source in ('whisper', 'correction', 'composer')),
  -- The whisper message, or the AI message a correction is about.
  source_message_id uuid references halo.messages (id) on delete set null,
  conversation_id uuid references halo.conversations (id) on delete set null,
  body_text text not null check (length(btrim(body_text)) between 1 and 5000),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((scope = 'contact') = (contact_id is not null)),
  check ((scope = 'company') = (company_id is not null))
);

-- indexes -----------------------------------------------------------------------------------------

create index message_feedback_user_id_idx on halo.message_feedback (user_id);

create index message_feedback_workspace_id_idx on halo.message_feedback (workspace_id);

create unique index conversation_signal_queue_message_key on halo.conversation_signal_queue (message_id)
  where message_id is not null;

-- One pending AI-score item per conversation is enough: it reads the latest facts when it runs.
create unique index conversation_signal_queue_score_key on halo.conversation_signal_queue (conversation_id)
  where kind = 'score' and lease_token is null;

-- Unclaimed items, oldest first: the claim and the doorbell's "anything already waiting?".
create index conversation_signal_queue_waiting_idx on halo.conversation_signal_queue (id)
  where lease_token is null;

create index conversation_signal_queue_conversation_id_idx on halo.conversation_signal_queue (conversation_id);

create index conversation_signal_queue_workspace_id_idx on halo.conversation_signal_queue (workspace_id);

create index training_entries_workspace_id_idx on halo.training_entries (workspace_id, created_at desc);

create index training_entries_contact_id_idx on halo.training_entries (contact_id);

create index training_entries_company_id_idx on halo.training_entries (company_id);

create index training_entries_source_message_id_idx on halo.training_entries (source_message_id);

create index training_entries_conversation_id_idx on halo.training_entries (conversation_id);

create index training_entries_created_by_idx on halo.training_entries (created_by);

-- A teammate's correction of one AI message is one entry, changed in place when they edit it.
create unique index training_entries_correction_key on halo.training_entries (source_message_id, created_by)
  where source = 'correction';

-- triggers ----------------------------------------------------------------------------------------

create function halo.message_feedback_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select workspace_id into new.workspace_id from halo.messages where id = new.message_id;
  return new;
end
$$;

create trigger message_feedback_before_write
  before insert or update on halo.message_feedback
  for each row execute function halo.message_feedback_before_write();

-- Every customer chat message of a conversation is scored, however it was inserted.
create function halo.queue_message_signal() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into halo.conversation_signal_queue (workspace_id, conversation_id, kind, message_id)
  values (new.workspace_id, new.conversation_id, 'message', new.id)
  on conflict do nothing;
  return null;
end
$$;

create trigger messages_queue_signal
  after insert on halo.messages
  for each row
  when (new.conversation_id is not null and new.author_kind = 'customer' and new.kind = 'chat'
        and coalesce(new.body_text, '') <> '')
  execute function halo.queue_message_signal();

create function halo.conversation_completed_score() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.queue_conversation_score(new.id);
  return null;
end
$$;

create trigger conversations_queue_score
  after update of state on halo.conversations
  for each row when (old.state = 'live' and new.state = 'completed')
  execute function halo.conversation_completed_score();

create function halo.feedback_changed_score() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation uuid;
begin
  select m.conversation_id into conversation from halo.messages m
  where m.id = coalesce(new.message_id, old.message_id);
  if conversation is not null then
    perform halo.queue_conversation_score(conversation);
  end if;
  return null;
end
$$;

create trigger message_feedback_queue_score
  after insert or update of rating or delete on halo.message_feedback
  for each row execute function halo.feedback_changed_score();

-- The doorbell, on the private `jobs:conversation.signals` topic (only service_role joins it):
-- rung by an inserting statement only when no older item is waiting unclaimed. An older waiting
-- item means a doorbell already rang that no worker has answered yet, and a worker that claims
-- something claims again shortly after, so at 200 messages a second the workers get a few
-- doorbells instead of 200 (each one a realtime.messages row decoded and delivered). The queue is
-- the mailbox; workers poll it too.
create function halo.ring_signal_doorbell() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (
    select 1 from halo.conversation_signal_queue q
    where q.lease_token is null and q.id < (select min(n.id) from new_items n)
  ) then
    perform realtime.send('{}'::jsonb, 'job_available', 'jobs:conversation.signals', true);
  end if;
  return null;
end
$$;

create trigger conversation_signal_queue_doorbell
  after insert on halo.conversation_signal_queue
  referencing new table as new_items
  for each statement execute function halo.ring_signal_doorbell();

create function halo.training_entry_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.companies', new.company_id, 'company');
  perform halo.require_same_workspace(new.workspace_id, 'halo.conversations', new.conversation_id, 'conversation');
  new.updated_at := now();
  return new;
end
$$;

create trigger training_entries_before_write
  before insert or update on halo.training_entries
  for each row execute function halo.training_entry_before_write();

-- row-level security ------------------------------------------------------------------------------

alter table halo.message_feedback enable row level security;

-- No policy: only service_role (the worker) and the security definer triggers touch the queue.
alter table halo.conversation_signal_queue enable row level security;

alter table halo.training_entries enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- The AI score of a conversation: when it completes, and again when feedback on it changes.
create function halo.queue_conversation_score(p_conversation_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
  insert into halo.conversation_signal_queue (workspace_id, conversation_id, kind)
  select c.workspace_id, c.id, 'score' from halo.conversations c
  where c.id = p_conversation_id and c.state = 'completed'
  on conflict (conversation_id) where kind = 'score' and lease_token is null do nothing
$$;

-- An AI message a member may give feedback on: P0002 when it does not exist or is invisible to
-- the caller, 22023 when it is not an AI message of a conversation, 42501 without Inbox: Reply.
create function halo.ai_message_for_feedback(p_message_id uuid) returns halo.messages
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  message halo.messages;
begin
  select * into message from halo.messages where id = p_message_id;
  if not found then
    raise exception 'message % does not exist', p_message_id using errcode = 'P0002';
  end if;
  if message.author_kind <> 'ai_agent' or message.conversation_id is null then
    raise exception 'feedback and corrections are for the AI''s messages in a conversation; message % is a % message',
      p_message_id, message.author_kind using errcode = '22023';
  end if;
  if message.workspace_id not in (select halo.inbox_workspaces('reply')) then
    raise exception 'feedback on the AI needs Inbox: Reply permission in this workspace'
      using errcode = '42501';
  end if;
  return message;
end
$$;
grant execute on function halo.ai_message_for_feedback(uuid) to authenticated;

-- Gives leased items back to the queue without counting the attempt. A leased AI-score item whose
-- conversation has another one waiting is deleted instead (one waiting per conversation).
create function halo.release_signal_items(p_lease_token uuid, p_item_ids bigint[]) returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  released integer;
begin
  delete from halo.conversation_signal_queue q
   where q.id = any (p_item_ids) and q.lease_token = p_lease_token and q.kind = 'score'
     and exists (select 1 from halo.conversation_signal_queue o
                 where o.conversation_id = q.conversation_id and o.kind = 'score'
                   and o.lease_token is null);
  update halo.conversation_signal_queue
     set lease_token = null, leased_until = null, attempts = greatest(attempts - 1, 0)
   where lease_token = p_lease_token and id = any (p_item_ids);
  get diagnostics released = row_count;
  return released;
end
$$;
grant execute on function halo.release_signal_items(uuid, bigint[]) to service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read message feedback" on halo.message_feedback
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can give feedback as themselves" on halo.message_feedback
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and user_id = (select auth.uid()));

create policy "members can change their own feedback" on halo.message_feedback
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and user_id = (select auth.uid()));

create policy "members can delete their own feedback" on halo.message_feedback
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy "members with inbox access can read training entries" on halo.training_entries
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can add training entries as themselves" on halo.training_entries
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and created_by = (select auth.uid()));

create policy "members can change their own training entries" on halo.training_entries
  for update to authenticated
  using (created_by = (select auth.uid()))
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and created_by = (select auth.uid()));

create policy "members can delete their own training entries" on halo.training_entries
  for delete to authenticated
  using (created_by = (select auth.uid()));

-- api ---------------------------------------------------------------------------------------------

create view api.message_feedback with (security_invoker = true) as
  select message_id, user_id, workspace_id, rating, correction, created_at
  from halo.message_feedback;
comment on view api.message_feedback is
  'Teammate ratings (-1 or 1) and corrections of messages, one row per message and user; at least '
  'one of rating and correction is set. Members with Inbox permission view may read; members with '
  'reply may insert their own feedback, and each user may update or delete only their own rows.';

create view api.training_entries with (security_invoker = true) as
  select id, workspace_id, scope, contact_id, company_id, source, source_message_id,
         conversation_id, body_text, created_by, created_at, updated_at
  from halo.training_entries;
comment on view api.training_entries is
  'Inbox Training entries: lessons the AI applies when their scope matches (workspace, contact or '
  'company), written by whispers to identified visitors, by corrections of AI messages and by the '
  'composer. Members with Inbox permission view may read; members with reply may insert entries '
  'as themselves, and each member may update or delete only their own.';

-- Leases up to p_limit queued items (oldest first) to the signals worker holding p_lease_token
-- (one token per worker process, so the items it holds across claims share it) and returns them with
-- what scoring needs: the message text and, per conversation, the running state, outcome and
-- feedback counts. Items that failed p_max_attempts times are dropped (their count is returned).
create function api.claim_conversation_signals(
  p_lease_token uuid,
  p_limit integer default 500,
  p_lease_seconds integer default 30,
  p_max_attempts integer default 5
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  token uuid := p_lease_token;
  dropped integer;
  items jsonb;
  conversations jsonb;
begin
  if token is null then
    raise exception 'p_lease_token is required: the worker''s own token for the items it holds'
      using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 5000 then
    raise exception 'p_limit must be between 1 and 5000, got %', p_limit using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 3 and 3600 then
    raise exception 'p_lease_seconds must be between 3 and 3600, got %', p_lease_seconds using errcode = '22023';
  end if;
  with poisoned as (
    delete from halo.conversation_signal_queue q
    where q.attempts >= p_max_attempts and (q.leased_until is null or q.leased_until < now())
    returning 1
  )
  select count(*) into dropped from poisoned;

  with picked as (
    select q.id from halo.conversation_signal_queue q
    where q.leased_until is null or q.leased_until < now()
    order by q.id
    limit p_limit
    for update skip locked
  ), leased as (
    update halo.conversation_signal_queue q
       set lease_token = token, leased_until = now() + make_interval(secs => p_lease_seconds),
           attempts = q.attempts + 1
      from picked where q.id = picked.id
    returning q.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', l.id, 'kind', l.kind, 'conversation_id', l.conversation_id,
           'message_id', l.message_id, 'text', m.body_text) order by l.id), '[]')
    into items
  from leased l left join halo.messages m on m.id = l.message_id;

  select coalesce(jsonb_object_agg(c.id, jsonb_build_object(
           'state', c.state, 'outcome', c.outcome, 'topic', c.topic,
           'sentiment_state', c.sentiment_state,
           'ready_in_ms', greatest(0, ceil(extract(epoch from (c.signal_at + interval '500 milliseconds' - now())) * 1000)),
           'thumbs_up', coalesce(r.up, 0), 'thumbs_down', coalesce(r.down, 0))), '{}')
    into conversations
  from halo.conversations c
  left join lateral (
    select count(*) filter (where f.rating = 1) as up, count(*) filter (where f.rating = -1) as down
    from halo.message_feedback f join halo.messages m on m.id = f.message_id
    where c.state = 'completed' and m.conversation_id = c.id
  ) r on true
  where c.id in (select (i ->> 'conversation_id')::uuid from jsonb_array_elements(items) i);

  return jsonb_build_object('lease_token', token, 'items', items,
                            'conversations', conversations, 'dropped', dropped);
end
$$;
grant execute on function api.claim_conversation_signals(uuid, integer, integer, integer) to service_role;
comment on function api.claim_conversation_signals(p_lease_token uuid, p_limit integer, p_lease_seconds integer, p_max_attempts integer) is
  'Leases up to p_limit (1 to 5000) queued signal items, oldest first, to the signals worker '
  'holding p_lease_token for p_lease_seconds (3 to 3600), and returns {lease_token, items: [{id, '
  'kind message or score, conversation_id, message_id, text}], conversations: {id: running state, '
  'outcome, topic, ready_in_ms, thumbs_up, thumbs_down}, dropped}. Items that already failed '
  'p_max_attempts times are deleted and counted in dropped. service_role only; raises 22023 for a '
  'missing token or out-of-range arguments.';

-- Writes what the worker computed for each conversation of one claim, in one transaction:
--   [{conversation_id, base_messages, item_ids, sentiment_state?, sentiment?, mood?,
--     scored_message_id?, topic?, ai_score?}]
-- Per conversation the answer is 'applied' (written, its items done), 'deferred' (a mood update
-- was streamed under 500 ms ago: items stay leased, retry in retry_in_ms), 'conflict' (another
-- worker moved the running state on: items are released to be scored again), 'lease_lost' (some
-- item is no longer leased with this token: nothing written) or 'gone' (conversation deleted).
create function api.apply_conversation_signals(p_lease_token uuid, p_signals jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  signal record;
  conv halo.conversations;
  held integer;
  results jsonb := '[]';
  min_gap constant interval := interval '500 milliseconds';
begin
  if p_lease_token is null or jsonb_typeof(p_signals) is distinct from 'array' then
    raise exception 'p_lease_token and a JSON array p_signals are required' using errcode = '22023';
  end if;
  for signal in
    select * from jsonb_to_recordset(p_signals) as s(
      conversation_id uuid, base_messages integer, item_ids bigint[], sentiment_state jsonb,
      sentiment real, mood halo.mood, scored_message_id uuid, topic text, ai_score smallint)
    order by conversation_id  -- one lock order for every worker
  loop
    if signal.conversation_id is null or signal.item_ids is null then
      raise exception 'every signal needs conversation_id and item_ids' using errcode = '22023';
    end if;
    select * into conv from halo.conversations where id = signal.conversation_id for update;
    if not found then
      delete from halo.conversation_signal_queue
       where id = any (signal.item_ids) and lease_token = p_lease_token;
      results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'gone');
      continue;
    end if;
    select count(*) into held from halo.conversation_signal_queue
     where id = any (signal.item_ids) and lease_token = p_lease_token;
    if held <> cardinality(signal.item_ids) then
      results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'lease_lost');
      continue;
    end if;
    if coalesce((conv.sentiment_state ->> 'messages')::integer, 0) <> coalesce(signal.base_messages, 0) then
      perform halo.release_signal_items(p_lease_token, signal.item_ids);
      results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'conflict');
      continue;
    end if;
    if signal.sentiment_state is not null and conv.signal_at > now() - min_gap then
      results := results || jsonb_build_object('conversation_id', signal.conversation_id,
        'status', 'deferred',
        'retry_in_ms', ceil(extract(epoch from (conv.signal_at + min_gap - now())) * 1000));
      continue;
    end if;
    update halo.conversations c
       set sentiment_state = coalesce(signal.sentiment_state, c.sentiment_state),
           sentiment = coalesce(signal.sentiment, c.sentiment),
           mood = coalesce(signal.mood, c.mood),
           scored_message_id = coalesce(signal.scored_message_id, c.scored_message_id),
           topic = coalesce(c.topic, nullif(btrim(signal.topic), '')),
           ai_score = coalesce(signal.ai_score, c.ai_score),
           signal_at = case when signal.sentiment_state is not null then now() else c.signal_at end
     where c.id = signal.conversation_id;
    delete from halo.conversation_signal_queue
     where id = any (signal.item_ids) and lease_token = p_lease_token;
    results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'applied');
  end loop;
  return results;
end
$$;
grant execute on function api.apply_conversation_signals(uuid, jsonb) to service_role;
comment on function api.apply_conversation_signals(p_lease_token uuid, p_signals jsonb) is
  'Writes what the signals worker computed for each conversation of one claim (p_signals: '
  '[{conversation_id, base_messages, item_ids, sentiment_state, sentiment, mood, '
  'scored_message_id, topic, ai_score}]) and returns one status per conversation: applied, '
  'deferred (a mood update was streamed under 500 ms ago; retry in retry_in_ms), conflict '
  '(another worker moved the running state on; items released), lease_lost or gone. The topic is '
  'only set when the conversation has none. service_role only; raises 22023 for a missing token, '
  'a non-array p_signals or an entry without conversation_id and item_ids.';

-- Gives leased items back unprocessed (worker shutdown), without counting the attempt.
create function api.release_conversation_signals(p_lease_token uuid, p_item_ids bigint[])
returns integer
language sql
security invoker
set search_path = ''
as $$
  select halo.release_signal_items(p_lease_token, p_item_ids)
$$;
grant execute on function api.release_conversation_signals(uuid, bigint[]) to service_role;
comment on function api.release_conversation_signals(p_lease_token uuid, p_item_ids bigint[]) is
  'Gives leased signal items back to the queue unprocessed (worker shutdown) without counting the '
  'attempt, and returns how many were released; a leased AI-score item whose conversation already '
  'has another waiting is deleted instead. service_role only.';

-- The Inbox training whisper: a note the AI reads before its next reply in a live conversation.
-- Stored as a whisper entry of the transcript (the customer never sees it), pushed to the AI
-- runtime on the conversation topic as `ai.whisper` (text included: the runtime must not wait for
-- a read), and, when the visitor is identified, kept as durable Inbox Training for that contact.
-- Security definer because broadcasting is not the caller's right; the caller's Inbox: Reply
-- permission is checked here.
create function halo.whisper_to_ai(p_conversation_id uuid, p_text text) returns api.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation halo.conversations;
  identified uuid;
  message_id uuid;
  training_id uuid;
  result api.messages;
begin
  if auth.uid() is null then
    raise exception 'a whisper comes from a signed-in teammate' using errcode = '42501';
  end if;
  if p_text is null or length(btrim(p_text)) = 0 or length(p_text) > 5000 then
    raise exception 'p_text must be 1 to 5000 characters' using errcode = '22023';
  end if;
  select * into conversation from halo.conversations where id = p_conversation_id;
  if not found or conversation.workspace_id not in (select halo.inbox_workspaces('view')) then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  if conversation.workspace_id not in (select halo.inbox_workspaces('reply')) then
    raise exception 'whispering to the AI needs Inbox: Reply permission in this workspace'
      using errcode = '42501';
  end if;
  if conversation.state <> 'live' then
    raise exception 'conversation % is completed; a whisper only reaches a live conversation', p_conversation_id
      using errcode = '22023';
  end if;

  insert into halo.messages (conversation_id, kind, direction, author_kind, author_user_id, body_text)
  values (p_conversation_id, 'whisper', 'internal', 'teammate', auth.uid(), btrim(p_text))
  returning id into message_id;

  identified := coalesce(conversation.contact_id,
    (select v.contact_id from halo.visitors v where v.id = conversation.visitor_id));
  if identified is not null then
    insert into halo.training_entries (workspace_id, scope, contact_id, source, source_message_id,
                                       conversation_id, body_text, created_by)
    values (conversation.workspace_id, 'contact', identified, 'whisper', message_id,
            p_conversation_id, btrim(p_text), auth.uid())
    returning id into training_id;
  end if;

  perform realtime.send(
    jsonb_strip_nulls(jsonb_build_object('conversation_id', p_conversation_id,
      'message_id', message_id, 'text', btrim(p_text), 'training_entry_id', training_id)),
    'ai.whisper', 'conversation:' || p_conversation_id, true);

  select * into result from api.messages where id = message_id;
  return result;
end
$$;
grant execute on function halo.whisper_to_ai(uuid, text) to authenticated;

-- The API face of halo.whisper_to_ai: it runs as the caller; only the private body holds definer rights.
create function api.whisper_to_ai(p_conversation_id uuid, p_text text) returns api.messages
language sql
security invoker
set search_path = ''
as $$
  select * from halo.whisper_to_ai(p_conversation_id, p_text)
$$;
grant execute on function api.whisper_to_ai(uuid, text) to authenticated;
comment on function api.whisper_to_ai(p_conversation_id uuid, p_text text) is
  'A signed-in teammate whispers to the AI of a live conversation: stores a whisper message the '
  'customer never sees (1 to 5000 characters), pushes it to the AI runtime as ai.whisper on the '
  'conversation topic and, when the visitor is identified, keeps it as a contact Inbox Training '
  'entry. Returns the message. Needs Inbox permission reply (authenticated only); raises 42501 '
  'when not allowed, P0002 when the conversation is not visible, and 22023 for bad text or a '
  'completed conversation.';

-- The whispers the AI has not answered yet: those after its latest message (the AI runtime calls
-- this before each reply, in case it missed the broadcast).
create function api.pending_whispers(p_conversation_id uuid) returns setof api.messages
language sql stable
security invoker
set search_path = ''
as $$
  select * from api.messages m
  where m.conversation_id = p_conversation_id and m.kind = 'whisper'
    and m.created_at > coalesce(
      (select max(a.created_at) from halo.messages a
       where a.conversation_id = p_conversation_id and a.author_kind = 'ai_agent'), '-infinity')
  order by m.created_at, m.id
$$;
grant execute on function api.pending_whispers(uuid) to service_role;
comment on function api.pending_whispers(p_conversation_id uuid) is
  'Returns the whispers of a conversation written after the latest AI message, oldest first: what '
  'the AI runtime must take into account before its next reply if it missed the broadcast. '
  'service_role only.';

-- Thumbs up (1) or down (-1) on an AI message, or null (the default) to take the rating back. One rating per
-- teammate and message; a completed conversation's AI score follows (trigger above).
create function api.rate_ai_message(p_message_id uuid, p_rating smallint default null)
returns api.message_feedback
language plpgsql
security invoker
set search_path = ''
as $$
declare
  message halo.messages := halo.ai_message_for_feedback(p_message_id);
  result api.message_feedback;
begin
  if p_rating is not null and p_rating not in (-1, 1) then
    raise exception 'p_rating must be 1 (thumbs up), -1 (thumbs down) or null, got %', p_rating
      using errcode = '22023';
  end if;
  if p_rating is null then
    update halo.message_feedback set rating = null
     where message_id = message.id and user_id = auth.uid() and correction is not null;
    delete from halo.message_feedback
     where message_id = message.id and user_id = auth.uid() and correction is null;
  else
    insert into halo.message_feedback (message_id, user_id, workspace_id, rating)
    values (message.id, auth.uid(), message.workspace_id, p_rating)
    on conflict (message_id, user_id) do update set rating = excluded.rating;
  end if;
  select * into result from api.message_feedback
   where message_id = message.id and user_id = auth.uid();
  return result;
end
$$;
grant execute on function api.rate_ai_message(uuid, smallint) to authenticated;
comment on function api.rate_ai_message(p_message_id uuid, p_rating smallint) is
  'Rates an AI message of a conversation thumbs up (1) or down (-1) as the caller, or takes the '
  'rating back with null (the default), and returns the feedback row of the caller; one rating '
  'per teammate and message, and the AI score of a completed conversation is queued for '
  'recomputation. Needs Inbox permission reply (authenticated only). Raises 22023 for a bad '
  'rating or a message that is not an AI message of a conversation, 42501 when not allowed, and '
  'P0002 when the message is not visible.';

-- Marks an AI message wrong and gives the right answer: kept with the teammate's feedback on the
-- message and as a workspace-wide Inbox Training entry (one per teammate and message, edited in
-- place).
create function api.correct_ai_message(p_message_id uuid, p_correction text)
returns api.message_feedback
language plpgsql
security invoker
set search_path = ''
as $$
declare
  message halo.messages := halo.ai_message_for_feedback(p_message_id);
  result api.message_feedback;
begin
  if p_correction is null or length(btrim(p_correction)) = 0 or length(p_correction) > 5000 then
    raise exception 'p_correction must be 1 to 5000 characters' using errcode = '22023';
  end if;
  insert into halo.message_feedback (message_id, user_id, workspace_id, correction)
  values (message.id, auth.uid(), message.workspace_id, btrim(p_correction))
  on conflict (message_id, user_id) do update set correction = excluded.correction;
  insert into halo.training_entries (workspace_id, scope, source, source_message_id,
                                     conversation_id, body_text, created_by)
  values (message.workspace_id, 'workspace', 'correction', message.id, message.conversation_id,
          btrim(p_correction), auth.uid())
  on conflict (source_message_id, created_by) where source = 'correction'
  do update set body_text = excluded.body_text;
  select * into result from api.message_feedback
   where message_id = message.id and user_id = auth.uid();
  return result;
end
$$;
grant execute on function api.correct_ai_message(uuid, text) to authenticated;
comment on function api.correct_ai_message(p_message_id uuid, p_correction text) is
  'Records the right answer (1 to 5000 characters) for an AI message of a conversation: kept as '
  'the caller feedback correction and as a workspace-wide Inbox Training entry, one per teammate '
  'and message, edited in place on later calls. Returns the caller feedback row. Needs Inbox '
  'permission reply (authenticated only); raises 22023 for bad text or a message that is not an '
  'AI message of a conversation, 42501 when not allowed, and P0002 when the message is not '
  'visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.message_feedback to authenticated;

grant all on halo.message_feedback to service_role;

grant select, insert, update, delete on api.message_feedback to authenticated, service_role;

grant all on halo.conversation_signal_queue to service_role;

grant select, insert, update, delete on halo.training_entries to authenticated;

grant all on halo.training_entries to service_role;

grant select, insert, update, delete on api.training_entries to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;

-- ================================================================================================
-- schemas/realtime_topics.sql
-- ================================================================================================

-- Who may join which private Realtime topic. Realtime checks a private channel by selecting from
-- realtime.messages as the joining user with `realtime.topic` set to the channel's topic, so the
-- policy below is the whole authorization:
--   workspace:<id>     members with Inbox: View or more in that workspace
--   ticket:<id>        the same, for the ticket's workspace
--   conversation:<id>  the same, for the conversation's workspace
--   jobs:<kind>        nobody but service_role (which bypasses RLS): no policy admits it
-- realtime.messages itself belongs to Supabase; only a policy is added here.

-- helpers -----------------------------------------------------------------------------------------

create function halo.can_read_topic(p_topic text) returns boolean
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  prefix text := split_part(p_topic, ':', 1);
  raw_id text := substr(p_topic, length(prefix) + 2);
  target uuid;
  target_workspace uuid;
begin
  if raw_id !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return false;
  end if;
  target := raw_id::uuid;
  target_workspace := case prefix
    when 'workspace' then target
    when 'ticket' then (select workspace_id from halo.tickets where id = target)
    when 'conversation' then (select workspace_id from halo.conversations where id = target)
  end;
  return target_workspace is not null
     and target_workspace in (select halo.inbox_workspaces('view'));
end
$$;
grant execute on function halo.can_read_topic(text) to authenticated;

-- policies ----------------------------------------------------------------------------------------

create policy "members can receive their workspace's broadcasts" on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension = 'broadcast'
    and topic = (select realtime.topic())
    and (select halo.can_read_topic((select realtime.topic())))
  );

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
