-- api.create_ticket with p_status 'priority' and a low or normal p_priority opened a plain Open
-- ticket; it is now refused with 22023 naming the priorities that make a Priority ticket.
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
