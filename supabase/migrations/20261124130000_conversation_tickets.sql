-- The ticket of a conversation, and the one thread they share (issue 8, first part).
--
-- A live conversation gets a ticket when the AI escalates it or a teammate takes it over; both go
-- through halo.open_conversation_ticket, which opens that ticket once (or returns the one already
-- open) with the transcript, the contact and company context, the tools the AI tried and the
-- escalation reason. From then on the conversation and the ticket are one thread: messages of the
-- conversation carry the ticket's id and a teammate's chat reply on the ticket carries the
-- conversation's, so the ticket view and the live widget show the same messages.
--
-- What the AI did on each of its turns (confidence 0-100, tool calls) is kept in halo.ai_replies,
-- one row per AI message: the escalation worker's signals and the ticket's "tools tried" come
-- from it.

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
create index ai_replies_conversation_idx on halo.ai_replies (conversation_id, created_at);
create index ai_replies_workspace_id_idx on halo.ai_replies (workspace_id);

-- triggers ----------------------------------------------------------------------------------------

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

-- enable RLS --------------------------------------------------------------------------------------

alter table halo.ai_replies enable row level security;

-- helpers -----------------------------------------------------------------------------------------

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

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read AI replies" on halo.ai_replies
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- grants ------------------------------------------------------------------------------------------

grant select on halo.ai_replies to authenticated;
grant all on halo.ai_replies to service_role;

-- PUBLIC may execute every new function by default, and the per-schema default privileges of the
-- first migration cannot take a global default away; so each migration takes it back itself and
-- grants execute function by function (above). The catalog lint checks that none is left.
revoke execute on all functions in schema halo, api from public;
