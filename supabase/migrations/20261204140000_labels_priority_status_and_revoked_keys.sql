-- Labels are checked by one rule on every path (halo.check_labels): api.update_ticket and
-- api.create_ticket wrote labels unchecked, and api.set_ticket_labels removed every label when
-- p_remove held a null. api.create_ticket refuses status priority with a low or normal priority
-- (it opened a plain Open ticket). A revoked API key can no longer be un-revoked.

create or replace function halo.check_labels(p_labels text[]) returns void
language plpgsql
set search_path = ''
as $$
declare
  bad text;
begin
  select l into bad from unnest(coalesce(p_labels, '{}')) l
   where l is null or length(btrim(l)) not between 1 and 50 or l like '%,%' limit 1;
  if found then
    raise exception 'invalid label %: 1-50 characters, no commas', coalesce(quote_literal(bad), 'null')
      using errcode = '22023';
  end if;
end
$$;

grant execute on function halo.check_labels(text[]) to authenticated, service_role;

create or replace function api.create_ticket(
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
  -- Priority is an open ticket of high or urgent priority (ticket_status.sql): a lower priority
  -- would open the ticket as plain Open, not what the caller asked for.
  if p_status = 'priority' and p_priority not in ('high', 'urgent') then
    raise exception 'status priority needs priority high or urgent (or none, for high), got %', p_priority
      using errcode = '22023';
  end if;
  if p_metadata is not null and octet_length(p_metadata::text) > 50000 then
    raise exception 'metadata is % bytes; the limit is 50000', octet_length(p_metadata::text)
      using errcode = '22023';
  end if;
  perform halo.check_labels(p_labels);
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

create or replace function api.update_ticket(
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
  perform halo.check_labels(p_labels);
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

create or replace function api.set_ticket_labels(
  p_ticket_id uuid, p_add text[] default '{}', p_remove text[] default '{}'
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'manage', 'labelling a ticket');
  result api.tickets;
begin
  perform halo.check_labels(p_add);
  if array_position(p_remove, null) is not null then
    raise exception 'p_remove holds a null; name the labels to remove' using errcode = '22023';
  end if;
  update halo.tickets t
     set labels = array(select distinct l from unnest(t.labels || coalesce(p_add, '{}')) l
                        where l <> all (coalesce(p_remove, '{}')) order by l)
   where t.id = ticket.id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;

create or replace function halo.api_key_before_update() returns trigger
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

revoke execute on all functions in schema halo, api from public;
