-- Messages: one model for ticket threads and conversation streams. A message has a kind (chat,
-- email, note, system, whisper), a direction, an author (customer, teammate, AI agent, alias user,
-- system), text and HTML, the email threading headers, attachment metadata and mentions.
--
-- halo.message_created keeps the ticket's activity timestamps, reopens a ticket on a customer
-- reply and emits message.created; api.append_message is the general way in (service role and
-- members), while replies.sql, inbound_email.sql and conversation_runtime.sql are the paths the
-- product uses.

-- types -------------------------------------------------------------------------------------------

create domain halo.message_kind as text check (value in ('chat', 'email', 'note', 'system', 'whisper'));

create domain halo.message_direction as text check (value in ('inbound', 'outbound', 'internal'));

create domain halo.author_kind as text check (value in ('customer', 'teammate', 'ai_agent', 'alias_user', 'system'));

-- tables ------------------------------------------------------------------------------------------

create table halo.messages (
  id uuid primary key default gen_random_uuid(),
  -- Copied from the ticket or conversation by the insert trigger.
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  ticket_id uuid references halo.tickets (id) on delete cascade,
  conversation_id uuid references halo.conversations (id) on delete cascade,
  kind halo.message_kind not null,
  direction halo.message_direction not null,
  author_kind halo.author_kind not null,
  -- The teammate who wrote it (also behind an alias user), or who caused a system message.
  author_user_id uuid references auth.users (id) on delete set null,
  author_contact_id uuid references halo.contacts (id) on delete set null,
  author_visitor_id uuid references halo.visitors (id) on delete set null,
  author_ai_agent_id uuid references halo.ai_agents (id) on delete set null,
  author_alias_user_id uuid references halo.alias_users (id) on delete set null,
  body_text text check (length(body_text) <= 200000),
  body_html text check (length(body_html) <= 1000000),
  -- Threading: the RFC 5322 Message-ID (without <>), its In-Reply-To and References.
  email_message_id text check (length(email_message_id) <= 1000),
  email_in_reply_to text,
  email_references text[],
  -- The other headers worth keeping (from, to, cc, subject, auto-submitted, ...).
  email_headers jsonb check (jsonb_typeof(email_headers) = 'object'),
  -- [{name, content_type, size, storage_path}]; the bytes live in Storage.
  attachments jsonb not null default '[]' check (jsonb_typeof(attachments) = 'array'),
  mentions uuid[] not null default '{}',
  -- System messages: {action, from, to}.
  activity jsonb,
  -- Lets a dashboard match its optimistic message with the stored one.
  client_echo_id text check (length(client_echo_id) <= 200),
  created_at timestamptz not null default now(),
  check (num_nonnulls(ticket_id, conversation_id) >= 1),
  check ((kind in ('note', 'system', 'whisper')) = (direction = 'internal')),
  check (author_kind <> 'customer' or direction = 'inbound'),
  check (kind <> 'system' or author_kind = 'system'),
  check (kind <> 'whisper' or conversation_id is not null),
  -- The ticket a message was merged from, so unmerge can move it back.
  merged_from_ticket_id uuid references halo.tickets (id) on delete set null
);

-- indexes -----------------------------------------------------------------------------------------

create index messages_ticket_thread_idx on halo.messages (ticket_id, created_at);

create index messages_conversation_thread_idx on halo.messages (conversation_id, created_at)
  where conversation_id is not null;

create index messages_author_user_id_idx on halo.messages (author_user_id) where author_user_id is not null;

create index messages_author_contact_id_idx on halo.messages (author_contact_id) where author_contact_id is not null;

create index messages_author_visitor_id_idx on halo.messages (author_visitor_id) where author_visitor_id is not null;

create index messages_author_ai_agent_id_idx on halo.messages (author_ai_agent_id) where author_ai_agent_id is not null;

create index messages_author_alias_user_id_idx on halo.messages (author_alias_user_id) where author_alias_user_id is not null;

create index messages_merged_from_ticket_id_idx on halo.messages (merged_from_ticket_id)
  where merged_from_ticket_id is not null;

create index messages_body_fts_idx on halo.messages
  using gin (to_tsvector('simple', coalesce(body_text, '')))
  where kind <> 'system';

create unique index messages_email_message_id_key on halo.messages (workspace_id, email_message_id);

-- triggers ----------------------------------------------------------------------------------------

-- Before a message is stored: take the workspace from its ticket or conversation, and check that
-- everything it points at lives in that workspace.
create function halo.message_before_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  parent_workspace uuid;
begin
  if new.ticket_id is not null then
    select workspace_id into parent_workspace from halo.tickets where id = new.ticket_id;
    if parent_workspace is null then
      raise exception 'ticket % does not exist', new.ticket_id using errcode = 'P0002';
    end if;
  end if;
  if new.conversation_id is not null then
    select workspace_id into new.workspace_id from halo.conversations where id = new.conversation_id;
    if new.workspace_id is null then
      raise exception 'conversation % does not exist', new.conversation_id using errcode = 'P0002';
    end if;
    if parent_workspace is not null and parent_workspace <> new.workspace_id then
      raise exception 'ticket and conversation belong to different workspaces' using errcode = '23503';
    end if;
  else
    new.workspace_id := parent_workspace;
  end if;
  -- Checked here rather than as table constraints: the author's row may be deleted later (the
  -- foreign keys then set null), and the message must survive that.
  if new.author_kind in ('teammate', 'alias_user') and new.author_user_id is null then
    raise exception 'a % message needs author_user_id', new.author_kind using errcode = '23502';
  end if;
  if new.author_kind = 'alias_user' and new.author_alias_user_id is null then
    raise exception 'an alias_user message needs author_alias_user_id' using errcode = '23502';
  end if;
  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.author_contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.visitors', new.author_visitor_id, 'visitor');
  perform halo.require_same_workspace(new.workspace_id, 'halo.ai_agents', new.author_ai_agent_id, 'AI agent');
  perform halo.require_same_workspace(new.workspace_id, 'halo.alias_users', new.author_alias_user_id, 'alias user');
  if cardinality(new.mentions) > 0 and exists (
    select 1 from unnest(new.mentions) mentioned(user_id)
    where not exists (select 1 from halo.members m
                      where m.workspace_id = new.workspace_id and m.user_id = mentioned.user_id)
  ) then
    raise exception 'every mentioned user must be a member of the workspace' using errcode = '23503';
  end if;
  return new;
end
$$;

create trigger messages_before_insert
  before insert on halo.messages
  for each row execute function halo.message_before_insert();

create function halo.message_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  from_customer boolean := new.author_kind = 'customer' and new.kind in ('chat', 'email');
  -- Bounces and auto-replies (marked by the email worker) join a thread but never reopen it.
  automatic boolean := halo.is_automatic_email(new.email_headers->>'halo_kind');
  public_reply boolean := new.direction = 'outbound' and new.kind in ('chat', 'email');
  auto_assign boolean := false;
  ticket halo.tickets;
  updated halo.tickets;
begin
  if new.kind = 'system' then
    return null;
  end if;

  insert into halo.mentions (message_id, user_id, workspace_id, ticket_id)
  select new.id, mentioned, new.workspace_id, new.ticket_id from unnest(new.mentions) mentioned
  on conflict do nothing;

  -- The row is locked first, as the update would lock it, so the values are computed from the
  -- ticket as it is now; an update that would change nothing is skipped.
  if new.ticket_id is not null then
    select * into ticket from halo.tickets t where t.id = new.ticket_id for no key update;
  end if;
  if ticket.id is not null then
    if public_reply then
      select coalesce(s.auto_assign_on_reply, false) into auto_assign
        from halo.workspace_settings s where s.workspace_id = new.workspace_id;
    end if;
    updated := ticket;
    updated.last_activity_at := greatest(ticket.last_activity_at, new.created_at);
    if from_customer then
      updated.last_customer_message_at := new.created_at;
      updated.waiting_since := coalesce(ticket.waiting_since, new.created_at);
    elsif public_reply then
      updated.waiting_since := null;
    end if;
    if public_reply and new.author_kind <> 'customer' then
      updated.first_response_at := coalesce(ticket.first_response_at, new.created_at);
    end if;
    if from_customer and not automatic and ticket.status_category in ('resolved', 'snoozed') then
      updated.status_category := 'open';
    end if;
    if public_reply and coalesce(auto_assign, false) and ticket.assignee_id is null
       and new.author_kind in ('teammate', 'alias_user') then
      updated.assignee_id := new.author_user_id;
    end if;
    if updated is distinct from ticket then
      update halo.tickets t
         set last_activity_at = updated.last_activity_at,
             last_customer_message_at = updated.last_customer_message_at,
             waiting_since = updated.waiting_since,
             first_response_at = updated.first_response_at,
             status_category = updated.status_category,
             assignee_id = updated.assignee_id
       where t.id = new.ticket_id;
    end if;
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

create trigger messages_created
  after insert on halo.messages
  for each row execute function halo.message_created();

-- row-level security ------------------------------------------------------------------------------

alter table halo.messages enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Whether an inbound email of this kind (the email worker's classification) is automatic mail:
-- auto-replies and bounces open no ticket and reopen none. The SQL face of `Kind.automatic` in
-- halo_supabase/email/classify.py, which decides it; tests/db/test_automatic_mail.py holds the
-- two equal for every kind.
create function halo.is_automatic_email(p_kind text) returns boolean
language sql immutable
set search_path = ''
as $$
  select coalesce(p_kind in ('auto_reply', 'bounce'), false)
$$;
grant execute on function halo.is_automatic_email(text) to authenticated, service_role;

-- A reply must reach someone: refuses (22023) a chat or email reply on a ticket whose channel it
-- cannot reach, naming the channels the ticket can use (detail: {"channels": [...]}). Email needs
-- the contact's email address (the email.send worker sends to it), chat the ticket's conversation
-- (the widget) or p_conversation_id, a note nobody. The one rule for api.append_message and
-- api.reply_to_ticket (which checks before its send guard). Volatile: raising is its effect.
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

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read messages" on halo.messages
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can write messages as themselves" on halo.messages
  for insert to authenticated
  with check (
    workspace_id in (select halo.inbox_workspaces('reply'))
    and author_kind in ('teammate', 'alias_user')
    and author_user_id = (select auth.uid())
  );

-- api ---------------------------------------------------------------------------------------------

create view api.messages with (security_invoker = true) as
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

-- Appends a message to a ticket thread or a conversation stream. Signed-in teammates write as
-- themselves (chat, email, note, whisper; optionally as an alias user) and need Inbox: Reply;
-- service_role (workers) also writes customer and AI messages, with email threading headers.
create function api.append_message(
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
grant execute on function api.append_message(uuid, uuid, halo.message_kind, text, text, halo.author_kind,
  halo.message_direction, uuid, uuid, uuid, uuid, text, text, text[], jsonb, jsonb, uuid[], text)
  to authenticated, service_role;
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

-- grants ------------------------------------------------------------------------------------------

grant select, insert on halo.messages to authenticated;

grant all on halo.messages to service_role;

grant select on api.messages to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
