-- The conversation API for the AI runtime (service_role, and the `conversations` edge function
-- with a workspace API key), escalations, takeover and pass back (issue 8, part A).
--
-- The AI runtime records a session: start, messages (user, AI with confidence and tool calls,
-- teammate, system), user-activity heartbeats, the widget opening and closing, identify, end.
-- Every AI message of a live, unpaused conversation without a ticket enqueues one
-- `conversation.escalate` job in the same transaction (nothing when the agent is internal or its
-- escalation mode is off); the escalation worker decides and calls api.escalate_conversation.
-- A teammate takes over with api.take_over and hands back with api.pass_back_to_ai; every change
-- of `ai_paused`, whoever makes it, emits `conversation.paused` or `conversation.resumed` on the
-- conversation's topic: the AI runtime's signal to stop or resume answering.
--
-- Teammate replies and the handoff notice reach the widget as message.created on the
-- conversation's topic while the widget is open; while it is closed they are queued in
-- halo.queued_replies and returned (once) by api.set_widget_open(..., true) when it opens again.
--
-- Every RPC here takes an optional p_workspace_id: the edge function passes the API key's
-- workspace, so a conversation of another workspace is "not found", exactly like a missing one.
-- Errors: 22023 bad argument (named), P0002 unknown conversation/visitor, PT409 (HTTP 409) the
-- conversation's state forbids it (AI paused, completed, taken over by someone else), 42501.

-- tables ------------------------------------------------------------------------------------------

create table halo.widget_states (
  conversation_id uuid primary key references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  open boolean not null,
  changed_at timestamptz not null default now()
);
create index widget_states_workspace_id_idx on halo.widget_states (workspace_id);

create table halo.queued_replies (
  -- Delivery order: the order the replies were written (created_at ties within a transaction).
  seq bigint generated always as identity,
  message_id uuid primary key references halo.messages (id) on delete cascade,
  conversation_id uuid not null references halo.conversations (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  queued_at timestamptz not null default now()
);
create index queued_replies_conversation_idx on halo.queued_replies (conversation_id, seq);
create index queued_replies_workspace_id_idx on halo.queued_replies (workspace_id);

-- triggers ----------------------------------------------------------------------------------------

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

-- The AI runtime's signal. `halo.pause_reason` (transaction-local) says why when the change comes
-- from a takeover, a pass back or an escalation; otherwise a teammate paused it by hand.
create function halo.conversation_pause_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.emit_event(new.workspace_id,
    case when new.ai_paused then 'conversation.paused' else 'conversation.resumed' end,
    halo.conversation_ticket(new.id), new.id,
    jsonb_build_object('ai_paused', new.ai_paused,
                       'reason', coalesce(nullif(current_setting('halo.pause_reason', true), ''), 'manual')));
  return null;
end
$$;

create trigger conversations_pause_signal
  after update of ai_paused on halo.conversations
  for each row when (old.ai_paused is distinct from new.ai_paused)
  execute function halo.conversation_pause_changed();

-- enable RLS --------------------------------------------------------------------------------------

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

-- The conversation a teammate acts on (take over, pass back), locked: "not found" without Inbox:
-- View in its workspace, 42501 without Inbox: Reply. The service role (no user) passes.
create function halo.conversation_for_teammate(p_conversation_id uuid, p_action text)
returns halo.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
begin
  select * into conv from halo.conversations where id = p_conversation_id for update;
  if conv.id is null or (auth.uid() is not null
                         and conv.workspace_id not in (select halo.inbox_workspaces('view'))) then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  if auth.uid() is not null and conv.workspace_id not in (select halo.inbox_workspaces('reply')) then
    raise exception '% needs Inbox: Reply permission', p_action using errcode = '42501';
  end if;
  return conv;
end
$$;

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

-- Whether an AI reply of this conversation needs the escalation worker at all.
create function halo.escalation_possible(p_conversation halo.conversations) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select p_conversation.state = 'live' and not p_conversation.ai_paused
     and halo.conversation_ticket(p_conversation.id) is null
     and exists (select 1 from halo.ai_agents a
                 join halo.escalation_settings s on s.ai_agent_id = a.id
                 where a.id = p_conversation.ai_agent_id
                   and a.type <> 'internal' and s.mode <> 'off')
$$;
grant execute on function halo.escalation_possible(halo.conversations) to service_role;

-- API objects -------------------------------------------------------------------------------------

-- Starts (or, with a known session_id, returns) a live conversation. p_anonymous_id names the
-- widget's anonymous visitor (found or created) when p_visitor_id is not given.
drop function api.start_conversation(uuid, text, halo.conversation_mode, uuid, uuid, uuid, jsonb);
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

-- The widget's "talk to a human" button: the escalation worker decides (it escalates in every
-- mode but for internal agents). Returns the job's id.
create function api.request_human(p_conversation_id uuid, p_workspace_id uuid default null)
returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
begin
  if conv.state <> 'live' then
    raise exception 'conversation % is completed', p_conversation_id using errcode = 'PT409';
  end if;
  return halo.enqueue_job('conversation.escalate',
    jsonb_build_object('conversation_id', conv.id, 'human_requested', true),
    'human:' || conv.id, conv.workspace_id);
end
$$;
grant execute on function api.request_human(uuid, uuid) to service_role;

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

-- Ends a live conversation: Completed with an outcome. Without p_outcome it follows from how it
-- ended: escalated when it has a ticket, else resolved when closed and abandoned when timed out.
-- Ending a completed conversation returns it unchanged (the runtime may retry).
drop function api.complete_conversation(uuid, halo.conversation_outcome, smallint);
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

-- The widget opened or closed. Opening returns the replies queued while it was closed, oldest
-- first, and forgets them: they are delivered once, to this call's caller.
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
  if p_open then
    return query
      with delivered as (
        delete from halo.queued_replies q where q.conversation_id = conv.id
        returning q.message_id, q.seq
      )
      select m.* from api.messages m join delivered d on d.message_id = m.id
      order by d.seq;
  end if;
end
$$;
grant execute on function api.set_widget_open(uuid, boolean, uuid) to service_role;

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

-- What the escalation worker decides on: the agent's settings and type, the AI reply (p_message_id,
-- or the latest one) with its confidence and tool calls, the customer's message before it, the
-- gates (AI turns, knowledge and web search so far) and the contact's traits (custom fields,
-- email, name, and the company under `company`). Null when there is nothing to decide any more:
-- the conversation is completed, paused, already has a ticket, or has no agent.
create function api.escalation_context(p_conversation_id uuid, p_message_id uuid default null)
returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, null);
  reply record;
  used text[];
  result jsonb;
begin
  if conv.state <> 'live' or conv.ai_paused or conv.ai_agent_id is null
     or halo.conversation_ticket(conv.id) is not null then
    return null;
  end if;
  -- The tools the AI called so far in the conversation (knowledge and web search are gates).
  select coalesce(array_agg(distinct call ->> 'name'), '{}') into used
  from halo.ai_replies r, jsonb_array_elements(r.tool_calls) call
  where r.conversation_id = conv.id;
  select m.id, m.body_text, m.created_at, r.confidence, r.tool_calls into reply
  from halo.ai_replies r join halo.messages m on m.id = r.message_id
  where r.conversation_id = conv.id and (p_message_id is null or r.message_id = p_message_id)
  order by r.created_at desc
  limit 1;
  select jsonb_build_object(
    'conversation_id', conv.id,
    'agent_type', a.type,
    'settings', to_jsonb(s) - 'ai_agent_id' - 'workspace_id' - 'updated_at',
    'message_id', reply.id,
    'reply', coalesce(reply.body_text, ''),
    'confidence', reply.confidence,
    'tool_calls', coalesce((select jsonb_agg(call ->> 'name')
                            from jsonb_array_elements(reply.tool_calls) call), '[]'),
    'escalate_reason', (select call #>> '{arguments,reason}'
                        from jsonb_array_elements(reply.tool_calls) call
                        where call ->> 'name' = 'escalate' limit 1),
    'customer_message', (select m.body_text from halo.messages m
                         where m.conversation_id = conv.id and m.author_kind = 'customer'
                           and (reply.created_at is null or m.created_at <= reply.created_at)
                         order by m.created_at desc limit 1),
    'ai_turns', (select count(*) from halo.ai_replies r
                 where r.conversation_id = conv.id
                   and (reply.created_at is null or r.created_at <= reply.created_at)),
    'knowledge_searched', 'knowledge_search' = any (used),
    'web_searched', 'web_search' = any (used),
    'contact_traits', coalesce(ct.traits, '{}') || coalesce(ct.custom_fields, '{}')
      || jsonb_strip_nulls(jsonb_build_object('email', ct.email, 'name', ct.name,
           'company', case when co.id is not null then
             co.traits || co.custom_fields || jsonb_strip_nulls(jsonb_build_object(
               'name', co.name, 'plan', co.plan, 'industry', co.industry, 'domain', co.domain)) end)))
  into result
  from halo.ai_agents a
  join halo.escalation_settings s on s.ai_agent_id = a.id
  left join halo.contacts ct on ct.id = conv.contact_id
  left join halo.companies co on co.id = ct.company_id
  where a.id = conv.ai_agent_id;
  return result;
end
$$;
grant execute on function api.escalation_context(uuid, uuid) to service_role;

-- The escalation worker's outcome: the conversation's ticket (Open, or Priority with p_priority),
-- the conversation completed as Escalated with its AI paused. Idempotent: a second call returns
-- the same ticket and changes nothing.
create function api.escalate_conversation(
  p_conversation_id uuid,
  p_reason text,
  p_reason_code text default null,
  p_priority boolean default false,
  p_workspace_id uuid default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id, true);
  opened record;
  result api.tickets;
begin
  if p_reason is null or btrim(p_reason) = '' then
    raise exception 'an escalation needs p_reason' using errcode = '22023';
  end if;
  select * into opened from halo.open_conversation_ticket(conv.id, 'escalation',
    case when coalesce(p_priority, false) then 'priority' else 'open' end, null, p_reason, p_reason_code);
  if opened.created then
    perform set_config('halo.pause_reason', 'escalation', true);
    update halo.conversations
       set ai_paused = true,
           state = 'completed', ended_at = coalesce(ended_at, now()),
           outcome = 'escalated'
     where id = conv.id;
  end if;
  select * into result from api.tickets where id = opened.ticket_id;
  return result;
end
$$;
grant execute on function api.escalate_conversation(uuid, text, text, boolean, uuid) to service_role;

-- Takeover (Inbox: Reply): pauses the AI, opens the conversation's ticket In Progress assigned to
-- the caller (or takes the existing one), and posts the handoff notice the customer sees
-- ("<name> from <team> joined"). Works on completed conversations too (the ticket then carries
-- the transcript). Taking over again is a no-op for the same teammate; while another teammate
-- holds it (AI paused, ticket theirs) it is refused with PT409.
create function api.take_over(p_conversation_id uuid) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  conv halo.conversations;
  ticket halo.tickets;
  opened record;
  member halo.members;
  team text;
  notice uuid;
  result api.tickets;
begin
  if me is null then
    raise exception 'taking over needs a signed-in teammate' using errcode = '42501';
  end if;
  conv := halo.conversation_for_teammate(p_conversation_id, 'taking over');
  select * into ticket from halo.tickets where id = halo.conversation_ticket(conv.id) for update;
  if ticket.id is not null and conv.ai_paused and ticket.assignee_id is not null then
    if ticket.assignee_id <> me then
      raise exception 'conversation % is already taken over by %', p_conversation_id,
        coalesce((select display_name from halo.members
                  where workspace_id = conv.workspace_id and user_id = ticket.assignee_id), 'a teammate')
        using errcode = 'PT409', hint = 'Ask them to pass it back, or reassign the ticket.';
    elsif ticket.status_category = 'in_progress' then
      select * into result from api.tickets where id = ticket.id;
      return result;
    end if;
  end if;
  if ticket.status_category = 'spam' then
    raise exception 'ticket #% of this conversation is spam; mark it not spam first', ticket.number
      using errcode = 'PT409';
  end if;

  select * into opened from halo.open_conversation_ticket(conv.id, 'takeover', 'in_progress', me,
                                                         'Taken over by a teammate', 'takeover');
  if not opened.created then
    if ticket.status_category = 'resolved' then
      update halo.tickets set status_category = 'open' where id = ticket.id;
    end if;
    update halo.tickets set status_category = 'in_progress', assignee_id = me, ai_paused = true
     where id = opened.ticket_id;
  end if;
  perform set_config('halo.pause_reason', 'takeover', true);
  update halo.conversations set ai_paused = true where id = conv.id and not ai_paused;

  select * into member from halo.members where workspace_id = conv.workspace_id and user_id = me;
  select name into team from halo.workspaces where id = conv.workspace_id;
  insert into halo.messages (conversation_id, ticket_id, kind, direction, author_kind, author_user_id,
                             body_text, activity)
  values (conv.id, opened.ticket_id, 'system', 'internal', 'system', me,
          member.display_name || ' from ' || team || ' joined',
          jsonb_build_object('action', 'teammate_joined', 'user_id', me,
                             'name', member.display_name, 'team', team))
  returning id into notice;
  perform halo.emit_event(conv.workspace_id, 'message.created', opened.ticket_id, conv.id,
    jsonb_build_object('message_id', notice, 'kind', 'system', 'author_kind', 'system'));
  select * into result from api.tickets where id = opened.ticket_id;
  return result;
end
$$;
grant execute on function api.take_over(uuid) to authenticated;

-- Pass back to AI (Inbox: Reply): the AI answers again on a live conversation; its ticket stays as
-- it is. Emits conversation.resumed (reason pass_back). Passing back an unpaused conversation
-- changes nothing.
create function api.pass_back_to_ai(p_conversation_id uuid) returns api.conversations
language plpgsql
security definer
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_teammate(p_conversation_id, 'passing back to the AI');
  result api.conversations;
begin
  if conv.ai_paused then
    if conv.state <> 'live' then
      raise exception 'conversation % is completed; the AI cannot take it back', p_conversation_id
        using errcode = 'PT409';
    end if;
    perform set_config('halo.pause_reason', 'pass_back', true);
    update halo.conversations set ai_paused = false where id = conv.id;
    update halo.tickets set ai_paused = false where conversation_id = conv.id and ai_paused;
  end if;
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.pass_back_to_ai(uuid) to authenticated, service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read widget states" on halo.widget_states
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members with inbox access can read queued replies" on halo.queued_replies
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- grants ------------------------------------------------------------------------------------------

grant select on halo.widget_states, halo.queued_replies to authenticated;
grant all on halo.widget_states, halo.queued_replies to service_role;

-- PUBLIC may execute every new function by default, and the per-schema default privileges of the
-- first migration cannot take a global default away; so each migration takes it back itself and
-- grants execute function by function (above). The catalog lint checks that none is left.
revoke execute on all functions in schema halo, api from public;
