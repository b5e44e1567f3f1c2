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
