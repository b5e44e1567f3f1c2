-- Outbound email: what the `email.send` worker reads to build a threaded reply, and how it records
-- that the reply went out. Service role only.

-- api ---------------------------------------------------------------------------------------------

-- Everything needed to send one outbound email message: the message, its ticket, the customer,
-- the message it answers (the latest inbound email before it), the sender identity (the
-- workspace's default inbound address and name, the author's display name).
create function api.outbound_email_context(p_message_id uuid) returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'message', jsonb_build_object(
      'id', m.id, 'ticket_id', m.ticket_id, 'workspace_id', m.workspace_id, 'kind', m.kind,
      'direction', m.direction, 'author_kind', m.author_kind, 'body_text', m.body_text,
      'body_html', m.body_html, 'email_message_id', m.email_message_id,
      'automatic', coalesce(m.email_headers->>'auto_submitted', '') = 'auto-replied'),
    'ticket', jsonb_build_object('id', t.id, 'subject', t.subject, 'metadata', t.metadata),
    'contact', (select jsonb_build_object('email', c.email, 'name', c.name)
                  from halo.contacts c where c.id = t.contact_id),
    'replied', (select jsonb_build_object('email_message_id', r.email_message_id,
                                          'email_references', coalesce(r.email_references, '{}'))
                  from halo.messages r
                 where r.ticket_id = m.ticket_id and r.kind = 'email' and r.direction = 'inbound'
                   and r.email_message_id is not null and r.created_at <= m.created_at
                 order by r.created_at desc limit 1),
    'identity', (select jsonb_build_object('address', a.address,
                                           'name', coalesce(a.display_name, w.name))
                   from halo.inbound_addresses a
                  where a.workspace_id = m.workspace_id
                  order by a.is_default desc, a.created_at limit 1),
    'agent_name', (select mb.display_name from halo.members mb
                    where mb.workspace_id = m.workspace_id and mb.user_id = m.author_user_id))
  from halo.messages m
  join halo.tickets t on t.id = m.ticket_id
  join halo.workspaces w on w.id = m.workspace_id
  where m.id = p_message_id
$$;
grant execute on function api.outbound_email_context(uuid) to service_role;
comment on function api.outbound_email_context(p_message_id uuid) is
  'Returns what the email.send worker needs to send one outbound ticket message as JSON: message '
  '(with an automatic flag), ticket (subject, metadata), contact (email, name), replied '
  '(Message-ID and References of the latest inbound email before it, for threading), identity '
  '(the default inbound address of the workspace and its display name) and agent_name. Returns '
  'null when the message does not exist or has no ticket. service_role only.';

-- Records that an outbound message was handed to the mail provider: its Message-ID (threading
-- looks replies up by it) and threading headers. Only the first call writes; a retried job sees
-- the Message-ID and does not send again.
create function api.mark_email_sent(
  p_message_id uuid,
  p_email_message_id text,
  p_in_reply_to text default null,
  p_references text[] default null
) returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
  update halo.messages
     set email_message_id = p_email_message_id, email_in_reply_to = p_in_reply_to,
         email_references = p_references
   where id = p_message_id and email_message_id is null;
  return found;
end
$$;
grant execute on function api.mark_email_sent(uuid, text, text, text[]) to service_role;
comment on function api.mark_email_sent(p_message_id uuid, p_email_message_id text, p_in_reply_to text, p_references text[]) is
  'Records that an outbound message was handed to the mail provider: stores its Message-ID, '
  'In-Reply-To and References. Only the first call writes and returns true; it returns false when '
  'the message already has a Message-ID (a retried job must not send again) or does not exist. '
  'service_role only.';

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
