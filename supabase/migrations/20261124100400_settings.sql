-- Workspace settings: AI agents and their escalation settings, inbox settings (auto-assign on
-- reply, spam detection, offline emails, email settings), spam rules, trusted senders, inbound
-- addresses and API keys (stored as SHA-256 hashes; the key itself is shown once).

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
create index ai_agents_workspace_id_idx on halo.ai_agents (workspace_id);

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
create index escalation_settings_workspace_id_idx on halo.escalation_settings (workspace_id);

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

create table halo.spam_rules (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  description text not null check (length(btrim(description)) between 1 and 1000),
  enabled boolean not null default true,
  created_at timestamptz not null default now()
);
create index spam_rules_workspace_id_idx on halo.spam_rules (workspace_id);

-- An address (`jo@example.com`) or a whole domain (`@example.com`); both bypass spam detection.
create table halo.trusted_senders (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  pattern text not null check (pattern ~ '^([^@\s]+)?@[^@\s]+\.[^@\s]+$'),
  created_at timestamptz not null default now()
);
create unique index trusted_senders_workspace_pattern_key
  on halo.trusted_senders (workspace_id, lower(pattern));

create table halo.inbound_addresses (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  address text not null check (address ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  display_name text,
  is_default boolean not null default false,
  created_at timestamptz not null default now()
);
-- An address routes to exactly one workspace.
create unique index inbound_addresses_address_key on halo.inbound_addresses (lower(address));
create index inbound_addresses_workspace_id_idx on halo.inbound_addresses (workspace_id);

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
create index api_keys_workspace_id_idx on halo.api_keys (workspace_id);
create index api_keys_created_by_idx on halo.api_keys (created_by);

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

-- enable RLS --------------------------------------------------------------------------------------

alter table halo.ai_agents enable row level security;
alter table halo.escalation_settings enable row level security;
alter table halo.workspace_settings enable row level security;
alter table halo.spam_rules enable row level security;
alter table halo.trusted_senders enable row level security;
alter table halo.inbound_addresses enable row level security;
alter table halo.api_keys enable row level security;

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

-- API objects -------------------------------------------------------------------------------------

create view api.ai_agents with (security_invoker = true) as
  select id, workspace_id, name, type, active, created_at from halo.ai_agents;

create view api.escalation_settings with (security_invoker = true) as
  select ai_agent_id, workspace_id, mode, confidence_threshold, max_attempts,
         require_knowledge_search, require_web_search, escalation_filters, priority_filters,
         updated_at
  from halo.escalation_settings;

create view api.workspace_settings with (security_invoker = true) as
  select workspace_id, auto_assign_on_reply, spam_detection_enabled, offline_email_enabled,
         offline_email_delay_minutes, email_settings, updated_at
  from halo.workspace_settings;

create view api.spam_rules with (security_invoker = true) as
  select id, workspace_id, description, enabled, created_at from halo.spam_rules;

create view api.trusted_senders with (security_invoker = true) as
  select id, workspace_id, pattern, created_at from halo.trusted_senders;

create view api.inbound_addresses with (security_invoker = true) as
  select id, workspace_id, address, display_name, is_default, created_at
  from halo.inbound_addresses;

-- The hash never leaves the database.
create view api.api_keys with (security_invoker = true) as
  select id, workspace_id, name, prefix, created_by, created_at, last_used_at, revoked_at
  from halo.api_keys;

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

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.ai_agents to authenticated;
grant select, update on halo.escalation_settings, halo.workspace_settings to authenticated;
grant select, insert, update, delete on halo.spam_rules, halo.inbound_addresses to authenticated;
grant select, insert, delete on halo.trusted_senders to authenticated;
grant select, insert, update on halo.api_keys to authenticated;
grant all on halo.ai_agents, halo.escalation_settings, halo.workspace_settings, halo.spam_rules,
  halo.trusted_senders, halo.inbound_addresses, halo.api_keys to service_role;

grant select, insert, update on api.ai_agents to authenticated;
grant select, update on api.escalation_settings, api.workspace_settings to authenticated;
grant select, insert, update, delete on api.spam_rules, api.inbound_addresses to authenticated;
grant select, insert, delete on api.trusted_senders to authenticated;
grant select, update (revoked_at) on api.api_keys to authenticated;
grant select, insert, update, delete on api.ai_agents, api.spam_rules, api.trusted_senders,
  api.inbound_addresses to service_role;
-- Settings rows are created with their workspace or AI agent; nobody inserts or deletes them.
grant select, update on api.escalation_settings, api.workspace_settings to service_role;
grant select, update on api.api_keys to service_role;

-- PUBLIC may execute every new function by default, and the per-schema default privileges of the
-- first migration cannot take a global default away; so each migration takes it back itself and
-- grants execute function by function (above). The catalog lint checks that none is left.
revoke execute on all functions in schema halo, api from public;
