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
