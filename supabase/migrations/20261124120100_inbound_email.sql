-- Inbound email: what the `inbound-email` edge function stores before it answers the provider,
-- and the one statement the email worker turns a parsed message into a ticket update with.
--
-- The edge function verifies the webhook, puts the raw delivery in the private Storage bucket
-- `inbound-email`, then calls api.receive_inbound_email, which records the delivery and enqueues
-- its `email.inbound` job in one transaction; only then does it answer 2xx. The worker parses
-- the stored bytes (halo_supabase/email) and calls api.apply_inbound_email once per delivery;
-- that function is idempotent (a delivery applied once returns its first outcome), dedupes on
-- (workspace, Message-ID), threads, reopens, upserts the contact and appends the message.

-- tables ------------------------------------------------------------------------------------------

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
  storage_path text not null check (length(storage_path) between 1 and 1000),
  payload_format text not null check (payload_format in ('mime', 'form', 'json')),
  size_bytes integer not null check (size_bytes between 0 and 26214400),
  state text not null default 'received'
    check (state in ('received', 'applied', 'duplicate', 'ignored', 'unroutable')),
  outcome jsonb,
  ticket_id uuid references halo.tickets (id) on delete set null,
  message_id uuid references halo.messages (id) on delete set null,
  received_at timestamptz not null default now(),
  applied_at timestamptz
);
create unique index inbound_emails_provider_message_id_key
  on halo.inbound_emails (provider, provider_message_id) where provider_message_id is not null;
create index inbound_emails_workspace_id_idx on halo.inbound_emails (workspace_id);
create index inbound_emails_ticket_id_idx on halo.inbound_emails (ticket_id);
create index inbound_emails_message_id_idx on halo.inbound_emails (message_id);

-- Mailgun webhook tokens already accepted (replay protection), kept until `expires_at`.
create table halo.webhook_tokens (
  token text primary key check (length(token) between 1 and 200),
  expires_at timestamptz not null
);
create index webhook_tokens_expires_at_idx on halo.webhook_tokens (expires_at);

-- The secrets that sign our Message-IDs and reply addresses, newest first when read; old ones stay
-- so replies to threads signed before a rotation still verify.
create table halo.email_secrets (
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  secret text not null check (length(secret) >= 32),
  created_at timestamptz not null default clock_timestamp(),
  primary key (workspace_id, created_at)
);

-- enable RLS --------------------------------------------------------------------------------------

-- No policies: service_role only (workers and the edge function).
alter table halo.inbound_emails enable row level security;
alter table halo.webhook_tokens enable row level security;
alter table halo.email_secrets enable row level security;

-- storage -----------------------------------------------------------------------------------------

-- Private: raw deliveries hold customer data; only the service role (bypassing RLS) reads them.
insert into storage.buckets (id, name, public, file_size_limit)
values ('inbound-email', 'inbound-email', false, 26214400)
on conflict (id) do nothing;

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

-- triggers ----------------------------------------------------------------------------------------

-- As in 20261124100600_tickets_messages.sql, with one change: a message the email worker marks as
-- a bounce or auto-reply (email_headers.halo_kind) does not reopen a resolved or snoozed ticket.
create or replace function halo.message_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  from_customer boolean := new.author_kind = 'customer' and new.kind in ('chat', 'email');
  -- Bounces and auto-replies (marked by the email worker) join a thread but never reopen it.
  automatic boolean := coalesce(new.email_headers->>'halo_kind', '') in ('auto_reply', 'bounce');
  public_reply boolean := new.direction = 'outbound' and new.kind in ('chat', 'email');
  auto_assign boolean;
begin
  if new.kind = 'system' then
    return null;
  end if;

  insert into halo.mentions (message_id, user_id, workspace_id, ticket_id)
  select new.id, mentioned, new.workspace_id, new.ticket_id from unnest(new.mentions) mentioned
  on conflict do nothing;

  if new.ticket_id is not null then
    select s.auto_assign_on_reply into auto_assign
    from halo.workspace_settings s where s.workspace_id = new.workspace_id;
    update halo.tickets t
       set last_activity_at = greatest(t.last_activity_at, new.created_at),
           last_customer_message_at = case when from_customer then new.created_at
                                           else t.last_customer_message_at end,
           waiting_since = case when from_customer then coalesce(t.waiting_since, new.created_at)
                                when public_reply then null
                                else t.waiting_since end,
           first_response_at = case when public_reply and new.author_kind <> 'customer'
                                    then coalesce(t.first_response_at, new.created_at)
                                    else t.first_response_at end,
           status_category = case when from_customer and not automatic
                                       and t.status_category in ('resolved', 'snoozed')
                                  then 'open'::halo.ticket_status_category
                                  else t.status_category end,
           assignee_id = case when public_reply and coalesce(auto_assign, false)
                                   and t.assignee_id is null
                                   and new.author_kind in ('teammate', 'alias_user')
                              then new.author_user_id
                              else t.assignee_id end
     where t.id = new.ticket_id;
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

-- API objects -------------------------------------------------------------------------------------

create view api.inbound_emails with (security_invoker = true) as
  select id, workspace_id, provider, provider_message_id, recipient, storage_path, payload_format,
         size_bytes, state, outcome, ticket_id, message_id, received_at, applied_at
  from halo.inbound_emails;

-- Records one verified delivery whose bytes are already in Storage, and enqueues its job, in one
-- transaction. A Mailgun token (p_token) seen before refuses the call (SQLSTATE 23505, the edge
-- function answers 406 so Mailgun does not retry a replay); the same provider id stored before
-- returns that delivery with duplicate = true and enqueues nothing.
create function api.receive_inbound_email(
  p_provider text,
  p_recipient text,
  p_storage_path text,
  p_payload_format text,
  p_size_bytes integer,
  p_provider_message_id text default null,
  p_token text default null,
  p_token_ttl_seconds integer default 600
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  delivery_id uuid;
  workspace uuid;
begin
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
                                   storage_path, payload_format, size_bytes,
                                   state)
  values (workspace, p_provider, p_provider_message_id, p_recipient, p_storage_path,
          p_payload_format, p_size_bytes, case when workspace is null then 'unroutable' else 'received' end)
  on conflict (provider, provider_message_id) where provider_message_id is not null do nothing
  returning id into delivery_id;
  if delivery_id is null then
    select id into delivery_id from halo.inbound_emails
     where provider = p_provider and provider_message_id = p_provider_message_id;
    return jsonb_build_object('id', delivery_id, 'duplicate', true);
  end if;
  if workspace is not null then
    perform halo.enqueue_job('email.inbound', jsonb_build_object('inbound_id', delivery_id),
                             'inbound:' || delivery_id, workspace);
  end if;
  return jsonb_build_object('id', delivery_id, 'duplicate', false, 'routed', workspace is not null);
end
$$;
grant execute on function api.receive_inbound_email(text, text, text, text, integer, text, text, integer)
  to service_role;

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

-- Applies one parsed delivery (p_email, built by the email worker):
--   message_id, in_reply_to, references[], subject, from_email, from_name, customer_email,
--   customer_name, cc[] ([{email, name}]), kind (new|reply|forward|auto_reply|bounce),
--   body_text (quotes stripped), body_html, headers {}, attachments [], spam bool,
--   spam_reasons[], ticket_candidates[] (verified ticket ids, strongest first),
--   message_id_candidates[] (foreign ids to look up among stored Message-IDs)
-- Order: dedupe on (workspace, Message-ID); thread (candidates in order; the sender must be the
-- ticket's contact or a participant; merged tickets are followed); bounces and auto-replies
-- attach to a thread but never open a ticket nor reopen one; otherwise a new ticket (status
-- spam when p_email.spam) for the customer (the original sender of a forward). CCs become
-- participants (ticket metadata). Returns the outcome, also stored on the delivery.
create function api.apply_inbound_email(p_inbound_id uuid, p_email jsonb) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  delivery halo.inbound_emails;
  automatic boolean := p_email->>'kind' in ('auto_reply', 'bounce');
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
    insert into halo.tickets (workspace_id, subject, status_category, source, channel, contact_id,
                              metadata)
    values (delivery.workspace_id, left(coalesce(p_email->>'subject', ''), 500),
            case when coalesce((p_email->>'spam')::boolean, false) then 'spam' else 'open' end
              ::halo.ticket_status_category,
            'email', 'email', contact,
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

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.inbound_emails, halo.webhook_tokens, halo.email_secrets
  to service_role;
grant select on api.inbound_emails to service_role;

revoke execute on all functions in schema halo, api from public;
