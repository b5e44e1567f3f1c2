-- Issue 14, item 13: a transcript shows what the AI did per message and where a message was
-- merged from. api.ai_replies exposes halo.ai_replies (read through its existing policy), and
-- api.messages gains merged_from_ticket_id at the end of its columns.

create or replace view api.messages with (security_invoker = true) as
  select id, workspace_id, ticket_id, conversation_id, kind, direction, author_kind,
         author_user_id, author_contact_id, author_visitor_id, author_ai_agent_id,
         author_alias_user_id, body_text, body_html, email_message_id, email_in_reply_to,
         email_references, email_headers, attachments, mentions, activity, client_echo_id,
         created_at, merged_from_ticket_id
  from halo.messages;
comment on view api.messages is
  'Messages of ticket threads and conversation streams: kind (chat, email, note, system, '
  'whisper), direction, author, text and HTML body, email threading headers, attachment metadata, '
  'mentions, for system messages the activity {action, from, to}, and merged_from_ticket_id, the '
  'ticket a merge moved the message from. Members with Inbox permission view may read; write '
  'with api.append_message or api.reply_to_ticket. An AI message''s confidence and tool calls are '
  'in api.ai_replies.';

create view api.ai_replies with (security_invoker = true) as
  select message_id, conversation_id, workspace_id, confidence, tool_calls, created_at
  from halo.ai_replies;
comment on view api.ai_replies is
  'One row per AI message of a conversation: the confidence (0-100) the AI runtime reported and '
  'its tool calls [{name, arguments?}], joined to api.messages by message_id. Members with Inbox '
  'permission view may read; written by api.add_conversation_message (role ai).';

grant select on api.ai_replies to authenticated, service_role;
