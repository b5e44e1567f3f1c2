-- The conversation runtime API: what an AI runtime (the chat widget's backend, with a workspace API
-- key through the `conversations` edge function, or the service role) calls to record a session:
-- start, messages (user, AI with confidence and tool calls, teammate, system), user-activity
-- heartbeats, the widget opening and closing, identify, end, and the updates it polls.
--
-- Every AI message of a live, unpaused conversation without a ticket enqueues one
-- `conversation.escalate` job in the same transaction (escalation_and_takeover.sql decides).
-- Teammate replies reach the widget as message.created on the conversation's topic while the
-- widget is open; while it is closed they wait in halo.queued_replies and every opening returns
-- them until api.acknowledge_widget_replies says they were shown (at least once delivery).
-- What the AI did on each turn (confidence 0-100, tool calls) is kept in halo.ai_replies.
-- Closing the widget completes a live conversation once it has stayed closed, with no message
-- and no user activity, for halo.widget_close_grace(): the close enqueues a
-- `conversation.widget_closed` job due then, and its worker (workers/widget_close.py) calls
-- api.complete_closed_conversation, which completes it only if that still holds (decision 0024).
--
-- Every RPC here takes an optional p_workspace_id: the edge function passes the API key's
-- workspace, so a conversation of another workspace is "not found", exactly like a missing one.
-- Errors: 22023 bad argument (named), P0002 unknown conversation or visitor, PT409 (HTTP 409) the
-- conversation's state forbids it (AI paused, completed, taken over), 42501 not allowed.

-- tables ------------------------------------------------------------------------------------------

create table halo.ai_replies (
  message_id uuid primary key references halo.messages (id) on delete cascade,
  conversation_id uuid not null references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  confidence smallint check (confidence between 0 and 100),
  -- [{"name": "knowledge_search", "arguments": {...}}, ...]; names checked by the API.
  tool_calls jsonb not null default '[]'
    check (jsonb_typeof(tool_calls) = 'array' and octet_length(tool_calls::text) <= 20000),
  created_at timestamptz not null default now()
);

create table halo.widget_states (
  conversation_id uuid primary key references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  open boolean not null,
  changed_at timestamptz not null default now()
);

create table halo.queued_replies (
  -- Delivery order: the order the replies were written (created_at ties within a transaction).
  seq bigint generated always as identity,
  message_id uuid primary key references halo.messages (id) on delete cascade,
  conversation_id uuid not null references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  queued_at timestamptz not null default now(),
  deliveries integer not null default 0,
  last_delivered_at timestamptz
);

comment on column halo.queued_replies.deliveries is
  'How many times opening the widget returned this reply without an acknowledgement yet.';

-- indexes -----------------------------------------------------------------------------------------

create index ai_replies_conversation_idx on halo.ai_replies (conversation_id, created_at);

create index ai_replies_workspace_id_idx on halo.ai_replies (workspace_id);

create index widget_states_workspace_id_idx on halo.widget_states (workspace_id);

create index queued_replies_conversation_idx on halo.queued_replies (conversation_id, seq);

create index queued_replies_workspace_id_idx on halo.queued_replies (workspace_id);

-- triggers ----------------------------------------------------------------------------------------

-- One thread: a conversation message (not a whisper) joins the conversation's ticket, and a chat
-- reply on a conversation's ticket joins the conversation (so it reaches the widget). Runs after
-- messages_before_insert (trigger names fire in order), which has already checked workspaces.
create function halo.link_conversation_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.conversation_id is not null and new.ticket_id is null and new.kind <> 'whisper' then
    new.ticket_id := halo.conversation_ticket(new.conversation_id);
  elsif new.ticket_id is not null and new.conversation_id is null and new.kind = 'chat' then
    select t.conversation_id into new.conversation_id from halo.tickets t where t.id = new.ticket_id;
  end if;
  return new;
end
$$;

create trigger messages_link_conversation
  before insert on halo.messages
  for each row execute function halo.link_conversation_message();

create function halo.ai_reply_before_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select workspace_id, conversation_id into new.workspace_id, new.conversation_id
  from halo.messages where id = new.message_id;
  if new.conversation_id is null then
    raise exception 'message % is not a conversation message', new.message_id using errcode = '22023';
  end if;
  return new;
end
$$;

create trigger ai_replies_before_insert
  before insert on halo.ai_replies
  for each row execute function halo.ai_reply_before_insert();

-- What the customer sees from the human side (teammate chat, the handoff notice) is queued while
-- the widget is closed. A conversation without a widget row has its widget open.
create function halo.queue_reply_for_closed_widget() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if ((new.kind = 'chat' and new.author_kind in ('teammate', 'alias_user'))
      or (new.kind = 'system' and new.activity ->> 'action' = 'teammate_joined'))
     and exists (select 1 from halo.widget_states w
                 where w.conversation_id = new.conversation_id and not w.open) then
    insert into halo.queued_replies (message_id, conversation_id, workspace_id)
    values (new.id, new.conversation_id, new.workspace_id);
  end if;
  return null;
end
$$;

create trigger messages_queue_for_closed_widget
  after insert on halo.messages
  for each row
  when (new.conversation_id is not null and new.author_kind in ('teammate', 'alias_user', 'system'))
  execute function halo.queue_reply_for_closed_widget();

-- row-level security ------------------------------------------------------------------------------

alter table halo.ai_replies enable row level security;

alter table halo.widget_states enable row level security;

alter table halo.queued_replies enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- The conversation an API call names, locked for the caller's transaction when p_lock; "not
-- found" when it is missing or belongs to another workspace than p_workspace_id (when given).
create function halo.conversation_for_api(
  p_conversation_id uuid, p_workspace_id uuid, p_lock boolean default false
) returns halo.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
begin
  if p_conversation_id is null then
    raise exception 'p_conversation_id is required' using errcode = '22023';
  end if;
  if p_lock then
    select * into conv from halo.conversations where id = p_conversation_id for update;
  else
    select * into conv from halo.conversations where id = p_conversation_id;
  end if;
  if conv.id is null or (p_workspace_id is not null and conv.workspace_id <> p_workspace_id) then
    raise exception 'conversation % does not exist in this workspace', p_conversation_id
      using errcode = 'P0002';
  end if;
  return conv;
end
$$;
grant execute on function halo.conversation_for_api(uuid, uuid, boolean) to service_role;

-- Normalizes tool calls to [{"name", "arguments"?}]: each element is a tool name or an object
-- with one; at most 50.
create function halo.normalized_tool_calls(p_tool_calls jsonb) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
  call jsonb;
  name text;
  result jsonb := '[]';
begin
  if p_tool_calls is null then
    return result;
  end if;
  if jsonb_typeof(p_tool_calls) <> 'array' then
    raise exception 'p_tool_calls must be a JSON array of tool names or {"name": ...} objects'
      using errcode = '22023';
  end if;
  if jsonb_array_length(p_tool_calls) > 50 then
    raise exception 'at most 50 tool calls per message, got %', jsonb_array_length(p_tool_calls)
      using errcode = '22023';
  end if;
  for call in select value from jsonb_array_elements(p_tool_calls) loop
    name := case jsonb_typeof(call) when 'string' then call #>> '{}'
                                    when 'object' then call ->> 'name' end;
    if name is null or name !~ '^[a-z][a-z0-9_.-]{0,63}$' then
      raise exception 'tool call % needs a name of lower-case letters, digits, _ . or - (at most 64)', call
        using errcode = '22023';
    end if;
    result := result || jsonb_build_array(case when jsonb_typeof(call) = 'object' then call
                                               else jsonb_build_object('name', name) end);
  end loop;
  return result;
end
$$;
grant execute on function halo.normalized_tool_calls(jsonb) to service_role;

-- How long a closed widget waits before its live conversation completes: a customer who reopens
-- it, writes or is active within it keeps the conversation live (decision 0024).
create function halo.widget_close_grace() returns interval
language sql immutable
set search_path = ''
as $$
  select interval '60 seconds'
$$;
grant execute on function halo.widget_close_grace() to service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read AI replies" on halo.ai_replies
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members with inbox access can read widget states" on halo.widget_states
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members with inbox access can read queued replies" on halo.queued_replies
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

-- What the AI did on each of its turns, for a transcript: confidence and tool calls per message.
create view api.ai_replies with (security_invoker = true) as
  select message_id, conversation_id, workspace_id, confidence, tool_calls, created_at
  from halo.ai_replies;
comment on view api.ai_replies is
  'One row per AI message of a conversation: the confidence (0-100) the AI runtime reported and '
  'its tool calls [{name, arguments?}], joined to api.messages by message_id. Members with Inbox '
  'permission view may read; written by api.add_conversation_message (role ai).';

create function api.start_conversation(
  p_workspace_id uuid,
  p_session_id text default null,
  p_mode halo.conversation_mode default 'chat',
  p_ai_agent_id uuid default null,
  p_contact_id uuid default null,
  p_visitor_id uuid default null,
  p_metadata jsonb default '{}',
  p_anonymous_id text default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conversation_id uuid;
  visitor uuid := p_visitor_id;
  result api.conversations;
begin
  if p_workspace_id is null then
    raise exception 'p_workspace_id is required' using errcode = '22023';
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or octet_length(p_metadata::text) > 20000) then
    raise exception 'p_metadata must be a JSON object of at most 20000 bytes' using errcode = '22023';
  end if;
  if p_anonymous_id is not null and visitor is null then
    if length(p_anonymous_id) not between 1 and 200 then
      raise exception 'p_anonymous_id must be 1-200 characters' using errcode = '22023';
    end if;
    insert into halo.visitors (workspace_id, anonymous_id) values (p_workspace_id, p_anonymous_id)
    on conflict (workspace_id, anonymous_id) do update set last_seen_at = now()
    returning id into visitor;
  end if;
  insert into halo.conversations
    (workspace_id, session_id, mode, ai_agent_id, contact_id, visitor_id, metadata)
  values (p_workspace_id, coalesce(p_session_id, gen_random_uuid()::text), p_mode, p_ai_agent_id,
          coalesce(p_contact_id, (select v.contact_id from halo.visitors v where v.id = visitor)),
          visitor, coalesce(p_metadata, '{}'))
  on conflict (workspace_id, session_id) do nothing
  returning id into conversation_id;
  if conversation_id is null then
    select id into conversation_id from halo.conversations
    where workspace_id = p_workspace_id and session_id = p_session_id;
  end if;
  select * into result from api.conversations where id = conversation_id;
  return result;
end
$$;
grant execute on function api.start_conversation(uuid, text, halo.conversation_mode, uuid, uuid, uuid, jsonb, text)
  to service_role;
comment on function api.start_conversation(p_workspace_id uuid, p_session_id text, p_mode halo.conversation_mode, p_ai_agent_id uuid, p_contact_id uuid, p_visitor_id uuid, p_metadata jsonb, p_anonymous_id text) is
  'Starts a live conversation in p_workspace_id and returns it; when p_session_id already exists '
  'in the workspace, the existing conversation is returned unchanged. p_anonymous_id finds or '
  'creates the anonymous visitor when p_visitor_id is not given, and the contact defaults to the '
  'contact of the visitor. service_role only; raises 22023 for a missing workspace, metadata that '
  'is not an object of at most 20000 bytes or a bad p_anonymous_id, and 23503 when the agent, '
  'contact or visitor is not in the workspace.';

-- Appends one message of the session. p_role: user (the customer or anonymous visitor), ai (the
-- conversation's agent; p_confidence 0-100 and p_tool_calls), teammate (p_author_user_id, a member
-- of the workspace) or system (a notice such as "transferred to voice"). An AI message needs a
-- live conversation whose AI is not paused.
create function api.add_conversation_message(
  p_conversation_id uuid,
  p_role text,
  p_text text,
  p_confidence smallint default null,
  p_tool_calls jsonb default null,
  p_author_user_id uuid default null,
  p_client_echo_id text default null,
  p_workspace_id uuid default null
) returns api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
  tool_calls jsonb := halo.normalized_tool_calls(p_tool_calls);
  message_id uuid;
  result api.messages;
begin
  if p_role is null or p_role not in ('user', 'ai', 'teammate', 'system') then
    raise exception 'p_role must be user, ai, teammate or system, got %', p_role using errcode = '22023';
  end if;
  if p_text is null or btrim(p_text) = '' then
    raise exception 'p_text is empty; a message needs text' using errcode = '22023';
  end if;
  if length(p_text) > 20000 then
    raise exception 'p_text is % characters; a conversation message holds at most 20000', length(p_text)
      using errcode = '22023';
  end if;
  if p_confidence is not null and p_role <> 'ai' then
    raise exception 'only AI messages carry a confidence' using errcode = '22023';
  end if;
  if p_confidence is not null and p_confidence not between 0 and 100 then
    raise exception 'p_confidence must be 0-100, got %', p_confidence using errcode = '22023';
  end if;
  if jsonb_array_length(tool_calls) > 0 and p_role <> 'ai' then
    raise exception 'only AI messages carry tool calls' using errcode = '22023';
  end if;
  if p_role = 'teammate' and (p_author_user_id is null or not exists (
       select 1 from halo.members m
       join halo.conversations c on c.workspace_id = m.workspace_id
       where c.id = p_conversation_id and m.user_id = p_author_user_id)) then
    raise exception 'a teammate message needs p_author_user_id, a member of the conversation''s workspace'
      using errcode = '22023';
  end if;
  conv := halo.conversation_for_api(p_conversation_id, p_workspace_id, p_role = 'ai');
  if p_role = 'ai' and conv.state <> 'live' then
    raise exception 'conversation % is completed; the AI cannot answer in it', p_conversation_id
      using errcode = 'PT409';
  end if;
  if p_role = 'ai' and conv.ai_paused then
    raise exception 'the AI is paused on conversation %: a teammate has taken over', p_conversation_id
      using errcode = 'PT409', hint = 'Wait for conversation.resumed on the conversation''s topic.';
  end if;

  insert into halo.messages (
    conversation_id, kind, direction, author_kind, author_user_id, author_contact_id,
    author_visitor_id, author_ai_agent_id, body_text, activity, client_echo_id)
  values (
    conv.id,
    case p_role when 'system' then 'system' else 'chat' end,
    case p_role when 'user' then 'inbound' when 'system' then 'internal' else 'outbound' end,
    case p_role when 'user' then 'customer' when 'ai' then 'ai_agent' when 'teammate' then 'teammate'
                else 'system' end,
    case when p_role = 'teammate' then p_author_user_id end,
    case when p_role = 'user' then conv.contact_id end,
    case when p_role = 'user' then conv.visitor_id end,
    case when p_role = 'ai' then conv.ai_agent_id end,
    p_text,
    case when p_role = 'system' then jsonb_build_object('action', 'notice') end,
    p_client_echo_id)
  returning id into message_id;

  if p_role = 'system' then
    -- message_created leaves system messages to the change they record; this one is its own.
    perform halo.emit_event(conv.workspace_id, 'message.created', halo.conversation_ticket(conv.id),
      conv.id, jsonb_build_object('message_id', message_id, 'kind', 'system', 'author_kind', 'system'));
  elsif p_role = 'ai' then
    insert into halo.ai_replies (message_id, conversation_id, workspace_id, confidence, tool_calls)
    values (message_id, conv.id, conv.workspace_id, p_confidence, tool_calls);
    if p_confidence is not null and p_confidence is distinct from conv.ai_confidence then
      update halo.conversations set ai_confidence = p_confidence where id = conv.id;
    end if;
    if halo.escalation_possible(conv) then
      perform halo.enqueue_job('conversation.escalate',
        jsonb_build_object('conversation_id', conv.id, 'message_id', message_id),
        'escalate:' || message_id, conv.workspace_id);
    end if;
  end if;
  select * into result from api.messages where id = message_id;
  return result;
end
$$;
grant execute on function api.add_conversation_message(uuid, text, text, smallint, jsonb, uuid, text, uuid)
  to service_role;
comment on function api.add_conversation_message(p_conversation_id uuid, p_role text, p_text text, p_confidence smallint, p_tool_calls jsonb, p_author_user_id uuid, p_client_echo_id text, p_workspace_id uuid) is
  'Appends one message (1 to 20000 characters) to a conversation and returns it: p_role is user '
  '(the contact or visitor), ai (the conversation agent, with optional p_confidence 0 to 100 and '
  'p_tool_calls; may enqueue a conversation.escalate job), teammate (p_author_user_id, a member '
  'of the workspace) or system (a notice). service_role only; p_workspace_id restricts the lookup '
  'to that workspace. Raises 22023 for a bad argument, P0002 when the conversation is not found, '
  'and PT409 when an AI message targets a completed conversation or one whose AI is paused.';

-- One conversation as the runtime sees it (state, ai_paused, outcome): for runtimes that cannot
-- join the conversation's Realtime topic (an API key is not a Realtime credential).
create function api.get_conversation(p_conversation_id uuid, p_workspace_id uuid default null)
returns api.conversations
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  result api.conversations;
begin
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.get_conversation(uuid, uuid) to service_role;
comment on function api.get_conversation(p_conversation_id uuid, p_workspace_id uuid) is
  'Returns one conversation (state, ai_paused, outcome and the other columns of '
  'api.conversations), for AI runtimes that cannot join its Realtime topic. service_role only; '
  'p_workspace_id restricts the lookup to that workspace; raises P0002 when the conversation is '
  'not found.';

-- The Live Feed's pulsing indicator: the user is active. Stores last_user_activity_at (no domain
-- event: bookkeeping) and, at most every 2 seconds per conversation, broadcasts
-- `conversation.user_activity` on the workspace topic.
create function api.conversation_heartbeat(p_conversation_id uuid, p_workspace_id uuid default null)
returns timestamptz
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  at timestamptz := now();
begin
  update halo.conversations set last_user_activity_at = at where id = conv.id;
  if conv.last_user_activity_at is null or conv.last_user_activity_at < at - interval '2 seconds' then
    perform realtime.send(
      jsonb_build_object('event', 'conversation.user_activity', 'workspace_id', conv.workspace_id,
                         'conversation_id', conv.id, 'last_user_activity_at', at),
      'conversation.user_activity', 'workspace:' || conv.workspace_id, true);
  end if;
  return at;
end
$$;
grant execute on function api.conversation_heartbeat(uuid, uuid) to service_role;
comment on function api.conversation_heartbeat(p_conversation_id uuid, p_workspace_id uuid) is
  'Records that the user of a conversation is active (last_user_activity_at, no domain event) and '
  'returns the time stored; at most every 2 seconds per conversation it broadcasts '
  'conversation.user_activity on the workspace topic. service_role only; raises P0002 when the '
  'conversation is not found.';

create function api.complete_conversation(
  p_conversation_id uuid,
  p_outcome halo.conversation_outcome default null,
  p_ai_score smallint default null,
  p_end_reason text default 'closed',
  p_workspace_id uuid default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
  result api.conversations;
begin
  if p_end_reason is null or p_end_reason not in ('closed', 'timed_out') then
    raise exception 'p_end_reason must be closed or timed_out, got %', p_end_reason using errcode = '22023';
  end if;
  if p_ai_score is not null and p_ai_score not between 0 and 100 then
    raise exception 'p_ai_score must be 0-100, got %', p_ai_score using errcode = '22023';
  end if;
  conv := halo.conversation_for_api(p_conversation_id, p_workspace_id, true);
  if conv.state = 'live' then
    update halo.conversations c
       set state = 'completed', ended_at = now(),
           outcome = coalesce(p_outcome, case
             when halo.conversation_ticket(c.id) is not null then 'escalated'
             when p_end_reason = 'timed_out' then 'abandoned'
             else 'resolved' end::halo.conversation_outcome),
           ai_score = coalesce(p_ai_score, c.ai_score),
           metadata = c.metadata || jsonb_build_object('end_reason', p_end_reason)
     where c.id = conv.id;
  end if;
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.complete_conversation(uuid, halo.conversation_outcome, smallint, text, uuid)
  to service_role;
comment on function api.complete_conversation(p_conversation_id uuid, p_outcome halo.conversation_outcome, p_ai_score smallint, p_end_reason text, p_workspace_id uuid) is
  'Ends a live conversation as completed and returns it; without p_outcome the outcome is '
  'escalated when it has a ticket, else abandoned when p_end_reason is timed_out and resolved '
  'when it is closed (the default), and p_ai_score is 0 to 100. A completed conversation is '
  'returned unchanged, so retries are safe. service_role only; raises 22023 for a bad end reason '
  'or score and P0002 when the conversation is not found.';

-- Identify: the anonymous visitor is the contact p_contact_id, or the one with p_external_id or
-- p_email (created when there is none). Re-links the visitor, its conversations, their tickets
-- and its messages to the contact; returns what moved.
create function api.identify_visitor(
  p_workspace_id uuid,
  p_anonymous_id text,
  p_contact_id uuid default null,
  p_email text default null,
  p_name text default null,
  p_external_id text default null
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  visitor halo.visitors;
  contact uuid := p_contact_id;
  company uuid;
  conversations integer;
  tickets integer;
  messages integer;
begin
  select * into visitor from halo.visitors
  where workspace_id = p_workspace_id and anonymous_id = p_anonymous_id for update;
  if visitor.id is null then
    raise exception 'no visitor % in this workspace', p_anonymous_id using errcode = 'P0002';
  end if;
  if contact is not null then
    if not exists (select 1 from halo.contacts where id = contact and workspace_id = p_workspace_id) then
      raise exception 'contact % does not exist in this workspace', contact using errcode = 'P0002';
    end if;
  elsif p_external_id is null and p_email is null then
    raise exception 'identify needs p_contact_id, p_external_id or p_email' using errcode = '22023';
  else
    select id into contact from halo.contacts
    where workspace_id = p_workspace_id
      and (external_id = p_external_id or lower(email) = lower(p_email))
    order by (external_id = p_external_id) desc nulls last
    limit 1;
    if contact is null then
      begin
        insert into halo.contacts (workspace_id, external_id, email, name)
        values (p_workspace_id, p_external_id, p_email, p_name)
        returning id into contact;
      exception when check_violation then
        raise exception 'p_email, p_name or p_external_id is not valid (an address, at most 300 and 200 characters)'
          using errcode = '22023';
      end;
    end if;
  end if;
  select company_id into company from halo.contacts where id = contact;

  update halo.visitors set contact_id = contact, last_seen_at = now() where id = visitor.id;
  update halo.conversations set contact_id = contact
   where visitor_id = visitor.id and contact_id is distinct from contact;
  get diagnostics conversations = row_count;
  update halo.tickets t set contact_id = contact, company_id = coalesce(t.company_id, company)
   where t.conversation_id in (select id from halo.conversations where visitor_id = visitor.id)
     and t.contact_id is null;
  get diagnostics tickets = row_count;
  update halo.messages set author_contact_id = contact
   where author_visitor_id = visitor.id and author_contact_id is null;
  get diagnostics messages = row_count;
  return jsonb_build_object('contact_id', contact, 'visitor_id', visitor.id,
    'conversations', conversations, 'tickets', tickets, 'messages', messages);
end
$$;
grant execute on function api.identify_visitor(uuid, text, uuid, text, text, text) to service_role;
comment on function api.identify_visitor(p_workspace_id uuid, p_anonymous_id text, p_contact_id uuid, p_email text, p_name text, p_external_id text) is
  'Identifies the anonymous visitor p_anonymous_id as a contact: p_contact_id, or the contact '
  'with p_external_id or p_email, created (with p_name) when there is none. Links the visitor, '
  'its conversations, their tickets without a contact and its messages to the contact, and '
  'returns {contact_id, visitor_id, conversations, tickets, messages} with the counts changed. '
  'service_role only; raises P0002 when the visitor or the given contact is not in the workspace '
  'and 22023 when no identifier is given or the new contact values are invalid.';

create function api.set_widget_open(
  p_conversation_id uuid, p_open boolean, p_workspace_id uuid default null
) returns setof api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
begin
  if p_open is null then
    raise exception 'p_open must be true (the widget opened) or false (it closed)' using errcode = '22023';
  end if;
  insert into halo.widget_states (conversation_id, workspace_id, open)
  values (conv.id, conv.workspace_id, p_open)
  on conflict (conversation_id) do update set open = excluded.open, changed_at = now();
  if not p_open and conv.state = 'live' then
    -- changed_at is now(): the job names this close, so a later reopen or close voids it.
    perform halo.enqueue_job('conversation.widget_closed',
      jsonb_build_object('conversation_id', conv.id, 'closed_at', now()),
      'widget-closed:' || conv.id || ':' || extract(epoch from now()), conv.workspace_id,
      now() + halo.widget_close_grace());
  end if;
  if p_open then
    return query
      with delivered as (
        update halo.queued_replies q
        set deliveries = q.deliveries + 1, last_delivered_at = now()
        where q.conversation_id = conv.id
        returning q.message_id, q.seq
      )
      select m.* from api.messages m join delivered d on d.message_id = m.id
      order by d.seq;
  end if;
end
$$;
grant execute on function api.set_widget_open(uuid, boolean, uuid) to service_role;
comment on function api.set_widget_open(p_conversation_id uuid, p_open boolean, p_workspace_id uuid) is
  'Records that the chat widget of a conversation opened (p_open true) or closed (false). Opening '
  'returns the teammate replies and handoff notices queued while it was closed, oldest first, and '
  'keeps them queued until acknowledged with api.acknowledge_widget_replies, so they may be '
  'returned again. Closing a live conversation enqueues a conversation.widget_closed job due '
  'after the grace period (60 s): the conversation completes once the widget has stayed closed '
  'with no message and no user activity for that long (api.complete_closed_conversation). '
  'service_role only; raises 22023 for a null p_open and P0002 when the conversation is not '
  'found.';

-- The conversation.widget_closed job's handler. While the conversation is live and its widget has
-- stayed closed since p_closed_at (not reopened or closed again), it completes the conversation
-- through api.complete_conversation (end reason closed) once nothing has happened for the grace
-- period: no message and no user activity. Something happened meanwhile: the job is enqueued again
-- for the grace period after it. Otherwise it returns the conversation unchanged, so a stale or
-- repeated job is harmless.
create function api.complete_closed_conversation(
  p_conversation_id uuid, p_closed_at timestamptz, p_workspace_id uuid default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
  quiet_since timestamptz;
  result api.conversations;
begin
  if p_closed_at is null then
    raise exception 'p_closed_at (when the widget closed) is required' using errcode = '22023';
  end if;
  conv := halo.conversation_for_api(p_conversation_id, p_workspace_id, true);
  if conv.state = 'live'
     and exists (select 1 from halo.widget_states w
                 where w.conversation_id = conv.id and not w.open and w.changed_at = p_closed_at) then
    quiet_since := greatest(p_closed_at, conv.last_user_activity_at,
                            (select max(m.created_at) from halo.messages m where m.conversation_id = conv.id));
    if quiet_since + halo.widget_close_grace() <= now() then
      return api.complete_conversation(conv.id, p_end_reason => 'closed');
    end if;
    perform halo.enqueue_job('conversation.widget_closed',
      jsonb_build_object('conversation_id', conv.id, 'closed_at', p_closed_at),
      'widget-closed:' || conv.id || ':' || extract(epoch from p_closed_at)
        || ':' || extract(epoch from quiet_since),
      conv.workspace_id, quiet_since + halo.widget_close_grace());
  end if;
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.complete_closed_conversation(uuid, timestamptz, uuid) to service_role;
comment on function api.complete_closed_conversation(p_conversation_id uuid, p_closed_at timestamp with time zone, p_workspace_id uuid) is
  'Completes a live conversation whose chat widget closed at p_closed_at and has stayed closed, '
  'once no message and no user activity happened for the grace period (60 s): end reason '
  'closed, so outcome escalated when it has a ticket, else resolved. When something happened '
  'within the grace period, the check is enqueued again for the grace period after it; when the '
  'widget reopened or closed again, or the conversation ended, it is returned unchanged. Called '
  'by the conversation.widget_closed job. service_role only; raises 22023 for a missing '
  'p_closed_at and P0002 when the conversation is not found.';

-- The runtime has shown these replies to the customer: they leave the queue. Ids that are not
-- queued for this conversation (already acknowledged, another conversation's) are ignored, so a
-- retried acknowledgement is harmless. Returns how many left the queue.
create function api.acknowledge_widget_replies(
  p_conversation_id uuid, p_message_ids uuid[], p_workspace_id uuid default null
) returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  acknowledged integer;
begin
  if p_message_ids is null then
    raise exception 'p_message_ids is required: the ids of the delivered replies the customer has seen'
      using errcode = '22023';
  end if;
  if cardinality(p_message_ids) > 1000 then
    raise exception 'p_message_ids holds % ids; acknowledge at most 1000 at a time',
      cardinality(p_message_ids) using errcode = '22023';
  end if;
  delete from halo.queued_replies q
  where q.conversation_id = conv.id and q.message_id = any (p_message_ids);
  get diagnostics acknowledged = row_count;
  return acknowledged;
end
$$;
grant execute on function api.acknowledge_widget_replies(uuid, uuid[], uuid) to service_role;
comment on function api.acknowledge_widget_replies(p_conversation_id uuid, p_message_ids uuid[], p_workspace_id uuid) is
  'Removes replies the widget has shown (p_message_ids, at most 1000) from the queue of a '
  'conversation and returns how many were removed; ids that are not queued are ignored, so a '
  'retry is harmless. service_role only; raises 22023 for a missing or oversized id list and '
  'P0002 when the conversation is not found.';

create function api.conversation_updates(
  p_conversation_id uuid,
  p_after_seq bigint default 0,
  p_limit integer default 100,
  p_workspace_id uuid default null
) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  updates jsonb;
  last_seq bigint;
  read integer;
begin
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000, got %', coalesce(p_limit::text, 'null')
      using errcode = '22023';
  end if;
  if p_after_seq is null or p_after_seq < 0 then
    raise exception 'p_after_seq must be 0 or more (the last seq you received), got %',
      coalesce(p_after_seq::text, 'null') using errcode = '22023';
  end if;
  with page as (
    select e.seq, e.name, e.data, e.created_at
    from halo.events e
    where e.conversation_id = conv.id and e.workspace_id = conv.workspace_id
      and e.seq > p_after_seq
    order by e.seq
    limit p_limit
  ), shown as (
    select p.seq,
           jsonb_build_object('seq', p.seq, 'event', p.name, 'created_at', p.created_at,
                              'data', p.data)
             || case when m.id is null then '{}'::jsonb
                     else jsonb_build_object('message', to_jsonb(m)) end as item
    from page p
    left join api.messages m
      on p.name = 'message.created' and m.id = (p.data ->> 'message_id')::uuid
    where p.name like 'conversation.%'
       or (m.id is not null
           and (m.direction <> 'internal'
                or (m.kind = 'system' and m.activity ->> 'action' = 'teammate_joined')))
  )
  select coalesce((select jsonb_agg(s.item order by s.seq) from shown s), '[]'::jsonb),
         (select max(p.seq) from page p),
         (select count(*) from page p)
  into updates, last_seq, read;
  -- `more`: the page was full, so ask again at once with `after_seq`.
  return jsonb_build_object('events', updates, 'after_seq', coalesce(last_seq, p_after_seq),
                            'more', read = p_limit);
end
$$;
grant execute on function api.conversation_updates(uuid, bigint, integer, uuid) to service_role;
comment on function api.conversation_updates(p_conversation_id uuid, p_after_seq bigint, p_limit integer, p_workspace_id uuid) is
  'Returns what happened in a conversation after event seq p_after_seq, for AI runtimes without '
  'Realtime, as {events, after_seq, more}: the conversation.* events and message.created for '
  'messages the customer sees (customer, AI and teammate messages and the joined notice), each '
  'with the message embedded. Pass after_seq to the next call, and call again at once while more '
  'is true; p_limit is 1 to 1000. service_role only; raises 22023 for a bad p_limit or '
  'p_after_seq and P0002 when the conversation is not found.';

-- grants ------------------------------------------------------------------------------------------

grant select on halo.ai_replies to authenticated;

grant all on halo.ai_replies to service_role;

grant select on api.ai_replies to authenticated, service_role;

grant select on halo.widget_states to authenticated;

grant select on halo.queued_replies to authenticated;

grant all on halo.widget_states to service_role;

grant all on halo.queued_replies to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
