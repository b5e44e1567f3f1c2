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
create unique index contacts_workspace_email_key on halo.contacts (workspace_id, lower(email));
create index contacts_company_id_idx on halo.contacts (company_id);

create table halo.visitors (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  anonymous_id text not null check (length(anonymous_id) between 1 and 200),
  contact_id uuid references halo.contacts (id) on delete set null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  unique (workspace_id, anonymous_id)
);
create index visitors_contact_id_idx on halo.visitors (contact_id);

-- triggers ----------------------------------------------------------------------------------------

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

create function halo.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create trigger companies_touch_updated_at
  before update on halo.companies
  for each row execute function halo.touch_updated_at();

-- One event per contact change, so open dashboards refresh the customer panel.
create function halo.contact_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.emit_event(
    new.workspace_id,
    case tg_op when 'INSERT' then 'contact.created' else 'contact.updated' end,
    null, null, jsonb_build_object('contact_id', new.id)
  );
  return null;
end
$$;

create trigger contacts_emit_event
  after insert or update on halo.contacts
  for each row execute function halo.contact_changed();

-- enable RLS --------------------------------------------------------------------------------------

alter table halo.companies enable row level security;
alter table halo.contacts enable row level security;
alter table halo.visitors enable row level security;

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

-- API objects -------------------------------------------------------------------------------------

create view api.companies with (security_invoker = true) as
  select id, workspace_id, external_id, name, domain, industry, plan, traits, custom_fields,
         context, created_at, updated_at
  from halo.companies;

create view api.contacts with (security_invoker = true) as
  select id, workspace_id, company_id, external_id, email, name, traits, custom_fields, context,
         first_seen_at, last_seen_at, created_at, updated_at
  from halo.contacts;

create view api.visitors with (security_invoker = true) as
  select id, workspace_id, anonymous_id, contact_id, first_seen_at, last_seen_at
  from halo.visitors;

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.companies, halo.contacts to authenticated;
grant select on halo.visitors to authenticated;
grant all on halo.companies, halo.contacts, halo.visitors to service_role;

grant select, insert, update on api.companies, api.contacts to authenticated;
grant select on api.visitors to authenticated;
grant select, insert, update, delete on api.companies, api.contacts, api.visitors to service_role;

-- PUBLIC may execute every new function by default, and the per-schema default privileges of the
-- first migration cannot take a global default away; so each migration takes it back itself and
-- grants execute function by function (above). The catalog lint checks that none is left.
revoke execute on all functions in schema halo, api from public;
