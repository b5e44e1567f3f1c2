-- Issue 14, item 7: a reply must reach someone. A chat reply on a ticket without a conversation
-- (or an email reply to a contact without an email address) is refused with 22023 naming the
-- channels the ticket can take; api.append_message and api.reply_to_ticket share the rule.

create function halo.require_reply_channel(
  p_ticket halo.tickets, p_kind text, p_conversation_id uuid default null
) returns void
language plpgsql
set search_path = ''
as $$
declare
  channels text[] := array_remove(array[
    case when exists (select 1 from halo.contacts c
                      where c.id = p_ticket.contact_id and c.email is not null) then 'email' end,
    case when p_ticket.conversation_id is not null then 'chat' end,
    'note'], null);
begin
  if p_kind in ('chat', 'email') and not p_kind = any (channels)
     and not (p_kind = 'chat' and p_conversation_id is not null) then
    raise exception 'ticket #% cannot take % reply: %; it can take %', p_ticket.number,
      case p_kind when 'chat' then 'a chat' else 'an email' end,
      case p_kind when 'chat' then 'it has no conversation, so a chat reaches no one'
                  else 'its contact has no email address' end,
      array_to_string(channels, ', ')
      using errcode = '22023', detail = jsonb_build_object('channels', channels)::text,
            hint = format('Reply as %s.', array_to_string(channels, ' or '));
  end if;
end
$$;

grant execute on function halo.require_reply_channel(halo.tickets, text, uuid) to authenticated, service_role;

create or replace function api.append_message(
  p_ticket_id uuid default null,
  p_conversation_id uuid default null,
  p_kind halo.message_kind default 'chat',
  p_body_text text default null,
  p_body_html text default null,
  p_author_kind halo.author_kind default 'teammate',
  p_direction halo.message_direction default null,
  p_author_contact_id uuid default null,
  p_author_visitor_id uuid default null,
  p_author_ai_agent_id uuid default null,
  p_author_alias_user_id uuid default null,
  p_email_message_id text default null,
  p_email_in_reply_to text default null,
  p_email_references text[] default null,
  p_email_headers jsonb default null,
  p_attachments jsonb default '[]',
  p_mentions uuid[] default '{}',
  p_client_echo_id text default null
) returns api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  message_id uuid;
  result api.messages;
  author_kind halo.author_kind := coalesce(p_author_kind, 'teammate');
  ticket halo.tickets;
begin
  if p_ticket_id is null and p_conversation_id is null then
    raise exception 'a message needs p_ticket_id or p_conversation_id' using errcode = '22023';
  end if;
  if p_kind = 'system' then
    raise exception 'system messages are written by the database itself' using errcode = '22023';
  end if;
  if coalesce(p_body_text, p_body_html, '') = '' and coalesce(jsonb_array_length(p_attachments), 0) = 0 then
    raise exception 'a message needs a body or an attachment' using errcode = '22023';
  end if;
  if p_ticket_id is not null then
    select * into ticket from halo.tickets where id = p_ticket_id;
    if ticket.id is null then
      raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
    end if;
    if author_kind <> 'customer' then
      perform halo.require_reply_channel(ticket, p_kind, p_conversation_id);
    end if;
  end if;
  if p_conversation_id is not null
     and not exists (select 1 from halo.conversations where id = p_conversation_id) then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  if auth.uid() is null and author_kind in ('teammate', 'alias_user') then
    raise exception 'a teammate''s message needs the signed-in teammate; workers write as customer, ai_agent or system'
      using errcode = '42501';
  end if;
  if auth.uid() is not null and author_kind not in ('teammate', 'alias_user') then
    raise exception 'a signed-in teammate writes as a teammate or an alias user, not as %', author_kind
      using errcode = '42501';
  end if;
  begin
    insert into halo.messages (
      ticket_id, conversation_id, kind, direction, author_kind, author_user_id, author_contact_id,
      author_visitor_id, author_ai_agent_id, author_alias_user_id, body_text, body_html,
      email_message_id, email_in_reply_to, email_references, email_headers, attachments, mentions,
      client_echo_id)
    values (
      p_ticket_id, p_conversation_id, p_kind,
      coalesce(p_direction, case
        when p_kind in ('note', 'whisper') then 'internal'
        when author_kind = 'customer' then 'inbound'
        else 'outbound' end::halo.message_direction),
      author_kind, auth.uid(), p_author_contact_id, p_author_visitor_id, p_author_ai_agent_id,
      p_author_alias_user_id, p_body_text, p_body_html, p_email_message_id, p_email_in_reply_to,
      p_email_references, p_email_headers, coalesce(p_attachments, '[]'), coalesce(p_mentions, '{}'),
      p_client_echo_id)
    returning id into message_id;
  exception when insufficient_privilege then
    raise exception 'writing in this thread needs Inbox: Reply permission in its workspace'
      using errcode = '42501';
  end;
  select * into result from api.messages where id = message_id;
  return result;
end
$$;
comment on function api.append_message(p_ticket_id uuid, p_conversation_id uuid, p_kind halo.message_kind, p_body_text text, p_body_html text, p_author_kind halo.author_kind, p_direction halo.message_direction, p_author_contact_id uuid, p_author_visitor_id uuid, p_author_ai_agent_id uuid, p_author_alias_user_id uuid, p_email_message_id text, p_email_in_reply_to text, p_email_references text[], p_email_headers jsonb, p_attachments jsonb, p_mentions uuid[], p_client_echo_id text) is
  'Appends a message to a ticket thread and/or a conversation stream and returns it; the '
  'direction defaults from kind and author, an outbound email enqueues an email.send job, and a '
  'customer message reopens a resolved or snoozed ticket. Signed-in teammates need Inbox '
  'permission reply and write as teammate or alias_user (chat, email, note, whisper); '
  'service_role writes as customer, ai_agent or system, with email threading headers. Raises '
  '22023 for a missing target, a system kind, an empty message, or a chat or email reply the '
  'ticket cannot deliver (chat needs a conversation, email a contact email address; detail lists '
  'the channels it can take), P0002 when the ticket or conversation does not exist, and 42501 '
  'when the author kind or permission is not allowed.';

create or replace function api.reply_to_ticket(
  p_ticket_id uuid,
  p_kind text,
  p_body_text text,
  p_last_seen_seq bigint,
  p_body_html text default null,
  p_alias_user_id uuid default null,
  p_client_echo_id text default null
) returns api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'reply', 'replying');
begin
  if p_kind is null or p_kind not in ('chat', 'email', 'note') then
    raise exception 'p_kind must be chat, email or note, got %', p_kind using errcode = '22023';
  end if;
  if p_last_seen_seq is null or p_last_seen_seq < 0 then
    raise exception 'p_last_seen_seq (the last event seq you saw) is required' using errcode = '22023';
  end if;
  if ticket.merged_into_id is not null then
    raise exception 'ticket #% was merged into another ticket; reply there', ticket.number
      using errcode = 'HL002', detail = jsonb_build_object('merged_into_id', ticket.merged_into_id)::text;
  end if;
  perform halo.require_reply_channel(ticket, p_kind);
  perform halo.send_guard(ticket, p_last_seen_seq);
  return api.append_message(
    p_ticket_id => p_ticket_id,
    p_kind => p_kind::halo.message_kind,
    p_body_text => p_body_text,
    p_body_html => p_body_html,
    p_author_kind => case when p_alias_user_id is null then 'teammate' else 'alias_user' end::halo.author_kind,
    p_author_alias_user_id => p_alias_user_id,
    p_mentions => case when p_kind = 'note'
                       then halo.mentioned_members(ticket.workspace_id, p_body_text) else '{}' end,
    p_client_echo_id => p_client_echo_id);
end
$$;
comment on function api.reply_to_ticket(p_ticket_id uuid, p_kind text, p_body_text text, p_last_seen_seq bigint, p_body_html text, p_alias_user_id uuid, p_client_echo_id text) is
  'Writes a reply (p_kind chat or email) or internal note on a ticket as the signed-in teammate, '
  'or as alias user p_alias_user_id, and returns the message; notes record @handle mentions of '
  'members. Send guard: p_last_seen_seq is the last event seq the caller saw, and if a customer '
  'message or another teammate reply or note reached the ticket after it, nothing is written and '
  'PT409 (HTTP 409) is raised with the new messages as JSON in details. Needs Inbox permission '
  'reply (authenticated only); also raises 22023 for a bad kind or missing seq or a channel the '
  'ticket cannot deliver (chat needs the ticket''s conversation, email its contact''s email '
  'address; the message and detail name the channels it can take), HL002 when the ticket was '
  'merged, 42501 when not allowed, and P0002 when the ticket is not visible.';

revoke execute on all functions in schema halo, api from public;
