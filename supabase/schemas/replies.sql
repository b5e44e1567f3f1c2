-- Replies: a teammate's chat or email reply or internal note on a ticket, behind the send guard.
--
-- The send guard: the caller passes p_last_seen_seq, the last event seq its screen reflects. When a
-- customer message or another teammate's reply or note reached the ticket after it, nothing is
-- written and PT409 (HTTP 409) lists what changed, so nobody answers a customer blind. Email
-- replies enqueue an `email.send` job (outbound_email.sql).

-- helpers -----------------------------------------------------------------------------------------

-- The send guard. Raises PT409 (HTTP 409) when a customer message, or another teammate's reply or
-- note, reached the ticket after p_last_seen_seq (the last event seq the caller's screen
-- reflects); the error's detail lists those messages as JSON. Volatile: raising is its effect.
create function halo.send_guard(p_ticket halo.tickets, p_last_seen_seq bigint) returns void
language plpgsql
set search_path = ''
as $$
declare
  conflicts jsonb;
begin
  select jsonb_agg(jsonb_build_object('seq', e.seq, 'message_id', e.data ->> 'message_id',
                                      'kind', e.data ->> 'kind', 'author_kind', e.data ->> 'author_kind',
                                      'actor_user_id', e.actor_user_id) order by e.seq)
    into conflicts
    from halo.events e
   where e.workspace_id = p_ticket.workspace_id and e.seq > p_last_seen_seq
     and e.ticket_id = p_ticket.id and e.name = 'message.created'
     and e.data ->> 'kind' in ('chat', 'email', 'note')
     and (e.data ->> 'author_kind' = 'customer'
          or (e.data ->> 'author_kind' in ('teammate', 'alias_user')
              and e.actor_user_id is distinct from auth.uid()));
  if conflicts is not null then
    raise exception 'ticket #% changed since seq %: % new message(s) (%)', p_ticket.number, p_last_seen_seq,
      jsonb_array_length(conflicts),
      (select string_agg(distinct case when c ->> 'author_kind' = 'customer' then 'customer message'
                                       when c ->> 'kind' = 'note' then 'teammate note'
                                       else 'teammate reply' end, ', ')
         from jsonb_array_elements(conflicts) c)
      using errcode = 'PT409', detail = conflicts::text,
            hint = 'Read the new messages, then send again with the latest seq.';
  end if;
end
$$;
grant execute on function halo.send_guard(halo.tickets, bigint) to authenticated, service_role;

-- api ---------------------------------------------------------------------------------------------

-- A teammate's reply (chat or email) or internal note (Inbox: Reply), optionally as an alias user.
-- The send guard: p_last_seen_seq is the last event seq the caller's screen reflects; if a
-- customer message or another teammate's reply or note reached the ticket after it, nothing is
-- written and PT409 (HTTP 409) says what changed (details: JSON list of those messages).
-- A chat or email the ticket cannot deliver is refused first (halo.require_reply_channel, 22023).
-- Notes record @handle mentions (see halo.mentioned_members).
create function api.reply_to_ticket(
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
grant execute on function api.reply_to_ticket(uuid, text, text, bigint, text, uuid, text) to authenticated;
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

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
