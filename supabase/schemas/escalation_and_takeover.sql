-- Escalation and takeover: how a live conversation becomes a ticket, and who answers it.
--
-- The escalation worker reads api.escalation_context, decides (halo_supabase/ai/escalation.py) and
-- calls api.escalate_conversation; a customer may ask for a human (api.request_human); a teammate
-- takes over (api.take_over) and hands back (api.pass_back_to_ai). All of them open the
-- conversation's ticket through halo.open_conversation_ticket, once, with the transcript, the
-- contact and company, the tools the AI tried and the reason. From then on the conversation and
-- the ticket are one thread. Every change of `ai_paused`, whoever makes it, emits
-- conversation.paused or conversation.resumed: the AI runtime's signal to stop or resume.
-- Taking over and passing back need their owner's rights, so their bodies live in halo and the
-- api functions are security invoker wrappers.

-- triggers ----------------------------------------------------------------------------------------

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

-- helpers -----------------------------------------------------------------------------------------

-- The first ticket linked to a conversation, followed through merges; null when there is none.
create function halo.conversation_ticket(p_conversation_id uuid) returns uuid
language sql stable
security definer
set search_path = ''
as $$
  select halo.ticket_after_merges(t.id)
  from halo.tickets t
  where t.conversation_id = p_conversation_id
  order by t.created_at, t.id
  limit 1
$$;
grant execute on function halo.conversation_ticket(uuid) to service_role;

-- Opens the ticket of a conversation, or returns the one it already has (created = false then);
-- the one place that does so, for escalations and takeovers alike. The conversation row stays
-- locked until the caller's transaction ends, so two callers at once get one ticket.
--   p_opened_by  'escalation' (source ai_escalation) or 'takeover' (source takeover)
--   p_status     'open', 'priority' (high priority) or 'in_progress'
--   p_reason     why, in words (the ticket's escalation_reason); p_reason_code the stable code
-- The new ticket links the transcript (every message of the conversation but whispers), takes the
-- conversation's contact and the contact's company, the last AI confidence, and keeps in
-- metadata the conversation (id, session, mode, agent, mood), the escalation (by, code, tools the
-- AI tried, AI turns) and a snapshot of the contact's and company's traits.
create function halo.open_conversation_ticket(
  p_conversation_id uuid,
  p_opened_by text,
  p_status text default 'open',
  p_assignee_id uuid default null,
  p_reason text default null,
  p_reason_code text default null,
  out ticket_id uuid,
  out created boolean
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  conv halo.conversations;
  contact halo.contacts;
  company halo.companies;
  tools jsonb;
  turns integer;
  last_confidence smallint;
  first_words text;
  last_customer_at timestamptz;
  context jsonb;
begin
  if p_opened_by is null or p_opened_by not in ('escalation', 'takeover') then
    raise exception 'p_opened_by must be escalation or takeover, got %', p_opened_by using errcode = '22023';
  end if;
  if p_status is null or p_status not in ('open', 'priority', 'in_progress') then
    raise exception 'a conversation''s ticket opens as open, priority or in_progress, got %', p_status
      using errcode = '22023';
  end if;
  select * into conv from halo.conversations where id = p_conversation_id for update;
  if conv.id is null then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  ticket_id := halo.conversation_ticket(p_conversation_id);
  if ticket_id is not null then
    -- Messages written before the link existed (imported history) join it now.
    update halo.messages m set ticket_id = open_conversation_ticket.ticket_id
     where m.conversation_id = p_conversation_id and m.ticket_id is null and m.kind <> 'whisper';
    created := false;
    return;
  end if;

  select * into contact from halo.contacts where id = conv.contact_id;
  select * into company from halo.companies where id = contact.company_id;
  select coalesce(jsonb_agg(distinct coalesce(call ->> 'name', call #>> '{}')), '[]'),
         count(distinct r.message_id)
    into tools, turns
  from halo.ai_replies r
  left join lateral jsonb_array_elements(r.tool_calls) call on true
  where r.conversation_id = p_conversation_id;
  select r.confidence into last_confidence from halo.ai_replies r
  where r.conversation_id = p_conversation_id and r.confidence is not null
  order by r.created_at desc limit 1;
  select m.body_text into first_words from halo.messages m
  where m.conversation_id = p_conversation_id and m.author_kind = 'customer'
  order by m.created_at limit 1;
  select max(m.created_at) into last_customer_at from halo.messages m
  where m.conversation_id = p_conversation_id and m.author_kind = 'customer';

  -- Traits are free-form; a snapshot too large for the ticket's metadata is left to the contact.
  context := jsonb_strip_nulls(jsonb_build_object(
    'contact', case when contact.id is not null then jsonb_build_object(
      'id', contact.id, 'name', contact.name, 'traits', contact.traits,
      'custom_fields', contact.custom_fields) end,
    'company', case when company.id is not null then jsonb_build_object(
      'id', company.id, 'name', company.name, 'plan', company.plan, 'industry', company.industry,
      'traits', company.traits) end));
  if octet_length(context::text) > 30000 then
    context := jsonb_build_object('truncated', true);
  end if;

  insert into halo.tickets (
    workspace_id, subject, status_category, priority, source, channel, contact_id, company_id,
    conversation_id, assignee_id, metadata, ai_confidence, escalation_reason, auto_created,
    ai_paused, last_customer_message_at, waiting_since)
  values (
    conv.workspace_id,
    left(coalesce(nullif(btrim(conv.topic), ''), nullif(btrim(regexp_replace(first_words, '\s+', ' ', 'g')), ''),
                  'Conversation ' || conv.session_id), 200),
    case when p_status = 'in_progress' then 'in_progress' else 'open' end::halo.ticket_status_category,
    case when p_status = 'priority' then 'high' else 'normal' end::halo.ticket_priority,
    case when p_opened_by = 'escalation' then 'ai_escalation' else 'takeover' end,
    case conv.mode when 'voice' then 'voice' when 'video' then 'video' else 'chat' end::halo.channel,
    contact.id, company.id, conv.id, p_assignee_id,
    jsonb_build_object(
      'conversation', jsonb_strip_nulls(jsonb_build_object(
        'id', conv.id, 'session_id', conv.session_id, 'mode', conv.mode,
        'ai_agent_id', conv.ai_agent_id, 'visitor_id', conv.visitor_id, 'state', conv.state,
        'mood', conv.mood, 'sentiment', conv.sentiment, 'started_at', conv.started_at)),
      'escalation', jsonb_strip_nulls(jsonb_build_object(
        'opened_by', p_opened_by, 'reason_code', p_reason_code, 'tools_tried', tools,
        'ai_turns', turns))
    ) || context,
    last_confidence, left(p_reason, 2000), p_opened_by = 'escalation',
    p_opened_by = 'takeover', last_customer_at,
    case when p_status <> 'in_progress' then last_customer_at end)
  returning id into ticket_id;

  update halo.messages m set ticket_id = open_conversation_ticket.ticket_id
   where m.conversation_id = p_conversation_id and m.ticket_id is null and m.kind <> 'whisper';
  created := true;
end
$$;
grant execute on function halo.open_conversation_ticket(uuid, text, text, uuid, text, text) to service_role;

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
  if conv.id is null or not halo.has_inbox_permission(conv.workspace_id, 'view') then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(conv.workspace_id, 'reply') then
    raise exception '% needs Inbox: Reply permission', p_action using errcode = '42501';
  end if;
  return conv;
end
$$;

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

-- api ---------------------------------------------------------------------------------------------

-- Pause the AI on a ticket, or pass it back to the AI (Inbox: Reply, as for conversations). The
-- linked live conversation follows; ticket.ai_paused / ticket.ai_resumed tell the AI runtime.
create function halo.set_ticket_ai_paused(p_ticket_id uuid, p_paused boolean) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  ticket halo.tickets;
  result api.tickets;
begin
  if p_paused is null then
    raise exception 'p_paused must be true (pause) or false (pass back to AI)' using errcode = '22023';
  end if;
  select * into ticket from halo.tickets where id = p_ticket_id for update;
  if ticket.id is null or not halo.has_inbox_permission(ticket.workspace_id, 'view') then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(ticket.workspace_id, 'reply') then
    raise exception 'pausing the AI needs Inbox: Reply permission' using errcode = '42501';
  end if;
  if ticket.ai_paused <> p_paused then
    update halo.tickets set ai_paused = p_paused where id = p_ticket_id;
    update halo.conversations set ai_paused = p_paused
     where id = ticket.conversation_id and ai_paused <> p_paused;
    perform halo.emit_event(ticket.workspace_id,
      case when p_paused then 'ticket.ai_paused' else 'ticket.ai_resumed' end,
      p_ticket_id, ticket.conversation_id, jsonb_build_object('ai_paused', p_paused));
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function halo.set_ticket_ai_paused(uuid, boolean) to authenticated, service_role;

-- The API face of halo.set_ticket_ai_paused: it runs as the caller; only the private body holds definer rights.
create function api.set_ticket_ai_paused(p_ticket_id uuid, p_paused boolean) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.set_ticket_ai_paused(p_ticket_id, p_paused)
$$;
grant execute on function api.set_ticket_ai_paused(uuid, boolean) to authenticated, service_role;
comment on function api.set_ticket_ai_paused(p_ticket_id uuid, p_paused boolean) is
  'Pauses the AI on a ticket (p_paused true) or passes it back to the AI (false); the linked '
  'conversation follows, and ticket.ai_paused or ticket.ai_resumed is emitted when the flag '
  'changes. Returns the ticket. Callable by members with Inbox permission reply and by '
  'service_role; raises 22023 for a null p_paused, P0002 when the ticket is not visible, and '
  '42501 when not allowed.';

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
comment on function api.request_human(p_conversation_id uuid, p_workspace_id uuid) is
  'The widget talk-to-a-human button: enqueues the conversation.escalate job with human_requested '
  'for the escalation worker and returns the job id. There is one such job per conversation: a '
  'repeated request returns the same job id. service_role only; raises P0002 when the '
  'conversation is not found and PT409 when it is completed.';

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
comment on function api.escalation_context(p_conversation_id uuid, p_message_id uuid) is
  'Returns what the escalation worker decides on as JSON: agent type and escalation settings, the '
  'AI reply p_message_id (or the latest) with its confidence, tool calls and any escalate reason, '
  'the customer message before it, the AI turns so far, whether knowledge and web search were '
  'used, and the contact traits (with the company). Returns null when there is nothing to decide: '
  'the conversation is completed, paused, has no agent or already has a ticket. service_role '
  'only; raises P0002 when the conversation does not exist.';

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
comment on function api.escalate_conversation(p_conversation_id uuid, p_reason text, p_reason_code text, p_priority boolean, p_workspace_id uuid) is
  'The escalation outcome: opens the conversation ticket (open, or priority with p_priority) '
  'carrying the transcript, contact and company, tools the AI tried and the reason p_reason '
  '(p_reason_code is the stable code), then completes the conversation as escalated with its AI '
  'paused, and returns the ticket. Idempotent: when the conversation already has a ticket, that '
  'ticket is returned and nothing changes. service_role only; raises 22023 for an empty p_reason '
  'and P0002 when the conversation is not found.';

-- The escalation worker's decision on each AI turn, escalated or not, with its reason code, kept
-- on the conversation so a teammate watching the Live Feed sees why (the update emits
-- conversation.signal with the three columns). Jobs may finish out of order: the decision on an
-- AI message (p_message_id) older than the conversation's latest AI message changes nothing.
create function api.record_escalation_decision(
  p_conversation_id uuid,
  p_escalated boolean,
  p_reason text,
  p_message_id uuid default null,
  p_workspace_id uuid default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id, true);
  result api.conversations;
begin
  if p_escalated is null then
    raise exception 'p_escalated (whether the turn escalated) is required' using errcode = '22023';
  end if;
  if p_reason is null or p_reason !~ '^[a-z_]{1,50}$' then
    raise exception 'p_reason must be a reason code of 1-50 lower-case letters or _, got %', p_reason
      using errcode = '22023';
  end if;
  update halo.conversations
     set escalation_decision = case when p_escalated then 'escalated' else 'not_escalated' end,
         escalation_reason = p_reason,
         escalation_decided_at = now()
   where id = conv.id
     and not exists (select 1 from halo.messages decided, halo.messages later
                     where decided.id = p_message_id and later.conversation_id = conv.id
                       and later.author_kind = 'ai_agent' and later.created_at > decided.created_at);
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.record_escalation_decision(uuid, boolean, text, uuid, uuid) to service_role;
comment on function api.record_escalation_decision(p_conversation_id uuid, p_escalated boolean, p_reason text, p_message_id uuid, p_workspace_id uuid) is
  'Records the escalation worker''s decision on the last AI turn on the conversation and returns '
  'it: escalation_decision escalated or not_escalated, escalation_reason the decision''s reason '
  'code (for example low_confidence, attempts_not_reached, knowledge_search_required), '
  'escalation_decided_at now; the change is broadcast as conversation.signal. A decision on AI '
  'message p_message_id changes nothing once a later AI message exists. service_role only; '
  'raises 22023 for a missing p_escalated or a bad reason code and P0002 when the conversation '
  'is not found.';

-- Takeover (Inbox: Reply): pauses the AI, opens the conversation's ticket In Progress assigned to
-- the caller (or takes the existing one), and posts the handoff notice the customer sees
-- ("<name> from <team> joined"). Works on completed conversations too (the ticket then carries
-- the transcript). Taking over again is a no-op for the same teammate; while another teammate
-- holds it (AI paused, ticket theirs) it is refused with PT409.
create function halo.take_over(p_conversation_id uuid) returns api.tickets
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
grant execute on function halo.take_over(uuid) to authenticated;

-- The API face of halo.take_over: it runs as the caller; only the private body holds definer rights.
create function api.take_over(p_conversation_id uuid) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.take_over(p_conversation_id)
$$;
grant execute on function api.take_over(uuid) to authenticated;
comment on function api.take_over(p_conversation_id uuid) is
  'A signed-in teammate takes over a conversation: pauses the AI, opens the conversation ticket '
  'as in_progress assigned to the caller (or moves the existing ticket to in_progress and assigns '
  'it to the caller, reopening it when resolved), and posts the handoff notice the customer sees. '
  'Taking over again as the same teammate is a no-op; works on completed conversations too. Needs '
  'Inbox permission reply (authenticated only); raises 42501 when not allowed, P0002 when the '
  'conversation is not visible, and PT409 when another teammate holds it or its ticket is spam.';

-- Pass back to AI (Inbox: Reply): the AI answers again on a live conversation; its ticket stays as
-- it is. Emits conversation.resumed (reason pass_back). Passing back an unpaused conversation
-- changes nothing.
create function halo.pass_back_to_ai(p_conversation_id uuid) returns api.conversations
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
grant execute on function halo.pass_back_to_ai(uuid) to authenticated, service_role;

-- The API face of halo.pass_back_to_ai: it runs as the caller; only the private body holds definer rights.
create function api.pass_back_to_ai(p_conversation_id uuid) returns api.conversations
language sql
security invoker
set search_path = ''
as $$
  select * from halo.pass_back_to_ai(p_conversation_id)
$$;
grant execute on function api.pass_back_to_ai(uuid) to authenticated, service_role;
comment on function api.pass_back_to_ai(p_conversation_id uuid) is
  'Hands a paused conversation back to the AI: clears ai_paused on the conversation and its '
  'tickets and emits conversation.resumed (reason pass_back); the ticket otherwise stays as it '
  'is, and an unpaused conversation is returned unchanged. Callable by members with Inbox '
  'permission reply and by service_role; raises P0002 when the conversation is not visible, 42501 '
  'when not allowed, and PT409 when the conversation is completed.';

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
