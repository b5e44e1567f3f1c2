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

-- triggers ----------------------------------------------------------------------------------------

-- A revoked key stays revoked: revoked_at is set once and never cleared or moved, so a key that
-- leaked cannot come back to life.
create function halo.api_key_before_update() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'API key % was revoked at %; a revoked key cannot be restored: create a new key',
      old.prefix, old.revoked_at using errcode = '22023';
  end if;
  return new;
end
$$;

create trigger api_keys_before_update
  before update of revoked_at on halo.api_keys
  for each row execute function halo.api_key_before_update();

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
