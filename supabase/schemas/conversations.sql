-- Conversations: live AI sessions (chat, voice, video, Live Help) between a contact or an
-- anonymous visitor and an AI agent, with the running signals the Live Feed shows (topic,
-- sentiment and mood, AI confidence) and, once completed, an outcome and an AI score. Their
-- messages live in halo.messages beside the tickets' (messages.sql); the API an AI runtime calls
-- is in conversation_runtime.sql, escalation and takeover in escalation_and_takeover.sql.

-- types -------------------------------------------------------------------------------------------

-- Text domains rather than enums: enum equality is not leakproof, so behind row-level security
-- PostgreSQL may not use an index for `state = 'live'`; text equality is leakproof and may.

create domain halo.conversation_mode as text check (value in ('chat', 'voice', 'video', 'livehelp'));

create domain halo.conversation_state as text check (value in ('live', 'completed'));

create domain halo.mood as text check (value in ('happy', 'neutral', 'confused', 'frustrated', 'angry'));

create domain halo.conversation_outcome as text check (value in ('resolved', 'escalated', 'abandoned'));

-- tables ------------------------------------------------------------------------------------------

create table halo.conversations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  session_id text not null check (length(session_id) between 1 and 200),
  mode halo.conversation_mode not null default 'chat',
  ai_agent_id uuid references halo.ai_agents (id) on delete set null,
  contact_id uuid references halo.contacts (id) on delete set null,
  visitor_id uuid references halo.visitors (id) on delete set null,
  state halo.conversation_state not null default 'live',
  topic text check (length(topic) <= 300),
  -- Running sentiment in [-1, 1]; mood is the badge derived from it by the AI worker.
  sentiment real check (sentiment between -1 and 1),
  mood halo.mood,
  ai_confidence smallint check (ai_confidence between 0 and 100),
  outcome halo.conversation_outcome,
  ai_score smallint check (ai_score between 0 and 100),
  ai_paused boolean not null default false,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  last_user_activity_at timestamptz,
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  unique (workspace_id, session_id),
  check ((state = 'completed') = (ended_at is not null)),
  check (outcome is null or state = 'completed'),
  -- The signals worker's running sentiment (halo_supabase.ai.mood.RunningSentiment as JSON).
  sentiment_state jsonb not null default '{}' check (jsonb_typeof(sentiment_state) = 'object'),
  -- The last customer message the running sentiment includes (dashboards match updates to it).
  scored_message_id uuid,
  -- When the last mood update was streamed: the next one waits until 500 ms after it.
  signal_at timestamptz,
  -- The escalation worker's last decision on an AI turn and its reason code
  -- (halo_supabase.ai.escalation.Reason), so the Live Feed shows why a conversation was or was
  -- not handed to a human (api.record_escalation_decision).
  escalation_decision text check (escalation_decision in ('escalated', 'not_escalated')),
  escalation_reason text check (escalation_reason ~ '^[a-z_]{1,50}$'),
  escalation_decided_at timestamptz
);

-- indexes -----------------------------------------------------------------------------------------

create index conversations_ai_agent_id_idx on halo.conversations (ai_agent_id);

create index conversations_contact_id_idx on halo.conversations (contact_id);

create index conversations_visitor_id_idx on halo.conversations (visitor_id);

-- The Live Feed: a workspace's live sessions, newest first.
create index conversations_live_idx on halo.conversations (workspace_id, started_at desc)
  where state = 'live';

create index conversations_completed_idx on halo.conversations (workspace_id, ended_at desc)
  where state = 'completed';

-- triggers ----------------------------------------------------------------------------------------

create function halo.conversation_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and (new.workspace_id <> old.workspace_id or new.session_id <> old.session_id) then
    raise exception 'a conversation cannot move to another workspace or session'
      using errcode = '22023';
  end if;
  perform halo.require_same_workspace(new.workspace_id, 'halo.ai_agents', new.ai_agent_id, 'AI agent');
  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.visitors', new.visitor_id, 'visitor');
  return new;
end
$$;

create trigger conversations_before_write
  before insert or update on halo.conversations
  for each row execute function halo.conversation_before_write();

-- conversation.started, .completed, .ai_paused_changed and .signal, on the conversation's topic.
-- The signals worker's bookkeeping columns emit nothing by themselves, and a signal carries the
-- running sentiment and the last scored message, so a dashboard can show and match it without
-- reading the row.
create function halo.conversation_changed() returns trigger
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

create trigger conversations_emit_event
  after insert or update on halo.conversations
  for each row execute function halo.conversation_changed();

-- row-level security ------------------------------------------------------------------------------

alter table halo.conversations enable row level security;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read conversations" on halo.conversations
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- Pausing the AI or taking over is a reply-level action; AI workers write the rest as service_role.
create policy "members who can reply can pause the AI" on halo.conversations
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('reply')))
  with check (workspace_id in (select halo.inbox_workspaces('reply')));

-- api ---------------------------------------------------------------------------------------------

create view api.conversations with (security_invoker = true) as
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

-- The AI worker's running signals; null leaves a field unchanged.
create function api.record_conversation_signal(
  p_conversation_id uuid,
  p_sentiment real default null,
  p_mood halo.mood default null,
  p_ai_confidence smallint default null,
  p_topic text default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.conversations;
begin
  update halo.conversations c
     set sentiment = coalesce(p_sentiment, c.sentiment),
         mood = coalesce(p_mood, c.mood),
         ai_confidence = coalesce(p_ai_confidence, c.ai_confidence),
         topic = coalesce(p_topic, c.topic)
   where c.id = p_conversation_id and c.state = 'live';
  if not found then
    raise exception 'conversation % does not exist or is not live', p_conversation_id
      using errcode = 'P0002';
  end if;
  select * into result from api.conversations where id = p_conversation_id;
  return result;
end
$$;
grant execute on function api.record_conversation_signal(uuid, real, halo.mood, smallint, text)
  to service_role;
comment on function api.record_conversation_signal(p_conversation_id uuid, p_sentiment real, p_mood halo.mood, p_ai_confidence smallint, p_topic text) is
  'Records the running signals of a live conversation (sentiment in -1 to 1, mood, AI confidence '
  '0 to 100, topic); a null argument leaves that field unchanged. Returns the conversation. '
  'service_role only (AI workers); raises P0002 when the conversation does not exist or is not '
  'live.';

-- Pause the AI on a live conversation (a teammate is about to answer) or hand it back.
create function api.set_conversation_ai_paused(p_conversation_id uuid, p_paused boolean)
returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.conversations;
begin
  update halo.conversations set ai_paused = p_paused where id = p_conversation_id;
  if not found then
    if exists (select 1 from halo.conversations where id = p_conversation_id) then
      raise exception 'pausing the AI needs Inbox: Reply permission in this workspace'
        using errcode = '42501';
    end if;
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  select * into result from api.conversations where id = p_conversation_id;
  return result;
end
$$;
grant execute on function api.set_conversation_ai_paused(uuid, boolean) to authenticated, service_role;
comment on function api.set_conversation_ai_paused(p_conversation_id uuid, p_paused boolean) is
  'Pauses the AI on a conversation (p_paused true, a teammate is about to answer) or hands it '
  'back (false); returns the conversation. Callable by members with Inbox permission reply and by '
  'service_role; raises 42501 when the caller can see the conversation but lacks reply '
  'permission, and P0002 when it does not exist or is not visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, update (ai_paused) on halo.conversations to authenticated;

grant all on halo.conversations to service_role;

grant select on api.conversations to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
