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
