-- Tickets: async work items with a number, a subject, a status (ticket_status.sql), a priority,
-- an assignee, labels, a contact and company, and the timestamps the views sort by.
--
-- Every change goes through an `api` function checked against the caller's Inbox permission
-- (halo.ticket_for_action) and emits its event through halo.emit_event; a system message in the
-- thread is the audit trail of every status, assignment and priority change, written in the same
-- transaction. Stable errors (SQLSTATE, HTTP status through PostgREST): HL001 (400) invalid status
-- transition, 42501 (403) missing Inbox permission, P0002 (404) ticket not visible, 22023 (400)
-- bad input.

-- types -------------------------------------------------------------------------------------------

create domain halo.channel as text check (value in ('email', 'chat', 'voice', 'video', 'api', 'integration'));

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
  check (merged_into_id <> id),
  -- The status facts a merged source had before the merge, restored by unmerge.
  pre_merge jsonb
);

-- indexes -----------------------------------------------------------------------------------------

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

-- Indexes for the built-in views' first pages and counts (docs/performance.md).
create index tickets_active_idx on halo.tickets (workspace_id, last_activity_at desc, id desc)
  where status_category in ('open', 'in_progress');

create index tickets_assignee_active_idx on halo.tickets (workspace_id, assignee_id, last_activity_at desc)
  where status_category in ('open', 'in_progress');

create index tickets_category_idx on halo.tickets (workspace_id, category, last_activity_at desc)
  where category is not null;

create index tickets_source_idx on halo.tickets (workspace_id, source, last_activity_at desc);

create index tickets_last_activity_idx on halo.tickets (workspace_id, last_activity_at desc);

create index tickets_counts_idx on halo.tickets (workspace_id, status_category, priority, resolved_by);

-- Full-text search (language-neutral 'simple' configuration: the inbox is multilingual).
create index tickets_subject_fts_idx on halo.tickets using gin (to_tsvector('simple', subject));

-- The Priority view's first page: open tickets of high or urgent priority by last activity.
create index tickets_priority_view_idx on halo.tickets (workspace_id, last_activity_at desc)
  where status_category = 'open' and priority in ('high', 'urgent');

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
    -- One rule for every way in (set_ticket_status, transition_ticket, an update): a signed-in
    -- teammate resolves as human; ai and auto are recorded by the AI runtime and automations,
    -- which act without a user. Unmerge restoring a pre-merge resolver is no new resolution.
    if new.resolved_by <> 'human' and auth.uid() is not null
       and (tg_op = 'INSERT' or old.resolved_by is distinct from new.resolved_by)
       and coalesce(current_setting('halo.restoring', true), '') <> 'on' then
      raise exception 'a teammate resolves ticket #% as human; % is recorded only by the AI runtime and automations',
        new.number, case new.resolved_by when 'ai' then 'AI Resolved' else 'resolved by auto' end
        using errcode = '42501', hint = 'Resolve it as resolved (by a human).';
    end if;
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

create trigger tickets_guard_transition
  before update of status_category on halo.tickets
  for each row execute function halo.guard_ticket_transition();

-- row-level security ------------------------------------------------------------------------------

alter table halo.tickets enable row level security;

-- helpers -----------------------------------------------------------------------------------------

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

-- Raises 42501 unless the caller has at least `p_minimum` Inbox permission in the ticket's
-- workspace (service_role always may); P0002 when the ticket is not visible. Returns the ticket.
create function halo.ticket_for_action(p_ticket_id uuid, p_minimum halo.inbox_permission, p_what text)
returns halo.tickets
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets;
begin
  select * into ticket from halo.tickets where id = p_ticket_id;
  if ticket.id is null then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(ticket.workspace_id, p_minimum) then
    raise exception '% needs Inbox: % permission in the ticket''s workspace', p_what, initcap(p_minimum::text)
      using errcode = '42501';
  end if;
  return ticket;
end
$$;
grant execute on function halo.ticket_for_action(uuid, halo.inbox_permission, text) to authenticated, service_role;

-- The label rule, for every way labels are written: a label is 1-50 characters without commas
-- (commas would be ambiguous in filters and CSV exports). Raises 22023 naming the first bad one.
create function halo.check_labels(p_labels text[]) returns void
language plpgsql
set search_path = ''
as $$
declare
  bad text;
begin
  select l into bad from unnest(coalesce(p_labels, '{}')) l
   where l is null or length(btrim(l)) not between 1 and 50 or l like '%,%' limit 1;
  if found then
    raise exception 'invalid label %: 1-50 characters, no commas', coalesce(quote_literal(bad), 'null')
      using errcode = '22023';
  end if;
end
$$;
grant execute on function halo.check_labels(text[]) to authenticated, service_role;

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

-- api ---------------------------------------------------------------------------------------------

create view api.tickets with (security_invoker = true) as
  select id, workspace_id, number, subject,
         halo.ticket_status(status_category, priority, resolved_by) as status,
         status_category, priority, resolved_by, resolved_at, snoozed_until, category, source,
         channel, assignee_id, contact_id, company_id, conversation_id, merged_into_id, metadata,
         custom_fields, labels, ai_confidence, escalation_reason, ai_paused, auto_created,
         first_response_at, last_customer_message_at, last_activity_at, waiting_since,
         created_at, updated_at
  from halo.tickets;
comment on view api.tickets is
  'Tickets of the workspaces the caller can read (Inbox permission view or higher), with the '
  'derived status (open, priority, in_progress, snoozed, resolved, ai_resolved, spam) next to its '
  'stored facts status_category, priority and resolved_by, plus assignee, customer links, labels, '
  'custom fields, AI fields and activity timestamps. Read-only: change tickets through the ticket '
  'RPCs.';

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
  if p_status is null or p_status not in ('open', 'priority', 'in_progress', 'spam') then
    raise exception 'a new ticket''s status must be open, priority, in_progress or spam, got %', p_status
      using errcode = '22023';
  end if;
  -- Priority is an open ticket of high or urgent priority (ticket_status.sql): a lower priority
  -- would open the ticket as plain Open, not what the caller asked for.
  if p_status = 'priority' and p_priority not in ('high', 'urgent') then
    raise exception 'status priority needs priority high or urgent (or none, for high), got %', p_priority
      using errcode = '22023';
  end if;
  if p_metadata is not null and octet_length(p_metadata::text) > 50000 then
    raise exception 'metadata is % bytes; the limit is 50000', octet_length(p_metadata::text)
      using errcode = '22023';
  end if;
  perform halo.check_labels(p_labels);
  if not halo.has_inbox_permission(p_workspace_id, 'reply') then
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
comment on function api.create_ticket(p_workspace_id uuid, p_subject text, p_status text, p_priority halo.ticket_priority, p_source text, p_channel halo.channel, p_category text, p_contact_id uuid, p_company_id uuid, p_conversation_id uuid, p_assignee_id uuid, p_metadata jsonb, p_custom_fields jsonb, p_labels text[], p_ai_confidence smallint, p_escalation_reason text, p_auto_created boolean) is
  'Opens a ticket in p_workspace_id and returns it; p_status must be open, priority, in_progress '
  'or spam (priority means an open ticket with priority high unless p_priority is given). '
  'Callable by members with Inbox permission reply (assigning someone other than themselves needs '
  'manage) and by service_role. Raises 22023 for an invalid status or metadata over 50000 bytes, '
  '42501 when not allowed, and 23503 when a linked contact, company or conversation is not in the '
  'workspace.';

-- Moves a ticket to one of the seven statuses (manage permission). open and priority differ only
-- in priority; resolved is resolved by a human (or `auto` when no user is signed in), ai_resolved
-- by the AI (service role only: halo.ticket_before_write); snoozed needs a future p_snoozed_until.
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
comment on function api.set_ticket_status(p_ticket_id uuid, p_status text, p_snoozed_until timestamp with time zone) is
  'Moves a ticket to one of the seven statuses: open and priority only adjust the priority (open '
  'lowers high or urgent to normal, priority raises to high), resolved is recorded as resolved by '
  'a human (or auto without a signed-in user), ai_resolved as resolved by the AI (service_role '
  'only), and snoozed needs p_snoozed_until in the future. Callable by members with Inbox '
  'permission manage and by service_role. Raises 22023 for an unknown status or missing snooze '
  'time, HL001 for a move the transition guard forbids (out of spam other than to open, out of '
  'resolved other than to open or spam), 42501 when the caller can see but not change the ticket '
  'or a teammate asks for ai_resolved, and P0002 when it does not exist.';

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
comment on function api.assign_ticket(p_ticket_id uuid, p_assignee_id uuid) is
  'Assigns a ticket to a member of its workspace, or unassigns it when p_assignee_id is null, and '
  'returns the ticket. Callable by members with Inbox permission manage and by service_role; '
  'raises 42501 when the caller can see but not change the ticket, P0002 when it does not exist, '
  'and 23503 when the assignee is not a member of the workspace.';

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
  perform halo.check_labels(p_labels);
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
comment on function api.update_ticket(p_ticket_id uuid, p_subject text, p_priority halo.ticket_priority, p_category text, p_labels text[], p_metadata jsonb, p_custom_fields jsonb, p_ai_paused boolean, p_contact_id uuid) is
  'Changes the subject, priority, category, labels, metadata, custom fields, ai_paused flag or '
  'contact of a ticket; a null argument leaves that field unchanged (fields cannot be cleared '
  'here). Callable by members with Inbox permission manage and by service_role; raises 22023 for '
  'metadata over 50000 bytes, 42501 when the caller can see but not change the ticket, and P0002 '
  'when it does not exist.';

-- One status action on a ticket (Inbox: Manage). Actions and where they are valid:
--   open            in_progress or snoozed -> open         mark_priority   open/in_progress/snoozed -> priority
--   unmark_priority priority -> open                       start_progress  open/priority/snoozed -> in_progress
--   snooze          open/priority/in_progress/snoozed -> snoozed (p_snoozed_until in the future)
--   resolve         open/priority/in_progress/snoozed -> resolved (p_resolved_by: human for
--                   teammates; ai or auto only for service_role)
--   reopen          resolved/ai_resolved -> open          mark_spam   anything but spam -> spam
--   not_spam        spam -> open
-- Anything else raises HL001 naming the ticket's status and the valid actions.
create function api.transition_ticket(
  p_ticket_id uuid,
  p_action text,
  p_snoozed_until timestamptz default null,
  p_resolved_by text default null
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'manage', 'changing a ticket''s status');
  current_status text := halo.ticket_status(ticket.status_category, ticket.priority, ticket.resolved_by);
  valid text[] := case current_status
    when 'open' then array['mark_priority', 'start_progress', 'snooze', 'resolve', 'mark_spam']
    when 'priority' then array['unmark_priority', 'start_progress', 'snooze', 'resolve', 'mark_spam']
    when 'in_progress' then array['open', 'mark_priority', 'snooze', 'resolve', 'mark_spam']
    when 'snoozed' then array['open', 'mark_priority', 'start_progress', 'snooze', 'resolve', 'mark_spam']
    when 'resolved' then array['reopen', 'mark_spam']
    when 'ai_resolved' then array['reopen', 'mark_spam']
    else array['not_spam'] end;
  resolver halo.resolver;
  result api.tickets;
begin
  if p_action is null or p_action not in ('open', 'mark_priority', 'unmark_priority', 'start_progress',
      'snooze', 'resolve', 'reopen', 'mark_spam', 'not_spam') then
    raise exception 'unknown action %; use open, mark_priority, unmark_priority, start_progress, snooze, resolve, reopen, mark_spam or not_spam', p_action
      using errcode = '22023';
  end if;
  if not p_action = any (valid) then
    raise exception 'cannot % a ticket that is %', replace(p_action, '_', ' '), current_status
      using errcode = 'HL001',
            detail = jsonb_build_object('status', current_status, 'action', p_action, 'valid_actions', valid)::text,
            hint = format('From %s the valid actions are: %s.', current_status, array_to_string(valid, ', '));
  end if;
  if p_action = 'snooze' and (p_snoozed_until is null or p_snoozed_until <= now()) then
    raise exception 'snoozing needs p_snoozed_until in the future' using errcode = '22023';
  end if;
  if p_action = 'resolve' then
    if p_resolved_by is not null and p_resolved_by not in ('human', 'ai', 'auto') then
      raise exception 'p_resolved_by must be human, ai or auto, got %', p_resolved_by using errcode = '22023';
    end if;
    -- Who may record ai or auto is the tickets trigger's rule (halo.ticket_before_write).
    resolver := coalesce(p_resolved_by, case when auth.uid() is null then 'auto' else 'human' end);
  end if;

  update halo.tickets t
     set status_category = case p_action
           when 'start_progress' then 'in_progress'
           when 'snooze' then 'snoozed'
           when 'resolve' then 'resolved'
           when 'mark_spam' then 'spam'
           else 'open' end::halo.ticket_status_category,
         priority = case
           when p_action = 'mark_priority' and t.priority not in ('high', 'urgent') then 'high'
           when p_action in ('unmark_priority', 'open') and t.priority in ('high', 'urgent') then 'normal'
           else t.priority end::halo.ticket_priority,
         resolved_by = resolver,
         snoozed_until = case when p_action = 'snooze' then p_snoozed_until end
   where t.id = p_ticket_id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.transition_ticket(uuid, text, timestamptz, text) to authenticated, service_role;
comment on function api.transition_ticket(p_ticket_id uuid, p_action text, p_snoozed_until timestamp with time zone, p_resolved_by text) is
  'Applies one status action to a ticket and returns it: open, mark_priority, unmark_priority, '
  'start_progress, snooze (needs p_snoozed_until in the future), resolve, reopen, mark_spam or '
  'not_spam, each valid only from certain statuses. Callable by members with Inbox permission '
  'manage and by service_role; p_resolved_by (human, ai, auto) defaults to human for teammates '
  'and auto for service_role, and only service_role may pass ai or auto. Raises HL001 for an '
  'action not valid from the current status (detail lists the valid actions), 22023 for an '
  'unknown action or bad argument, 42501 when not allowed, and P0002 when the ticket is not '
  'visible.';

-- Adds and removes labels (Inbox: Manage). A label is 1-50 characters without commas.
create function api.set_ticket_labels(
  p_ticket_id uuid, p_add text[] default '{}', p_remove text[] default '{}'
) returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'manage', 'labelling a ticket');
  result api.tickets;
begin
  perform halo.check_labels(p_add);
  if array_position(p_remove, null) is not null then
    raise exception 'p_remove holds a null; name the labels to remove' using errcode = '22023';
  end if;
  update halo.tickets t
     set labels = array(select distinct l from unnest(t.labels || coalesce(p_add, '{}')) l
                        where l <> all (coalesce(p_remove, '{}')) order by l)
   where t.id = ticket.id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.set_ticket_labels(uuid, text[], text[]) to authenticated, service_role;
comment on function api.set_ticket_labels(p_ticket_id uuid, p_add text[], p_remove text[]) is
  'Adds the labels in p_add and removes those in p_remove, keeping the labels sorted and '
  'distinct, and returns the ticket; a label is 1 to 50 characters without commas. Callable by '
  'members with Inbox permission manage and by service_role; raises 22023 for an invalid label, '
  '42501 when not allowed, and P0002 when the ticket is not visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.tickets to authenticated;

grant all on halo.tickets to service_role;

grant select on api.tickets to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
