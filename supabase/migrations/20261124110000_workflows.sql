-- Ticket workflows (issue 6): status transitions with a guard, snooze and its wake-up job, replies
-- with the send guard and @mentions, merge / unmerge with follow-up redirect, pause AI / pass back
-- to AI, labels. Everything a client may do goes through an `api` function checked against the
-- caller's Inbox permission; every change emits its event through halo.emit_event.
--
-- Stable errors (SQLSTATE, PostgREST HTTP status):
--   HL001 (400)  invalid status transition ("cannot resolve a spam ticket ...")
--   PT409 (409)  send guard: the ticket changed since the seq the caller saw; details = JSON list
--   HL002 (400)  merge refused (different customers, already merged, ...)
--   42501 (403)  missing Inbox permission;  P0002 (404-ish) ticket not visible;  22023 bad input

-- tables ------------------------------------------------------------------------------------------

-- The ticket a message was merged from, so unmerge can move it back.
alter table halo.messages add column merged_from_ticket_id uuid
  references halo.tickets (id) on delete set null;
create index messages_merged_from_ticket_id_idx on halo.messages (merged_from_ticket_id)
  where merged_from_ticket_id is not null;

-- The status facts a merged source had before the merge, restored by unmerge.
alter table halo.tickets add column pre_merge jsonb;

-- triggers ----------------------------------------------------------------------------------------

-- Status moves that are never valid, whoever makes them: out of spam only to open (not spam), out
-- of resolved only to open (reopen) or spam. Unmerge restores a pre-merge status and sets
-- halo.restoring for the length of its update.
create function halo.guard_ticket_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status_category = old.status_category
     or coalesce(current_setting('halo.restoring', true), '') = 'on' then
    return new;
  end if;
  if (old.status_category = 'spam' and new.status_category <> 'open')
     or (old.status_category = 'resolved' and new.status_category not in ('open', 'spam')) then
    raise exception 'cannot move ticket #% from % to %', old.number,
      halo.ticket_status(old.status_category, old.priority, old.resolved_by),
      halo.ticket_status(new.status_category, new.priority, new.resolved_by)
      using errcode = 'HL001',
            hint = case old.status_category when 'spam' then 'Mark it not spam first; it reopens as open.'
                   else 'Reopen it first.' end;
  end if;
  return new;
end
$$;

create trigger tickets_guard_transition
  before update of status_category on halo.tickets
  for each row execute function halo.guard_ticket_transition();

-- Waking (snoozed -> open or in progress, by the timer, a customer reply or a teammate) resets the
-- waiting and activity clocks, so nothing that ages tickets re-closes it straight away.
create function halo.reset_clocks_on_wake() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status_category = 'snoozed' and new.status_category in ('open', 'in_progress') then
    new.waiting_since := now();
    new.last_activity_at := greatest(new.last_activity_at, now());
  end if;
  return new;
end
$$;

create trigger tickets_reset_clocks_on_wake
  before update of status_category on halo.tickets
  for each row execute function halo.reset_clocks_on_wake();

-- Snoozing schedules the wake-up job at snoozed_until (one per ticket and time, so re-snoozing
-- schedules a new one and the old one finds the ticket no longer due); waking emits ticket.woken
-- with its reason (timer, customer_reply or teammate).
create function halo.ticket_snooze_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status_category = 'snoozed'
     and (tg_op = 'INSERT' or old.status_category <> 'snoozed' or old.snoozed_until <> new.snoozed_until) then
    perform halo.enqueue_job('ticket.wake',
      jsonb_build_object('ticket_id', new.id, 'snoozed_until', new.snoozed_until),
      'ticket.wake:' || new.id || ':' || extract(epoch from new.snoozed_until),
      new.workspace_id, new.snoozed_until);
    perform halo.emit_event(new.workspace_id, 'ticket.snoozed', new.id, new.conversation_id,
      jsonb_build_object('snoozed_until', new.snoozed_until));
  elsif tg_op = 'UPDATE' and old.status_category = 'snoozed' and new.status_category in ('open', 'in_progress') then
    perform halo.emit_event(new.workspace_id, 'ticket.woken', new.id, new.conversation_id,
      jsonb_build_object('reason', case
        when new.last_customer_message_at is distinct from old.last_customer_message_at then 'customer_reply'
        when coalesce(current_setting('halo.wake_reason', true), '') = 'timer' then 'timer'
        else 'teammate' end));
  end if;
  return null;
end
$$;

create trigger tickets_snooze_changed
  after insert or update of status_category, snoozed_until on halo.tickets
  for each row execute function halo.ticket_snooze_changed();

-- A message written to a merged ticket (an email follow-up, a late API call) lands on the ticket it
-- was merged into, following the chain. Named to run before messages_before_insert.
create function halo.redirect_merged_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  target uuid;
  hops integer := 0;
begin
  if new.ticket_id is null or new.kind = 'system' then
    return new;
  end if;
  loop
    select merged_into_id into target from halo.tickets where id = new.ticket_id;
    exit when target is null or hops >= 20;
    new.ticket_id := target;
    hops := hops + 1;
  end loop;
  return new;
end
$$;

create trigger messages_a_redirect_merged
  before insert on halo.messages
  for each row execute function halo.redirect_merged_message();

-- Each mention emits mention.created, which feeds the mentioned teammate's notifications.
create function halo.mention_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.emit_event(new.workspace_id, 'mention.created', new.ticket_id, null,
    jsonb_build_object('message_id', new.message_id, 'user_id', new.user_id));
  return null;
end
$$;

create trigger mentions_emit_event
  after insert on halo.mentions
  for each row execute function halo.mention_created();

-- helpers -----------------------------------------------------------------------------------------

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
  if auth.uid() is not null and ticket.workspace_id not in (select halo.inbox_workspaces(p_minimum)) then
    raise exception '% needs Inbox: % permission in the ticket''s workspace', p_what, initcap(p_minimum::text)
      using errcode = '42501';
  end if;
  return ticket;
end
$$;
grant execute on function halo.ticket_for_action(uuid, halo.inbox_permission, text) to authenticated, service_role;

-- Members mentioned as @handle in a text: a handle is the display name's letters and digits,
-- lower-cased ("Maya Manager" -> @mayamanager), or the local part of the member's email alias.
create function halo.mentioned_members(p_workspace_id uuid, p_text text) returns uuid[]
language sql stable
security invoker
set search_path = ''
as $$
  select coalesce(array_agg(distinct m.user_id), '{}')
  from halo.members m
  join (select lower(match[1]) as handle
        from regexp_matches(coalesce(p_text, ''), '(?:^|[^[:alnum:]_.])@([[:alnum:]_]+(?:[.-][[:alnum:]_]+)*)', 'g') as match) h
    on h.handle = lower(regexp_replace(m.display_name, '[^[:alnum:]]', '', 'g'))
    or h.handle = lower(split_part(m.email_alias, '@', 1))
  where m.workspace_id = p_workspace_id
$$;
grant execute on function halo.mentioned_members(uuid, text) to authenticated, service_role;

-- API objects -------------------------------------------------------------------------------------

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
    resolver := coalesce(p_resolved_by, case when auth.uid() is null then 'auto' else 'human' end);
    if auth.uid() is not null and resolver <> 'human' then
      raise exception 'a teammate resolves as human; ai and auto are recorded by the AI runtime and automations'
        using errcode = '42501';
    end if;
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

-- The snooze wake-up job's handler (service_role): wakes the ticket if it is still snoozed and due
-- (and, when given, still snoozed until p_snoozed_until). Idempotent: a ticket already woken or
-- re-snoozed is returned unchanged.
create function api.wake_ticket(p_ticket_id uuid, p_snoozed_until timestamptz default null)
returns api.tickets
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.tickets;
begin
  perform set_config('halo.wake_reason', 'timer', true);
  update halo.tickets
     set status_category = 'open'
   where id = p_ticket_id and status_category = 'snoozed' and snoozed_until <= now()
     and (p_snoozed_until is null or snoozed_until = p_snoozed_until);
  perform set_config('halo.wake_reason', '', true);
  select * into result from api.tickets where id = p_ticket_id;
  if result.id is null then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  return result;
end
$$;
grant execute on function api.wake_ticket(uuid, timestamptz) to service_role;

-- A teammate's reply (chat or email) or internal note (Inbox: Reply), optionally as an alias user.
-- The send guard: p_last_seen_seq is the last event seq the caller's screen reflects; if a
-- customer message or another teammate's reply or note reached the ticket after it, nothing is
-- written and PT409 (HTTP 409) says what changed (details: JSON list of those messages).
-- Notes record @handle mentions (see halo.mentioned_members).
create function api.reply_to_ticket(
  p_ticket_id uuid,
  p_kind text,
  p_body_text text,
  p_last_seen_seq bigint,
  p_body_html text default null,
  p_alias_user_id uuid default null,
  p_client_echo_id text default null
) returns api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'reply', 'replying');
  conflicts jsonb;
begin
  if p_kind is null or p_kind not in ('chat', 'email', 'note') then
    raise exception 'p_kind must be chat, email or note, got %', p_kind using errcode = '22023';
  end if;
  if p_last_seen_seq is null or p_last_seen_seq < 0 then
    raise exception 'p_last_seen_seq (the last event seq you saw) is required' using errcode = '22023';
  end if;
  if ticket.merged_into_id is not null then
    raise exception 'ticket #% was merged into another ticket; reply there', ticket.number
      using errcode = 'HL002', detail = jsonb_build_object('merged_into_id', ticket.merged_into_id)::text;
  end if;
  select jsonb_agg(jsonb_build_object('seq', e.seq, 'message_id', e.data ->> 'message_id',
                                      'kind', e.data ->> 'kind', 'author_kind', e.data ->> 'author_kind',
                                      'actor_user_id', e.actor_user_id) order by e.seq)
    into conflicts
    from halo.events e
   where e.workspace_id = ticket.workspace_id and e.seq > p_last_seen_seq
     and e.ticket_id = p_ticket_id and e.name = 'message.created'
     and e.data ->> 'kind' in ('chat', 'email', 'note')
     and (e.data ->> 'author_kind' = 'customer'
          or (e.data ->> 'author_kind' in ('teammate', 'alias_user')
              and e.actor_user_id is distinct from auth.uid()));
  if conflicts is not null then
    raise exception 'ticket #% changed since seq %: % new message(s) (%)', ticket.number, p_last_seen_seq,
      jsonb_array_length(conflicts),
      (select string_agg(distinct case when c ->> 'author_kind' = 'customer' then 'customer message'
                                       when c ->> 'kind' = 'note' then 'teammate note'
                                       else 'teammate reply' end, ', ')
         from jsonb_array_elements(conflicts) c)
      using errcode = 'PT409', detail = conflicts::text,
            hint = 'Read the new messages, then send again with the latest seq.';
  end if;
  return api.append_message(
    p_ticket_id => p_ticket_id,
    p_kind => p_kind::halo.message_kind,
    p_body_text => p_body_text,
    p_body_html => p_body_html,
    p_author_kind => case when p_alias_user_id is null then 'teammate' else 'alias_user' end::halo.author_kind,
    p_author_alias_user_id => p_alias_user_id,
    p_mentions => case when p_kind = 'note'
                       then halo.mentioned_members(ticket.workspace_id, p_body_text) else '{}' end,
    p_client_echo_id => p_client_echo_id);
end
$$;
grant execute on function api.reply_to_ticket(uuid, text, text, bigint, text, uuid, text) to authenticated;

-- Merges a duplicate (source) into a target of the same customer (Inbox: Manage). The source's
-- messages, notes and mentions move to the target, each remembering where it came from; the
-- source is resolved and marked merged_into the target; later messages to the source land on the
-- target. Security definer because teammates have no UPDATE on messages; it checks the caller.
create function api.merge_tickets(p_source_id uuid, p_target_id uuid) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  source halo.tickets;
  target halo.tickets;
  moved integer;
  result api.tickets;
begin
  if p_source_id is null or p_target_id is null or p_source_id = p_target_id then
    raise exception 'merging needs two different tickets' using errcode = '22023';
  end if;
  -- Lock both in id order so two opposite merges cannot deadlock.
  perform 1 from halo.tickets where id in (p_source_id, p_target_id) order by id for update;
  select * into source from halo.tickets where id = p_source_id;
  select * into target from halo.tickets where id = p_target_id;
  if source.id is null or target.id is null
     or (auth.uid() is not null and (source.workspace_id not in (select halo.inbox_workspaces('view'))
                                     or target.workspace_id not in (select halo.inbox_workspaces('view')))) then
    raise exception 'ticket % does not exist', case when source.id is null then p_source_id else p_target_id end
      using errcode = 'P0002';
  end if;
  if auth.uid() is not null and source.workspace_id not in (select halo.inbox_workspaces('manage')) then
    raise exception 'merging tickets needs Inbox: Manage permission' using errcode = '42501';
  end if;
  if source.workspace_id <> target.workspace_id then
    raise exception 'tickets of different workspaces cannot be merged' using errcode = 'HL002';
  end if;
  if source.contact_id is null or source.contact_id is distinct from target.contact_id then
    raise exception 'only tickets of the same customer can be merged (#% and #%)', source.number, target.number
      using errcode = 'HL002', hint = 'Both tickets need the same contact.';
  end if;
  if source.merged_into_id is not null or target.merged_into_id is not null then
    raise exception 'ticket #% is already merged into another ticket',
      case when source.merged_into_id is not null then source.number else target.number end
      using errcode = 'HL002', hint = 'Unmerge it first, or merge into the ticket it was merged into.';
  end if;

  update halo.messages
     set ticket_id = p_target_id, merged_from_ticket_id = coalesce(merged_from_ticket_id, p_source_id)
   where ticket_id = p_source_id and kind <> 'system';
  get diagnostics moved = row_count;
  update halo.mentions set ticket_id = p_target_id
   where ticket_id = p_source_id;

  perform set_config('halo.restoring', 'on', true);
  update halo.tickets
     set pre_merge = jsonb_build_object('status_category', status_category, 'priority', priority,
                                        'resolved_by', resolved_by, 'snoozed_until', snoozed_until),
         merged_into_id = p_target_id,
         status_category = 'resolved', resolved_by = 'human'
   where id = p_source_id;
  perform set_config('halo.restoring', '', true);
  update halo.tickets
     set last_activity_at = greatest(last_activity_at, source.last_activity_at),
         labels = array(select distinct l from unnest(labels || source.labels) l order by l)
   where id = p_target_id;
  insert into halo.messages (ticket_id, kind, direction, author_kind, author_user_id, activity)
  values (p_target_id, 'system', 'internal', 'system', auth.uid(),
          jsonb_build_object('action', 'merged', 'from', p_source_id, 'to', p_target_id, 'messages', moved));

  perform halo.emit_event(target.workspace_id, 'ticket.merged', p_target_id, target.conversation_id,
    jsonb_build_object('source_id', p_source_id, 'target_id', p_target_id, 'messages', moved));
  perform halo.emit_event(source.workspace_id, 'ticket.merged', p_source_id, source.conversation_id,
    jsonb_build_object('source_id', p_source_id, 'target_id', p_target_id, 'messages', moved));
  select * into result from api.tickets where id = p_target_id;
  return result;
end
$$;
grant execute on function api.merge_tickets(uuid, uuid) to authenticated, service_role;

-- Undoes a merge (Inbox: Manage): the messages that came from the source move back, and the source
-- gets back its status from before the merge. Messages that reached the target after the merge
-- (redirected follow-ups included) stay on the target. Returns the source.
create function api.unmerge_ticket(p_source_id uuid) returns api.tickets
language plpgsql
security definer
set search_path = ''
as $$
declare
  source halo.tickets;
  target_id uuid;
  moved integer;
  result api.tickets;
begin
  select * into source from halo.tickets where id = p_source_id for update;
  if source.id is null
     or (auth.uid() is not null and source.workspace_id not in (select halo.inbox_workspaces('view'))) then
    raise exception 'ticket % does not exist', p_source_id using errcode = 'P0002';
  end if;
  if auth.uid() is not null and source.workspace_id not in (select halo.inbox_workspaces('manage')) then
    raise exception 'unmerging tickets needs Inbox: Manage permission' using errcode = '42501';
  end if;
  if source.merged_into_id is null then
    raise exception 'ticket #% is not merged', source.number using errcode = 'HL002';
  end if;
  target_id := source.merged_into_id;

  update halo.messages set ticket_id = p_source_id, merged_from_ticket_id = null
   where merged_from_ticket_id = p_source_id;
  get diagnostics moved = row_count;
  update halo.mentions mn set ticket_id = p_source_id
    from halo.messages m
   where m.id = mn.message_id and m.ticket_id = p_source_id and mn.ticket_id is distinct from p_source_id;

  perform set_config('halo.restoring', 'on', true);
  update halo.tickets
     set merged_into_id = null,
         pre_merge = null,
         status_category = case when (source.pre_merge ->> 'status_category') = 'snoozed'
                                     and (source.pre_merge ->> 'snoozed_until')::timestamptz <= now()
                                then 'open'
                                else coalesce(source.pre_merge ->> 'status_category', 'open') end,
         priority = coalesce(source.pre_merge ->> 'priority', source.priority),
         resolved_by = (source.pre_merge ->> 'resolved_by'),
         snoozed_until = case when (source.pre_merge ->> 'snoozed_until')::timestamptz > now()
                              then (source.pre_merge ->> 'snoozed_until')::timestamptz end
   where id = p_source_id;
  perform set_config('halo.restoring', '', true);
  insert into halo.messages (ticket_id, kind, direction, author_kind, author_user_id, activity)
  values (target_id, 'system', 'internal', 'system', auth.uid(),
          jsonb_build_object('action', 'unmerged', 'from', target_id, 'to', p_source_id, 'messages', moved));

  perform halo.emit_event(source.workspace_id, 'ticket.unmerged', p_source_id, source.conversation_id,
    jsonb_build_object('source_id', p_source_id, 'target_id', target_id, 'messages', moved));
  perform halo.emit_event(source.workspace_id, 'ticket.unmerged', target_id, null,
    jsonb_build_object('source_id', p_source_id, 'target_id', target_id, 'messages', moved));
  select * into result from api.tickets where id = p_source_id;
  return result;
end
$$;
grant execute on function api.unmerge_ticket(uuid) to authenticated, service_role;

-- Pause the AI on a ticket, or pass it back to the AI (Inbox: Reply, as for conversations). The
-- linked live conversation follows; ticket.ai_paused / ticket.ai_resumed tell the AI runtime.
create function api.set_ticket_ai_paused(p_ticket_id uuid, p_paused boolean) returns api.tickets
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
  if ticket.id is null or (auth.uid() is not null
                           and ticket.workspace_id not in (select halo.inbox_workspaces('view'))) then
    raise exception 'ticket % does not exist', p_ticket_id using errcode = 'P0002';
  end if;
  if auth.uid() is not null and ticket.workspace_id not in (select halo.inbox_workspaces('reply')) then
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
grant execute on function api.set_ticket_ai_paused(uuid, boolean) to authenticated, service_role;

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
  bad text;
  result api.tickets;
begin
  select l into bad from unnest(coalesce(p_add, '{}')) l
   where l is null or length(btrim(l)) not between 1 and 50 or l like '%,%' limit 1;
  if found then
    raise exception 'invalid label %: 1-50 characters, no commas', coalesce(quote_literal(bad), 'null')
      using errcode = '22023';
  end if;
  update halo.tickets t
     set labels = array(select distinct l from unnest(t.labels || coalesce(p_add, '{}')) l
                        where not l = any (coalesce(p_remove, '{}')) order by l)
   where t.id = ticket.id;
  if not found then
    perform halo.ticket_not_changed(p_ticket_id);
  end if;
  select * into result from api.tickets where id = p_ticket_id;
  return result;
end
$$;
grant execute on function api.set_ticket_labels(uuid, text[], text[]) to authenticated, service_role;

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute every new function by default; each migration takes it back itself.
revoke execute on all functions in schema halo, api from public;
