-- Conversation signals: the sentiment and confidence of live conversations, and the teammates'
-- feedback on the AI.
--
-- The signals worker (workers/sentiment.py) scores every customer message. Its mailbox is
-- halo.conversation_signal_queue, filled by triggers whoever inserted the message, and drained in
-- batches: one claim and one apply call for hundreds of messages. The apply function is the
-- authority for "at most two updates a second per conversation" (signal_at) and takes a running
-- state only when nobody changed it since the worker read it, so two workers never fold one
-- conversation twice. Feedback: whispers to the AI (a transient note for its next reply, and a
-- training entry for an identified visitor), corrections of AI messages, thumbs up or down.

-- tables ------------------------------------------------------------------------------------------

-- Per-message ratings and corrections by teammates (Completed conversations, trainer feedback).
create table halo.message_feedback (
  message_id uuid not null references halo.messages (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  rating smallint check (rating in (-1, 1)),
  correction text check (length(correction) <= 20000),
  created_at timestamptz not null default now(),
  primary key (message_id, user_id),
  check (num_nonnulls(rating, correction) >= 1)
);

create table halo.conversation_signal_queue (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  conversation_id uuid not null references halo.conversations (id) on delete cascade,
  -- 'message': score this customer message; 'score': compute the AI score of a completed
  -- conversation (after its end, or after feedback on one of its messages).
  kind text not null check (kind in ('message', 'score')),
  message_id uuid references halo.messages (id) on delete cascade,
  lease_token uuid,
  leased_until timestamptz,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  check ((kind = 'message') = (message_id is not null)),
  check ((lease_token is null) = (leased_until is null))
);

-- Durable Inbox Training: lessons the AI applies on every reply whose context matches. Written
-- here by whispers to identified visitors (scope contact) and by corrections (scope workspace).
create table halo.training_entries (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  scope text not null check (scope in ('workspace', 'contact', 'company')),
  contact_id uuid references halo.contacts (id) on delete cascade,
  company_id uuid references halo.companies (id) on delete cascade,
  source text not null check (source in ('whisper', 'correction', 'composer')),
  -- The whisper message, or the AI message a correction is about.
  source_message_id uuid references halo.messages (id) on delete set null,
  conversation_id uuid references halo.conversations (id) on delete set null,
  body_text text not null check (length(btrim(body_text)) between 1 and 5000),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((scope = 'contact') = (contact_id is not null)),
  check ((scope = 'company') = (company_id is not null))
);

-- indexes -----------------------------------------------------------------------------------------

create index message_feedback_user_id_idx on halo.message_feedback (user_id);

create index message_feedback_workspace_id_idx on halo.message_feedback (workspace_id);

create unique index conversation_signal_queue_message_key on halo.conversation_signal_queue (message_id)
  where message_id is not null;

-- One pending AI-score item per conversation is enough: it reads the latest facts when it runs.
create unique index conversation_signal_queue_score_key on halo.conversation_signal_queue (conversation_id)
  where kind = 'score' and lease_token is null;

-- Unclaimed items, oldest first: the claim and the doorbell's "anything already waiting?".
create index conversation_signal_queue_waiting_idx on halo.conversation_signal_queue (id)
  where lease_token is null;

create index conversation_signal_queue_conversation_id_idx on halo.conversation_signal_queue (conversation_id);

create index conversation_signal_queue_workspace_id_idx on halo.conversation_signal_queue (workspace_id);

create index training_entries_workspace_id_idx on halo.training_entries (workspace_id, created_at desc);

create index training_entries_contact_id_idx on halo.training_entries (contact_id);

create index training_entries_company_id_idx on halo.training_entries (company_id);

create index training_entries_source_message_id_idx on halo.training_entries (source_message_id);

create index training_entries_conversation_id_idx on halo.training_entries (conversation_id);

create index training_entries_created_by_idx on halo.training_entries (created_by);

-- A teammate's correction of one AI message is one entry, changed in place when they edit it.
create unique index training_entries_correction_key on halo.training_entries (source_message_id, created_by)
  where source = 'correction';

-- triggers ----------------------------------------------------------------------------------------

create function halo.message_feedback_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select workspace_id into new.workspace_id from halo.messages where id = new.message_id;
  return new;
end
$$;

create trigger message_feedback_before_write
  before insert or update on halo.message_feedback
  for each row execute function halo.message_feedback_before_write();

-- Every customer chat message of a conversation is scored, however it was inserted.
create function halo.queue_message_signal() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into halo.conversation_signal_queue (workspace_id, conversation_id, kind, message_id)
  values (new.workspace_id, new.conversation_id, 'message', new.id)
  on conflict do nothing;
  return null;
end
$$;

create trigger messages_queue_signal
  after insert on halo.messages
  for each row
  when (new.conversation_id is not null and new.author_kind = 'customer' and new.kind = 'chat'
        and coalesce(new.body_text, '') <> '')
  execute function halo.queue_message_signal();

create function halo.conversation_completed_score() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.queue_conversation_score(new.id);
  return null;
end
$$;

create trigger conversations_queue_score
  after update of state on halo.conversations
  for each row when (old.state = 'live' and new.state = 'completed')
  execute function halo.conversation_completed_score();

create function halo.feedback_changed_score() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation uuid;
begin
  select m.conversation_id into conversation from halo.messages m
  where m.id = coalesce(new.message_id, old.message_id);
  if conversation is not null then
    perform halo.queue_conversation_score(conversation);
  end if;
  return null;
end
$$;

create trigger message_feedback_queue_score
  after insert or update of rating or delete on halo.message_feedback
  for each row execute function halo.feedback_changed_score();

-- The doorbell, on the private `jobs:conversation.signals` topic (only service_role joins it):
-- rung by an inserting statement only when no older item is waiting unclaimed. An older waiting
-- item means a doorbell already rang that no worker has answered yet, and a worker that claims
-- something claims again shortly after, so at 200 messages a second the workers get a few
-- doorbells instead of 200 (each one a realtime.messages row decoded and delivered). The queue is
-- the mailbox; workers poll it too.
create function halo.ring_signal_doorbell() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (
    select 1 from halo.conversation_signal_queue q
    where q.lease_token is null and q.id < (select min(n.id) from new_items n)
  ) then
    perform realtime.send('{}'::jsonb, 'job_available', 'jobs:conversation.signals', true);
  end if;
  return null;
end
$$;

create trigger conversation_signal_queue_doorbell
  after insert on halo.conversation_signal_queue
  referencing new table as new_items
  for each statement execute function halo.ring_signal_doorbell();

create function halo.training_entry_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.companies', new.company_id, 'company');
  perform halo.require_same_workspace(new.workspace_id, 'halo.conversations', new.conversation_id, 'conversation');
  new.updated_at := now();
  return new;
end
$$;

create trigger training_entries_before_write
  before insert or update on halo.training_entries
  for each row execute function halo.training_entry_before_write();

-- row-level security ------------------------------------------------------------------------------

alter table halo.message_feedback enable row level security;

-- No policy: only service_role (the worker) and the security definer triggers touch the queue.
alter table halo.conversation_signal_queue enable row level security;

alter table halo.training_entries enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- The AI score of a conversation: when it completes, and again when feedback on it changes.
create function halo.queue_conversation_score(p_conversation_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
  insert into halo.conversation_signal_queue (workspace_id, conversation_id, kind)
  select c.workspace_id, c.id, 'score' from halo.conversations c
  where c.id = p_conversation_id and c.state = 'completed'
  on conflict (conversation_id) where kind = 'score' and lease_token is null do nothing
$$;

-- An AI message a member may give feedback on: P0002 when it does not exist or is invisible to
-- the caller, 22023 when it is not an AI message of a conversation, 42501 without Inbox: Reply.
create function halo.ai_message_for_feedback(p_message_id uuid) returns halo.messages
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  message halo.messages;
begin
  select * into message from halo.messages where id = p_message_id;
  if not found then
    raise exception 'message % does not exist', p_message_id using errcode = 'P0002';
  end if;
  if message.author_kind <> 'ai_agent' or message.conversation_id is null then
    raise exception 'feedback and corrections are for the AI''s messages in a conversation; message % is a % message',
      p_message_id, message.author_kind using errcode = '22023';
  end if;
  if message.workspace_id not in (select halo.inbox_workspaces('reply')) then
    raise exception 'feedback on the AI needs Inbox: Reply permission in this workspace'
      using errcode = '42501';
  end if;
  return message;
end
$$;
grant execute on function halo.ai_message_for_feedback(uuid) to authenticated;

-- Gives leased items back to the queue without counting the attempt. A leased AI-score item whose
-- conversation has another one waiting is deleted instead (one waiting per conversation).
create function halo.release_signal_items(p_lease_token uuid, p_item_ids bigint[]) returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  released integer;
begin
  delete from halo.conversation_signal_queue q
   where q.id = any (p_item_ids) and q.lease_token = p_lease_token and q.kind = 'score'
     and exists (select 1 from halo.conversation_signal_queue o
                 where o.conversation_id = q.conversation_id and o.kind = 'score'
                   and o.lease_token is null);
  update halo.conversation_signal_queue
     set lease_token = null, leased_until = null, attempts = greatest(attempts - 1, 0)
   where lease_token = p_lease_token and id = any (p_item_ids);
  get diagnostics released = row_count;
  return released;
end
$$;
grant execute on function halo.release_signal_items(uuid, bigint[]) to service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read message feedback" on halo.message_feedback
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can give feedback as themselves" on halo.message_feedback
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and user_id = (select auth.uid()));

create policy "members can change their own feedback" on halo.message_feedback
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and user_id = (select auth.uid()));

create policy "members can delete their own feedback" on halo.message_feedback
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy "members with inbox access can read training entries" on halo.training_entries
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who can reply can add training entries as themselves" on halo.training_entries
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and created_by = (select auth.uid()));

create policy "members can change their own training entries" on halo.training_entries
  for update to authenticated
  using (created_by = (select auth.uid()))
  with check (workspace_id in (select halo.inbox_workspaces('reply'))
              and created_by = (select auth.uid()));

create policy "members can delete their own training entries" on halo.training_entries
  for delete to authenticated
  using (created_by = (select auth.uid()));

-- api ---------------------------------------------------------------------------------------------

create view api.message_feedback with (security_invoker = true) as
  select message_id, user_id, workspace_id, rating, correction, created_at
  from halo.message_feedback;
comment on view api.message_feedback is
  'Teammate ratings (-1 or 1) and corrections of messages, one row per message and user; at least '
  'one of rating and correction is set. Members with Inbox permission view may read; members with '
  'reply may insert their own feedback, and each user may update or delete only their own rows.';

create view api.training_entries with (security_invoker = true) as
  select id, workspace_id, scope, contact_id, company_id, source, source_message_id,
         conversation_id, body_text, created_by, created_at, updated_at
  from halo.training_entries;
comment on view api.training_entries is
  'Inbox Training entries: lessons the AI applies when their scope matches (workspace, contact or '
  'company), written by whispers to identified visitors, by corrections of AI messages and by the '
  'composer. Members with Inbox permission view may read; members with reply may insert entries '
  'as themselves, and each member may update or delete only their own.';

-- Leases up to p_limit queued items (oldest first) to the signals worker holding p_lease_token
-- (one token per worker process, so the items it holds across claims share it) and returns them with
-- what scoring needs: the message text and, per conversation, the running state, outcome and
-- feedback counts. Items that failed p_max_attempts times are dropped (their count is returned).
create function api.claim_conversation_signals(
  p_lease_token uuid,
  p_limit integer default 500,
  p_lease_seconds integer default 30,
  p_max_attempts integer default 5
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  token uuid := p_lease_token;
  dropped integer;
  items jsonb;
  conversations jsonb;
begin
  if token is null then
    raise exception 'p_lease_token is required: the worker''s own token for the items it holds'
      using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 5000 then
    raise exception 'p_limit must be between 1 and 5000, got %', p_limit using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 3 and 3600 then
    raise exception 'p_lease_seconds must be between 3 and 3600, got %', p_lease_seconds using errcode = '22023';
  end if;
  with poisoned as (
    delete from halo.conversation_signal_queue q
    where q.attempts >= p_max_attempts and (q.leased_until is null or q.leased_until < now())
    returning 1
  )
  select count(*) into dropped from poisoned;

  with picked as (
    select q.id from halo.conversation_signal_queue q
    where q.leased_until is null or q.leased_until < now()
    order by q.id
    limit p_limit
    for update skip locked
  ), leased as (
    update halo.conversation_signal_queue q
       set lease_token = token, leased_until = now() + make_interval(secs => p_lease_seconds),
           attempts = q.attempts + 1
      from picked where q.id = picked.id
    returning q.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', l.id, 'kind', l.kind, 'conversation_id', l.conversation_id,
           'message_id', l.message_id, 'text', m.body_text) order by l.id), '[]')
    into items
  from leased l left join halo.messages m on m.id = l.message_id;

  select coalesce(jsonb_object_agg(c.id, jsonb_build_object(
           'state', c.state, 'outcome', c.outcome, 'topic', c.topic,
           'sentiment_state', c.sentiment_state,
           'ready_in_ms', greatest(0, ceil(extract(epoch from (c.signal_at + interval '500 milliseconds' - now())) * 1000)),
           'thumbs_up', coalesce(r.up, 0), 'thumbs_down', coalesce(r.down, 0))), '{}')
    into conversations
  from halo.conversations c
  left join lateral (
    select count(*) filter (where f.rating = 1) as up, count(*) filter (where f.rating = -1) as down
    from halo.message_feedback f join halo.messages m on m.id = f.message_id
    where c.state = 'completed' and m.conversation_id = c.id
  ) r on true
  where c.id in (select (i ->> 'conversation_id')::uuid from jsonb_array_elements(items) i);

  return jsonb_build_object('lease_token', token, 'items', items,
                            'conversations', conversations, 'dropped', dropped);
end
$$;
grant execute on function api.claim_conversation_signals(uuid, integer, integer, integer) to service_role;
comment on function api.claim_conversation_signals(p_lease_token uuid, p_limit integer, p_lease_seconds integer, p_max_attempts integer) is
  'Leases up to p_limit (1 to 5000) queued signal items, oldest first, to the signals worker '
  'holding p_lease_token for p_lease_seconds (3 to 3600), and returns {lease_token, items: [{id, '
  'kind message or score, conversation_id, message_id, text}], conversations: {id: running state, '
  'outcome, topic, ready_in_ms, thumbs_up, thumbs_down}, dropped}. Items that already failed '
  'p_max_attempts times are deleted and counted in dropped. service_role only; raises 22023 for a '
  'missing token or out-of-range arguments.';

-- Writes what the worker computed for each conversation of one claim, in one transaction:
--   [{conversation_id, base_messages, item_ids, sentiment_state?, sentiment?, mood?,
--     scored_message_id?, topic?, ai_score?}]
-- Per conversation the answer is 'applied' (written, its items done), 'deferred' (a mood update
-- was streamed under 500 ms ago: items stay leased, retry in retry_in_ms), 'conflict' (another
-- worker moved the running state on: items are released to be scored again), 'lease_lost' (some
-- item is no longer leased with this token: nothing written) or 'gone' (conversation deleted).
create function api.apply_conversation_signals(p_lease_token uuid, p_signals jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  signal record;
  conv halo.conversations;
  held integer;
  results jsonb := '[]';
  min_gap constant interval := interval '500 milliseconds';
begin
  if p_lease_token is null or jsonb_typeof(p_signals) is distinct from 'array' then
    raise exception 'p_lease_token and a JSON array p_signals are required' using errcode = '22023';
  end if;
  for signal in
    select * from jsonb_to_recordset(p_signals) as s(
      conversation_id uuid, base_messages integer, item_ids bigint[], sentiment_state jsonb,
      sentiment real, mood halo.mood, scored_message_id uuid, topic text, ai_score smallint)
    order by conversation_id  -- one lock order for every worker
  loop
    if signal.conversation_id is null or signal.item_ids is null then
      raise exception 'every signal needs conversation_id and item_ids' using errcode = '22023';
    end if;
    select * into conv from halo.conversations where id = signal.conversation_id for update;
    if not found then
      delete from halo.conversation_signal_queue
       where id = any (signal.item_ids) and lease_token = p_lease_token;
      results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'gone');
      continue;
    end if;
    select count(*) into held from halo.conversation_signal_queue
     where id = any (signal.item_ids) and lease_token = p_lease_token;
    if held <> cardinality(signal.item_ids) then
      results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'lease_lost');
      continue;
    end if;
    if coalesce((conv.sentiment_state ->> 'messages')::integer, 0) <> coalesce(signal.base_messages, 0) then
      perform halo.release_signal_items(p_lease_token, signal.item_ids);
      results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'conflict');
      continue;
    end if;
    if signal.sentiment_state is not null and conv.signal_at > now() - min_gap then
      results := results || jsonb_build_object('conversation_id', signal.conversation_id,
        'status', 'deferred',
        'retry_in_ms', ceil(extract(epoch from (conv.signal_at + min_gap - now())) * 1000));
      continue;
    end if;
    update halo.conversations c
       set sentiment_state = coalesce(signal.sentiment_state, c.sentiment_state),
           sentiment = coalesce(signal.sentiment, c.sentiment),
           mood = coalesce(signal.mood, c.mood),
           scored_message_id = coalesce(signal.scored_message_id, c.scored_message_id),
           topic = coalesce(c.topic, nullif(btrim(signal.topic), '')),
           ai_score = coalesce(signal.ai_score, c.ai_score),
           signal_at = case when signal.sentiment_state is not null then now() else c.signal_at end
     where c.id = signal.conversation_id;
    delete from halo.conversation_signal_queue
     where id = any (signal.item_ids) and lease_token = p_lease_token;
    results := results || jsonb_build_object('conversation_id', signal.conversation_id, 'status', 'applied');
  end loop;
  return results;
end
$$;
grant execute on function api.apply_conversation_signals(uuid, jsonb) to service_role;
comment on function api.apply_conversation_signals(p_lease_token uuid, p_signals jsonb) is
  'Writes what the signals worker computed for each conversation of one claim (p_signals: '
  '[{conversation_id, base_messages, item_ids, sentiment_state, sentiment, mood, '
  'scored_message_id, topic, ai_score}]) and returns one status per conversation: applied, '
  'deferred (a mood update was streamed under 500 ms ago; retry in retry_in_ms), conflict '
  '(another worker moved the running state on; items released), lease_lost or gone. The topic is '
  'only set when the conversation has none. service_role only; raises 22023 for a missing token, '
  'a non-array p_signals or an entry without conversation_id and item_ids.';

-- Gives leased items back unprocessed (worker shutdown), without counting the attempt.
create function api.release_conversation_signals(p_lease_token uuid, p_item_ids bigint[])
returns integer
language sql
security invoker
set search_path = ''
as $$
  select halo.release_signal_items(p_lease_token, p_item_ids)
$$;
grant execute on function api.release_conversation_signals(uuid, bigint[]) to service_role;
comment on function api.release_conversation_signals(p_lease_token uuid, p_item_ids bigint[]) is
  'Gives leased signal items back to the queue unprocessed (worker shutdown) without counting the '
  'attempt, and returns how many were released; a leased AI-score item whose conversation already '
  'has another waiting is deleted instead. service_role only.';

-- The Inbox training whisper: a note the AI reads before its next reply in a live conversation.
-- Stored as a whisper entry of the transcript (the customer never sees it), pushed to the AI
-- runtime on the conversation topic as `ai.whisper` (text included: the runtime must not wait for
-- a read), and, when the visitor is identified, kept as durable Inbox Training for that contact.
-- Security definer because broadcasting is not the caller's right; the caller's Inbox: Reply
-- permission is checked here.
create function halo.whisper_to_ai(p_conversation_id uuid, p_text text) returns api.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation halo.conversations;
  identified uuid;
  message_id uuid;
  training_id uuid;
  result api.messages;
begin
  if auth.uid() is null then
    raise exception 'a whisper comes from a signed-in teammate' using errcode = '42501';
  end if;
  if p_text is null or length(btrim(p_text)) = 0 or length(p_text) > 5000 then
    raise exception 'p_text must be 1 to 5000 characters' using errcode = '22023';
  end if;
  select * into conversation from halo.conversations where id = p_conversation_id;
  if not found or conversation.workspace_id not in (select halo.inbox_workspaces('view')) then
    raise exception 'conversation % does not exist', p_conversation_id using errcode = 'P0002';
  end if;
  if conversation.workspace_id not in (select halo.inbox_workspaces('reply')) then
    raise exception 'whispering to the AI needs Inbox: Reply permission in this workspace'
      using errcode = '42501';
  end if;
  if conversation.state <> 'live' then
    raise exception 'conversation % is completed; a whisper only reaches a live conversation', p_conversation_id
      using errcode = '22023';
  end if;

  insert into halo.messages (conversation_id, kind, direction, author_kind, author_user_id, body_text)
  values (p_conversation_id, 'whisper', 'internal', 'teammate', auth.uid(), btrim(p_text))
  returning id into message_id;

  identified := coalesce(conversation.contact_id,
    (select v.contact_id from halo.visitors v where v.id = conversation.visitor_id));
  if identified is not null then
    insert into halo.training_entries (workspace_id, scope, contact_id, source, source_message_id,
                                       conversation_id, body_text, created_by)
    values (conversation.workspace_id, 'contact', identified, 'whisper', message_id,
            p_conversation_id, btrim(p_text), auth.uid())
    returning id into training_id;
  end if;

  perform realtime.send(
    jsonb_strip_nulls(jsonb_build_object('conversation_id', p_conversation_id,
      'message_id', message_id, 'text', btrim(p_text), 'training_entry_id', training_id)),
    'ai.whisper', 'conversation:' || p_conversation_id, true);

  select * into result from api.messages where id = message_id;
  return result;
end
$$;
grant execute on function halo.whisper_to_ai(uuid, text) to authenticated;

-- The API face of halo.whisper_to_ai: it runs as the caller; only the private body holds definer rights.
create function api.whisper_to_ai(p_conversation_id uuid, p_text text) returns api.messages
language sql
security invoker
set search_path = ''
as $$
  select * from halo.whisper_to_ai(p_conversation_id, p_text)
$$;
grant execute on function api.whisper_to_ai(uuid, text) to authenticated;
comment on function api.whisper_to_ai(p_conversation_id uuid, p_text text) is
  'A signed-in teammate whispers to the AI of a live conversation: stores a whisper message the '
  'customer never sees (1 to 5000 characters), pushes it to the AI runtime as ai.whisper on the '
  'conversation topic and, when the visitor is identified, keeps it as a contact Inbox Training '
  'entry. Returns the message. Needs Inbox permission reply (authenticated only); raises 42501 '
  'when not allowed, P0002 when the conversation is not visible, and 22023 for bad text or a '
  'completed conversation.';

-- The whispers the AI has not answered yet: those after its latest message (the AI runtime calls
-- this before each reply, in case it missed the broadcast).
create function api.pending_whispers(p_conversation_id uuid) returns setof api.messages
language sql stable
security invoker
set search_path = ''
as $$
  select * from api.messages m
  where m.conversation_id = p_conversation_id and m.kind = 'whisper'
    and m.created_at > coalesce(
      (select max(a.created_at) from halo.messages a
       where a.conversation_id = p_conversation_id and a.author_kind = 'ai_agent'), '-infinity')
  order by m.created_at, m.id
$$;
grant execute on function api.pending_whispers(uuid) to service_role;
comment on function api.pending_whispers(p_conversation_id uuid) is
  'Returns the whispers of a conversation written after the latest AI message, oldest first: what '
  'the AI runtime must take into account before its next reply if it missed the broadcast. '
  'service_role only.';

-- Thumbs up (1) or down (-1) on an AI message, or null (the default) to take the rating back. One rating per
-- teammate and message; a completed conversation's AI score follows (trigger above).
create function api.rate_ai_message(p_message_id uuid, p_rating smallint default null)
returns api.message_feedback
language plpgsql
security invoker
set search_path = ''
as $$
declare
  message halo.messages := halo.ai_message_for_feedback(p_message_id);
  result api.message_feedback;
begin
  if p_rating is not null and p_rating not in (-1, 1) then
    raise exception 'p_rating must be 1 (thumbs up), -1 (thumbs down) or null, got %', p_rating
      using errcode = '22023';
  end if;
  if p_rating is null then
    update halo.message_feedback set rating = null
     where message_id = message.id and user_id = auth.uid() and correction is not null;
    delete from halo.message_feedback
     where message_id = message.id and user_id = auth.uid() and correction is null;
  else
    insert into halo.message_feedback (message_id, user_id, workspace_id, rating)
    values (message.id, auth.uid(), message.workspace_id, p_rating)
    on conflict (message_id, user_id) do update set rating = excluded.rating;
  end if;
  select * into result from api.message_feedback
   where message_id = message.id and user_id = auth.uid();
  return result;
end
$$;
grant execute on function api.rate_ai_message(uuid, smallint) to authenticated;
comment on function api.rate_ai_message(p_message_id uuid, p_rating smallint) is
  'Rates an AI message of a conversation thumbs up (1) or down (-1) as the caller, or takes the '
  'rating back with null (the default), and returns the feedback row of the caller; one rating '
  'per teammate and message, and the AI score of a completed conversation is queued for '
  'recomputation. Needs Inbox permission reply (authenticated only). Raises 22023 for a bad '
  'rating or a message that is not an AI message of a conversation, 42501 when not allowed, and '
  'P0002 when the message is not visible.';

-- Marks an AI message wrong and gives the right answer: kept with the teammate's feedback on the
-- message and as a workspace-wide Inbox Training entry (one per teammate and message, edited in
-- place).
create function api.correct_ai_message(p_message_id uuid, p_correction text)
returns api.message_feedback
language plpgsql
security invoker
set search_path = ''
as $$
declare
  message halo.messages := halo.ai_message_for_feedback(p_message_id);
  result api.message_feedback;
begin
  if p_correction is null or length(btrim(p_correction)) = 0 or length(p_correction) > 5000 then
    raise exception 'p_correction must be 1 to 5000 characters' using errcode = '22023';
  end if;
  insert into halo.message_feedback (message_id, user_id, workspace_id, correction)
  values (message.id, auth.uid(), message.workspace_id, btrim(p_correction))
  on conflict (message_id, user_id) do update set correction = excluded.correction;
  insert into halo.training_entries (workspace_id, scope, source, source_message_id,
                                     conversation_id, body_text, created_by)
  values (message.workspace_id, 'workspace', 'correction', message.id, message.conversation_id,
          btrim(p_correction), auth.uid())
  on conflict (source_message_id, created_by) where source = 'correction'
  do update set body_text = excluded.body_text;
  select * into result from api.message_feedback
   where message_id = message.id and user_id = auth.uid();
  return result;
end
$$;
grant execute on function api.correct_ai_message(uuid, text) to authenticated;
comment on function api.correct_ai_message(p_message_id uuid, p_correction text) is
  'Records the right answer (1 to 5000 characters) for an AI message of a conversation: kept as '
  'the caller feedback correction and as a workspace-wide Inbox Training entry, one per teammate '
  'and message, edited in place on later calls. Returns the caller feedback row. Needs Inbox '
  'permission reply (authenticated only); raises 22023 for bad text or a message that is not an '
  'AI message of a conversation, 42501 when not allowed, and P0002 when the message is not '
  'visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.message_feedback to authenticated;

grant all on halo.message_feedback to service_role;

grant select, insert, update, delete on api.message_feedback to authenticated, service_role;

grant all on halo.conversation_signal_queue to service_role;

grant select, insert, update, delete on halo.training_entries to authenticated;

grant all on halo.training_entries to service_role;

grant select, insert, update, delete on api.training_entries to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
