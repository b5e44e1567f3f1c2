-- Issue 14, item 9: one rule for who records a resolver. A signed-in teammate resolves as human;
-- ai (AI Resolved) and auto are recorded only without a user, whichever call sets them
-- (api.set_ticket_status let a member set ai_resolved). The rule moves into the tickets trigger
-- and leaves api.transition_ticket.

create or replace function halo.ticket_before_write() returns trigger
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

create or replace function api.transition_ticket(
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
comment on function api.transition_ticket(p_ticket_id uuid, p_action text, p_snoozed_until timestamp with time zone, p_resolved_by text) is
  'Applies one status action to a ticket and returns it: open, mark_priority, unmark_priority, '
  'start_progress, snooze (needs p_snoozed_until in the future), resolve, reopen, mark_spam or '
  'not_spam, each valid only from certain statuses. Callable by members with Inbox permission '
  'manage and by service_role; p_resolved_by (human, ai, auto) defaults to human for teammates '
  'and auto for service_role, and only service_role may pass ai or auto. Raises HL001 for an '
  'action not valid from the current status (detail lists the valid actions), 22023 for an '
  'unknown action or bad argument, 42501 when not allowed, and P0002 when the ticket is not '
  'visible.';

comment on function api.set_ticket_status(p_ticket_id uuid, p_status text, p_snoozed_until timestamp with time zone) is
  'Moves a ticket to one of the seven statuses: open and priority only adjust the priority (open '
  'lowers high or urgent to normal, priority raises to high), resolved is recorded as resolved by '
  'a human (or auto without a signed-in user), ai_resolved as resolved by the AI (service_role '
  'only), and snoozed needs p_snoozed_until in the future. Callable by members with Inbox '
  'permission manage and by service_role. Raises 22023 for an unknown status or missing snooze '
  'time, HL001 for a move the transition guard forbids (out of spam other than to open, out of '
  'resolved other than to open or spam), 42501 when the caller can see but not change the ticket '
  'or a teammate asks for ai_resolved, and P0002 when it does not exist.';

revoke execute on all functions in schema halo, api from public;
