-- Issue 14, item 14: why an escalation did or did not happen is kept on the conversation
-- (escalation_decision, escalation_reason, escalation_decided_at), written by the escalation
-- worker through api.record_escalation_decision, shown in api.conversations and
-- api.conversation_feed, and broadcast in conversation.signal.

alter table halo.conversations
  add column escalation_decision text check (escalation_decision in ('escalated', 'not_escalated')),
  add column escalation_reason text check (escalation_reason ~ '^[a-z_]{1,50}$'),
  add column escalation_decided_at timestamptz;

create or replace function halo.conversation_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed text[];
  event_name text;
begin
  if tg_op = 'INSERT' then
    perform halo.emit_event(new.workspace_id, 'conversation.started', null, new.id,
                            jsonb_build_object('mode', new.mode));
    return null;
  end if;
  select coalesce(array_agg(key order by key), '{}') into changed
  from jsonb_each(to_jsonb(new)) n
  join jsonb_each(to_jsonb(old)) o using (key)
  where n.value is distinct from o.value
    and key not in ('last_user_activity_at', 'sentiment_state', 'signal_at');
  if cardinality(changed) = 0 then
    return null;
  end if;
  event_name := case
    when new.state <> old.state then 'conversation.completed'
    when 'ai_paused' = any (changed) then 'conversation.ai_paused_changed'
    else 'conversation.signal'
  end;
  perform halo.emit_event(new.workspace_id, event_name, null, new.id,
    jsonb_strip_nulls(jsonb_build_object(
      'changed', to_jsonb(changed), 'mood', new.mood, 'ai_confidence', new.ai_confidence,
      'outcome', new.outcome, 'sentiment', new.sentiment, 'topic', new.topic,
      'ai_score', new.ai_score, 'scored_message_id', new.scored_message_id,
      'escalation_decision', new.escalation_decision, 'escalation_reason', new.escalation_reason,
      'escalation_decided_at', new.escalation_decided_at)));
  return null;
end
$$;

create or replace view api.conversations with (security_invoker = true) as
  select id, workspace_id, session_id, mode, ai_agent_id, contact_id, visitor_id, state, topic,
         sentiment, mood, ai_confidence, outcome, ai_score, ai_paused, metadata,
         last_user_activity_at, started_at, ended_at, escalation_decision, escalation_reason,
         escalation_decided_at
  from halo.conversations;
comment on view api.conversations is
  'Conversations: live AI sessions (chat, voice, video, livehelp) between a contact or anonymous '
  'visitor and an AI agent, with their running signals (topic, sentiment, mood, AI confidence), '
  'state live or completed, outcome, AI score and ai_paused flag, and the escalation worker''s '
  'last decision (escalation_decision escalated or not_escalated, escalation_reason code, '
  'escalation_decided_at). Members with Inbox permission view may read; changes go through the '
  'conversation RPCs.';

create or replace view api.conversation_feed with (security_invoker = true) as
  select c.id, c.workspace_id, c.session_id, c.mode, c.ai_agent_id, c.contact_id, c.visitor_id,
         c.state, c.topic, c.sentiment, c.mood, c.ai_confidence, c.outcome, c.ai_score,
         c.ai_paused, c.metadata, c.last_user_activity_at, c.started_at, c.ended_at,
         coalesce((select coalesce(nullif(btrim(ct.name), ''), ct.email)
                   from halo.contacts ct where ct.id = c.contact_id), 'Anonymous') as user_name,
         (select a.name from halo.ai_agents a where a.id = c.ai_agent_id) as agent_name,
         coalesce(c.state = 'live' and c.last_user_activity_at > now() - interval '30 seconds', false)
           as user_active,
         c.escalation_decision, c.escalation_reason, c.escalation_decided_at
  from halo.conversations c;
comment on view api.conversation_feed is
  'Rows of the Live Feed and Completed lists: the columns of api.conversations plus user_name '
  '(the contact name or email, or Anonymous), agent_name and user_active (live and user activity '
  'in the last 30 seconds), then the escalation worker''s last decision (escalation_decision, '
  'escalation_reason, escalation_decided_at). Members with Inbox permission view may read.';

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

revoke execute on all functions in schema halo, api from public;
