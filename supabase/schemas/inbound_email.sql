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
