-- Tickets and the one message model shared by ticket threads and conversation streams.
--
-- A ticket's status is stored as orthogonal facts: a category (open, in_progress, snoozed,
-- resolved, spam), a priority, and who resolved it (human, ai, auto). Halo's seven statuses are
-- derived from them by halo.ticket_status(): Priority is an open ticket of high or urgent priority,
-- AI Resolved is a ticket resolved by the AI. So filters and metrics never have to untangle an
-- overloaded status column.
--
-- Messages: kind (chat, email, note, system, whisper), direction, author (customer, teammate, AI
-- agent, alias user, system), text and HTML, email threading headers, attachment metadata and
-- mentions. System messages are the audit trail: every status, assignment and priority change of a
-- ticket writes one, in the same transaction as the change and its event.

-- types -------------------------------------------------------------------------------------------

create type halo.ticket_status_category as enum ('open', 'in_progress', 'snoozed', 'resolved', 'spam');
create type halo.ticket_priority as enum ('low', 'normal', 'high', 'urgent');
create type halo.resolver as enum ('human', 'ai', 'auto');
create type halo.channel as enum ('email', 'chat', 'voice', 'video', 'api', 'integration');
create type halo.message_kind as enum ('chat', 'email', 'note', 'system', 'whisper');
create type halo.message_direction as enum ('inbound', 'outbound', 'internal');
create type halo.author_kind as enum ('customer', 'teammate', 'ai_agent', 'alias_user', 'system');

-- tables ------------------------------------------------------------------------------------------

create table halo.tickets (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  -- Per-workspace, gap-free, assigned by the insert trigger.
  number bigint not null,
  subject text not null default '' check (length(subject) <= 500),
  status_category halo.ticket_status_category not null default 'open',
  priority halo.ticket_priority not null default 'normal',
  resolved_by halo.resolver,
  resolved_at timestamptz,
  snoozed_until timestamptz,
  category text check (category ~ '^[a-z0-9_]{1,50}$'),
  source text not null default 'api' check (length(source) between 1 and 50),
  channel halo.channel not null default 'email',
  assignee_id uuid,
  contact_id uuid references halo.contacts (id) on delete set null,
  company_id uuid references halo.companies (id) on delete set null,
  conversation_id uuid references halo.conversations (id) on delete set null,
  merged_into_id uuid references halo.tickets (id) on delete set null,
  metadata jsonb not null default '{}'
    check (jsonb_typeof(metadata) = 'object' and octet_length(metadata::text) <= 50000),
  custom_fields jsonb not null default '{}' check (jsonb_typeof(custom_fields) = 'object'),
  labels text[] not null default '{}',
  ai_confidence smallint check (ai_confidence between 0 and 100),
  escalation_reason text check (length(escalation_reason) <= 2000),
  ai_paused boolean not null default false,
  auto_created boolean not null default false,
  first_response_at timestamptz,
  last_customer_message_at timestamptz,
  last_activity_at timestamptz not null default now(),
  waiting_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, number),
  -- The assignee must be a member of the ticket's workspace; removing the member unassigns.
  foreign key (workspace_id, assignee_id) references halo.members (workspace_id, user_id)
    on delete set null (assignee_id),
  check ((status_category = 'resolved') = (resolved_by is not null)),
  check ((status_category = 'resolved') = (resolved_at is not null)),
  check ((status_category = 'snoozed') = (snoozed_until is not null)),
  check (merged_into_id <> id)
);
create index tickets_assignee_idx on halo.tickets (workspace_id, assignee_id);
create index tickets_contact_id_idx on halo.tickets (contact_id);
create index tickets_company_id_idx on halo.tickets (company_id);
create index tickets_conversation_id_idx on halo.tickets (conversation_id);
create index tickets_merged_into_id_idx on halo.tickets (merged_into_id);
-- The inbox list: a workspace's tickets by status, most recently active first.
create index tickets_inbox_idx on halo.tickets (workspace_id, status_category, last_activity_at desc);
-- The snooze waker's due list.
create index tickets_snoozed_until_idx on halo.tickets (snoozed_until) where status_category = 'snoozed';
create index tickets_labels_idx on halo.tickets using gin (labels);

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
  check (kind <> 'whisper' or conversation_id is not null)
);
create index messages_workspace_id_idx on halo.messages (workspace_id);
create index messages_ticket_thread_idx on halo.messages (ticket_id, created_at);
create index messages_conversation_thread_idx on halo.messages (conversation_id, created_at)
  where conversation_id is not null;
create index messages_author_user_id_idx on halo.messages (author_user_id) where author_user_id is not null;
create index messages_author_contact_id_idx on halo.messages (author_contact_id) where author_contact_id is not null;
create index messages_author_visitor_id_idx on halo.messages (author_visitor_id) where author_visitor_id is not null;
create index messages_author_ai_agent_id_idx on halo.messages (author_ai_agent_id) where author_ai_agent_id is not null;
create index messages_author_alias_user_id_idx on halo.messages (author_alias_user_id) where author_alias_user_id is not null;
-- Threading looks replies up by Message-ID; unique so the same email is never stored twice.
create unique index messages_email_message_id_key on halo.messages (workspace_id, email_message_id)
  where email_message_id is not null;

create table halo.mentions (
  message_id uuid not null references halo.messages (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  ticket_id uuid references halo.tickets (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (message_id, user_id)
);
create index mentions_user_idx on halo.mentions (user_id, created_at desc);
create index mentions_workspace_id_idx on halo.mentions (workspace_id);
create index mentions_ticket_id_idx on halo.mentions (ticket_id);

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
create index message_feedback_user_id_idx on halo.message_feedback (user_id);
create index message_feedback_workspace_id_idx on halo.message_feedback (workspace_id);

-- helpers -----------------------------------------------------------------------------------------

-- Halo's seven statuses from the stored facts.
create function halo.ticket_status(
  p_category halo.ticket_status_category, p_priority halo.ticket_priority, p_resolved_by halo.resolver
) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_category = 'spam' then 'spam'
    when p_category = 'resolved' and p_resolved_by = 'ai' then 'ai_resolved'
    when p_category = 'resolved' then 'resolved'
    when p_category = 'snoozed' then 'snoozed'
    when p_category = 'in_progress' then 'in_progress'
    when p_priority in ('high', 'urgent') then 'priority'
    else 'open'
  end
$$;
grant execute on function halo.ticket_status(halo.ticket_status_category, halo.ticket_priority, halo.resolver)
  to anon, authenticated, service_role;

-- triggers ----------------------------------------------------------------------------------------

create function halo.ticket_before_write() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    update halo.workspace_counters
       set last_ticket_number = last_ticket_number + 1
     where workspace_id = new.workspace_id
    returning last_ticket_number into new.number;
    if new.number is null then
      raise exception 'workspace % does not exist', new.workspace_id using errcode = '23503';
    end if;
  elsif new.workspace_id <> old.workspace_id or new.number <> old.number then
    raise exception 'a ticket keeps its workspace and number' using errcode = '22023';
  end if;

  if new.status_category = 'resolved' then
    new.resolved_by := coalesce(new.resolved_by, case when auth.uid() is null
                                                      then 'auto'::halo.resolver
                                                      else 'human'::halo.resolver end);
    new.resolved_at := coalesce(case when tg_op = 'UPDATE' and old.status_category = 'resolved'
                                     then old.resolved_at end, now());
  else
    new.resolved_by := null;
    new.resolved_at := null;
  end if;
  if new.status_category <> 'snoozed' then
    new.snoozed_until := null;
  elsif new.snoozed_until is null then
    raise exception 'a snoozed ticket needs snoozed_until' using errcode = '23502';
  end if;

  perform halo.require_same_workspace(new.workspace_id, 'halo.contacts', new.contact_id, 'contact');
  perform halo.require_same_workspace(new.workspace_id, 'halo.companies', new.company_id, 'company');
  perform halo.require_same_workspace(new.workspace_id, 'halo.conversations', new.conversation_id, 'conversation');
  perform halo.require_same_workspace(new.workspace_id, 'halo.tickets', new.merged_into_id, 'ticket');
  new.updated_at := now();
  return new;
end
$$;

create trigger tickets_before_write
  before insert or update on halo.tickets
  for each row execute function halo.ticket_before_write();

-- Fields whose change is worth an event; bookkeeping (activity timestamps) is not.
create function halo.ticket_changed_fields(p_new halo.tickets, p_old halo.tickets) returns text[]
language sql immutable
set search_path = ''
as $$
  select coalesce(array_agg(key order by key), '{}')
  from jsonb_each(to_jsonb(p_new)) n
  join jsonb_each(to_jsonb(p_old)) o using (key)
  where n.value is distinct from o.value
    and key not in ('updated_at', 'last_activity_at', 'first_response_at',
                    'last_customer_message_at', 'waiting_since', 'resolved_at')
$$;

-- One event per change (ticket.created, ticket.status_changed, ticket.assigned, ticket.updated),
-- plus system messages for status, assignee and priority changes: the audit trail.
create function halo.ticket_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed text[];
  old_status text;
  new_status text := halo.ticket_status(new.status_category, new.priority, new.resolved_by);
  event_name text;
begin
  if tg_op = 'INSERT' then
    perform halo.emit_event(new.workspace_id, 'ticket.created', new.id, new.conversation_id,
      jsonb_build_object('number', new.number, 'status', new_status));
    return null;
  end if;

  changed := halo.ticket_changed_fields(new, old);
  if cardinality(changed) = 0 then
    return null;
  end if;
  old_status := halo.ticket_status(old.status_category, old.priority, old.resolved_by);

  if new_status <> old_status then
    insert into halo.messages (workspace_id, ticket_id, kind, direction, author_kind, author_user_id, activity)
    values (new.workspace_id, new.id, 'system', 'internal', 'system', auth.uid(),
            jsonb_build_object('action', 'status_changed', 'from', old_status, 'to', new_status));
  end if;
  if new.assignee_id is distinct from old.assignee_id then
    insert into halo.messages (workspace_id, ticket_id, kind, direction, author_kind, author_user_id, activity)
    values (new.workspace_id, new.id, 'system', 'internal', 'system', auth.uid(),
            jsonb_build_object('action', 'assigned', 'from', old.assignee_id, 'to', new.assignee_id));
  end if;
  if new.priority <> old.priority then
    insert into halo.messages (workspace_id, ticket_id, kind, direction, author_kind, author_user_id, activity)
    values (new.workspace_id, new.id, 'system', 'internal', 'system', auth.uid(),
            jsonb_build_object('action', 'priority_changed', 'from', old.priority, 'to', new.priority));
  end if;

  event_name := case
    when new_status <> old_status then 'ticket.status_changed'
    when new.assignee_id is distinct from old.assignee_id then 'ticket.assigned'
    else 'ticket.updated'
  end;
  perform halo.emit_event(new.workspace_id, event_name, new.id, new.conversation_id,
    jsonb_strip_nulls(jsonb_build_object(
      'changed', to_jsonb(changed), 'status', new_status, 'assignee_id', new.assignee_id)));
  return null;
end
$$;

create trigger tickets_emit_event
  after insert or update on halo.tickets
  for each row execute function halo.ticket_changed();

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

-- After a message is stored: mentions, the ticket's timestamps (first response, waiting since,
-- last customer message), reopening on a customer reply, auto-assign on reply, the conversation's
-- last user activity, the outbound email job, and the message.created event. System messages are
-- written by the ticket trigger above and ride on its event.
create function halo.message_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  from_customer boolean := new.author_kind = 'customer' and new.kind in ('chat', 'email');
  public_reply boolean := new.direction = 'outbound' and new.kind in ('chat', 'email');
  auto_assign boolean;
begin
  if new.kind = 'system' then
    return null;
  end if;

  insert into halo.mentions (message_id, user_id, workspace_id, ticket_id)
  select new.id, mentioned, new.workspace_id, new.ticket_id from unnest(new.mentions) mentioned
  on conflict do nothing;

  if new.ticket_id is not null then
    select s.auto_assign_on_reply into auto_assign
    from halo.workspace_settings s where s.workspace_id = new.workspace_id;
    -- Locks the ticket row before the workspace counter (emit_event), the same order every
    -- ticket change takes, so concurrent writers cannot deadlock on the pair.
    update halo.tickets t
       set last_activity_at = greatest(t.last_activity_at, new.created_at),
           last_customer_message_at = case when from_customer then new.created_at
                                           else t.last_customer_message_at end,
           waiting_since = case when from_customer then coalesce(t.waiting_since, new.created_at)
                                when public_reply then null
                                else t.waiting_since end,
           first_response_at = case when public_reply and new.author_kind <> 'customer'
                                    then coalesce(t.first_response_at, new.created_at)
                                    else t.first_response_at end,
           status_category = case when from_customer and t.status_category in ('resolved', 'snoozed')
                                  then 'open'::halo.ticket_status_category
                                  else t.status_category end,
           assignee_id = case when public_reply and coalesce(auto_assign, false)
                                   and t.assignee_id is null
                                   and new.author_kind in ('teammate', 'alias_user')
                              then new.author_user_id
                              else t.assignee_id end
     where t.id = new.ticket_id;
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

-- enable RLS --------------------------------------------------------------------------------------

alter table halo.tickets enable row level security;
alter table halo.messages enable row level security;
alter table halo.mentions enable row level security;
alter table halo.message_feedback enable row level security;

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read tickets" on halo.tickets
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- Replying includes opening tickets; assigning someone else at creation is a manage action.
create policy "members who can reply can open tickets" on halo.tickets
  for insert to authenticated
  with check (
    workspace_id in (select halo.inbox_workspaces('reply'))
    and (assignee_id is null or assignee_id = (select auth.uid())
         or workspace_id in (select halo.inbox_workspaces('manage')))
  );

create policy "members who manage the inbox can change tickets" on halo.tickets
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('manage')))
  with check (workspace_id in (select halo.inbox_workspaces('manage')));

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

create policy "members can read their workspace's mentions" on halo.mentions
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

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

-- API objects -------------------------------------------------------------------------------------

create view api.tickets with (security_invoker = true) as
  select id, workspace_id, number, subject,
         halo.ticket_status(status_category, priority, resolved_by) as status,
         status_category, priority, resolved_by, resolved_at, snoozed_until, category, source,
         channel, assignee_id, contact_id, company_id, conversation_id, merged_into_id, metadata,
         custom_fields, labels, ai_confidence, escalation_reason, ai_paused, auto_created,
         first_response_at, last_customer_message_at, last_activity_at, waiting_since,
         created_at, updated_at
  from halo.tickets;

create view api.messages with (security_invoker = true) as
  select id, workspace_id, ticket_id, conversation_id, kind, direction, author_kind,
         author_user_id, author_contact_id, author_visitor_id, author_ai_agent_id,
         author_alias_user_id, body_text, body_html, email_message_id, email_in_reply_to,
         email_references, email_headers, attachments, mentions, activity, client_echo_id,
         created_at
  from halo.messages;

create view api.mentions with (security_invoker = true) as
  select message_id, user_id, workspace_id, ticket_id, created_at from halo.mentions;

create view api.message_feedback with (security_invoker = true) as
  select message_id, user_id, workspace_id, rating, correction, created_at
  from halo.message_feedback;

-- Raised by the ticket RPCs when the update matched nothing: say whether the ticket is invisible
-- (or absent) or visible but not the caller's to change.
create function halo.ticket_not_changed(p_ticket_id uuid) returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if exists (select 1 from halo.tickets where id = p_ticket_id) then
    raise exception 'changing ticket % needs Inbox: Manage permission in its workspace', p_ticket_id
      using errcode = '42501';
  end if;
  raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
end
$$;
grant execute on function halo.ticket_not_changed(uuid) to authenticated, service_role;

-- Opens a ticket. p_status is one of the seven statuses; its facts are derived here.
create function api.create_ticket(
  p_workspace_id uuid,
  p_subject text,
  p_status text default 'open',
  p_priority halo.ticket_priority default null,
  p_source text default 'api',
  p_channel halo.channel default 'email',
  p_category text default null,
  p_contact_id uuid default null,
  p_company_id uuid default null,
  p_conversation_id uuid default null,
  p_assignee_id uuid default null,
  p_metadata jsonb default '{}',
  p_custom_fields jsonb default '{}',
  p_labels text[] default '{}',
  p_ai_confidence smallint default null,
  p_escalation_reason text default null,
  p_auto_created boolean default false
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket_id uuid;
  result api.tickets;
begin
  if p_status not in ('open', 'priority', 'in_progress', 'spam') then
    raise exception 'a new ticket''s status must be open, priority, in_progress or spam, got %', p_status
      using errcode = '22023';
  end if;
  if p_metadata is not null and octet_length(p_metadata::text) > 50000 then
    raise exception 'metadata is % bytes; the limit is 50000', octet_length(p_metadata::text)
      using errcode = '22023';
  end if;
  if p_workspace_id not in (select halo.inbox_workspaces('reply')) and auth.role() <> 'service_role' then
    raise exception 'opening a ticket needs Inbox: Reply permission in workspace %', p_workspace_id
      using errcode = '42501';
  end if;
  insert into halo.tickets (
    workspace_id, subject, status_category, priority, source, channel, category, contact_id,
    company_id, conversation_id, assignee_id, metadata, custom_fields, labels, ai_confidence,
    escalation_reason, auto_created)
  values (
    p_workspace_id, coalesce(p_subject, ''),
    case p_status when 'priority' then 'open' else p_status end::halo.ticket_status_category,
    coalesce(p_priority, case when p_status = 'priority' then 'high' else 'normal' end::halo.ticket_priority),
    coalesce(p_source, 'api'), coalesce(p_channel, 'email'), p_category, p_contact_id,
    p_company_id, p_conversation_id, p_assignee_id, coalesce(p_metadata, '{}'),
    coalesce(p_custom_fields, '{}'), coalesce(p_labels, '{}'), p_ai_confidence,
    p_escalation_reason, coalesce(p_auto_created, false))
  returning id into ticket_id;
  select * into result from api.tickets where id = ticket_id;
  return result;
end
$$;
grant execute on function api.create_ticket(uuid, text, text, halo.ticket_priority, text, halo.channel,
  text, uuid, uuid, uuid, uuid, jsonb, jsonb, text[], smallint, text, boolean)
  to authenticated, service_role;

-- Moves a ticket to one of the seven statuses (manage permission). open and priority differ only
-- in priority; resolved is resolved by a human (or `auto` when no user is signed in), ai_resolved
-- by the AI; snoozed needs a future p_snoozed_until.
create function api.set_ticket_status(
  p_ticket_id uuid,
  p_status text,
  p_snoozed_until timestamptz default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  if p_status is null or p_status not in
     ('open', 'priority', 'in_progress', 'snoozed', 'resolved', 'ai_resolved', 'spam') then
    raise exception 'unknown status %; use open, priority, in_progress, snoozed, resolved, ai_resolved or spam', p_status
      using errcode = '22023';
  end if;
  if p_status = 'snoozed' and (p_snoozed_until is null or p_snoozed_until <= now()) then
    raise exception 'snoozing needs p_snoozed_until in the future' using errcode = '22023';
  end if;
  update halo.tickets t
     set status_category = case p_status when 'priority' then 'open' when 'ai_resolved' then 'resolved'
                                else p_status end::halo.ticket_status_category,
         priority = case when p_status = 'priority' and t.priority not in ('high', 'urgent')
                           then 'high'::halo.ticket_priority
                         when p_status = 'open' and t.priority in ('high', 'urgent')
                           then 'normal'::halo.ticket_priority
                         else t.priority end,
         resolved_by = case p_status when 'ai_resolved' then 'ai'::halo.resolver
                                     when 'resolved' then case when auth.uid() is null
                                                               then 'auto'::halo.resolver
                                                               else 'human'::halo.resolver end
                       end,
         snoozed_until = case when p_status = 'snoozed' then p_snoozed_until end
   where t.id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.set_ticket_status(uuid, text, timestamptz) to authenticated, service_role;

-- Assigns a ticket to a member of its workspace, or unassigns it with null (manage permission).
create function api.assign_ticket(p_ticket_id uuid, p_assignee_id uuid) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  update halo.tickets set assignee_id = p_assignee_id where id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.assign_ticket(uuid, uuid) to authenticated, service_role;

-- Changes a ticket's other fields (manage permission); null leaves a field unchanged.
create function api.update_ticket(
  p_ticket_id uuid,
  p_subject text default null,
  p_priority halo.ticket_priority default null,
  p_category text default null,
  p_labels text[] default null,
  p_metadata jsonb default null,
  p_custom_fields jsonb default null,
  p_ai_paused boolean default null,
  p_contact_id uuid default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  if p_metadata is not null and octet_length(p_metadata::text) > 50000 then
    raise exception 'metadata is % bytes; the limit is 50000', octet_length(p_metadata::text)
      using errcode = '22023';
  end if;
  update halo.tickets t
     set subject = coalesce(p_subject, t.subject),
         priority = coalesce(p_priority, t.priority),
         category = coalesce(p_category, t.category),
         labels = coalesce(p_labels, t.labels),
         metadata = coalesce(p_metadata, t.metadata),
         custom_fields = coalesce(p_custom_fields, t.custom_fields),
         ai_paused = coalesce(p_ai_paused, t.ai_paused),
         contact_id = coalesce(p_contact_id, t.contact_id)
   where t.id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.update_ticket(uuid, text, halo.ticket_priority, text, text[], jsonb, jsonb, boolean, uuid)
  to authenticated, service_role;

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
  if p_ticket_id is not null and not exists (select 1 from halo.tickets where id = p_ticket_id) then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
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

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.tickets to authenticated;
grant select, insert on halo.messages to authenticated;
grant select on halo.mentions to authenticated;
grant select, insert, update, delete on halo.message_feedback to authenticated;
grant all on halo.tickets, halo.messages, halo.mentions, halo.message_feedback to service_role;

grant select on api.tickets, api.messages, api.mentions to authenticated, service_role;
grant select, insert, update, delete on api.message_feedback to authenticated, service_role;

-- PUBLIC may execute every new function by default, and the per-schema default privileges of the
-- first migration cannot take a global default away; so each migration takes it back itself and
-- grants execute function by function (above). The catalog lint checks that none is left.
revoke execute on all functions in schema halo, api from public;
