-- Merge: a duplicate ticket (the source) is merged into another (the target) of the same customer.
-- The source's messages move to the target, remembering where they came from; the source keeps its
-- pre-merge status facts and is closed. A later reply threaded to the source follows it to the
-- target (halo.redirect_merged_message, halo.ticket_after_merges). Unmerge moves the messages back
-- and restores the source's status. Refusals raise HL002 (different customers, already merged,
-- merging into itself).

-- triggers ----------------------------------------------------------------------------------------

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

-- helpers -----------------------------------------------------------------------------------------

-- Follows merged tickets to the one that is still in use.
create function halo.ticket_after_merges(p_ticket_id uuid) returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  current_id uuid := p_ticket_id;
  next_id uuid;
begin
  for hop in 1..20 loop
    select merged_into_id into next_id from halo.tickets where id = current_id;
    exit when next_id is null;
    current_id := next_id;
  end loop;
  return current_id;
end
$$;
revoke execute on function halo.ticket_after_merges(uuid) from public;
grant execute on function halo.ticket_after_merges(uuid) to service_role;

-- api ---------------------------------------------------------------------------------------------

-- Merges a duplicate (source) into a target of the same customer (Inbox: Manage). The source's
-- messages, notes and mentions move to the target, each remembering where it came from; the
-- source is resolved and marked merged_into the target; later messages to the source land on the
-- target. Security definer because teammates have no UPDATE on messages; it checks the caller.
create function halo.merge_tickets(p_source_id uuid, p_target_id uuid) returns api.tickets
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
     or not halo.has_inbox_permission(source.workspace_id, 'view')
     or not halo.has_inbox_permission(target.workspace_id, 'view') then
    raise exception 'ticket % does not exist', case when source.id is null then p_source_id else p_target_id end
      using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(source.workspace_id, 'manage') then
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
grant execute on function halo.merge_tickets(uuid, uuid) to authenticated, service_role;

-- The API face of halo.merge_tickets: it runs as the caller; only the private body holds definer rights.
create function api.merge_tickets(p_source_id uuid, p_target_id uuid) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.merge_tickets(p_source_id, p_target_id)
$$;
grant execute on function api.merge_tickets(uuid, uuid) to authenticated, service_role;
comment on function api.merge_tickets(p_source_id uuid, p_target_id uuid) is
  'Merges the duplicate ticket p_source_id into p_target_id of the same contact: the non-system '
  'messages and mentions of the source move to the target, the labels are combined, the source is '
  'resolved and marked merged_into the target, and later messages to the source land on the '
  'target. Returns the target. Callable by members with Inbox permission manage and by '
  'service_role; raises 22023 unless two different tickets are given, P0002 when a ticket is not '
  'visible, 42501 when not allowed, and HL002 for tickets of different workspaces or customers, a '
  'source without contact, or a ticket already merged.';

-- Undoes a merge (Inbox: Manage): the messages that came from the source move back, and the source
-- gets back its status from before the merge. Messages that reached the target after the merge
-- (redirected follow-ups included) stay on the target. Returns the source.
create function halo.unmerge_ticket(p_source_id uuid) returns api.tickets
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
  if source.id is null or not halo.has_inbox_permission(source.workspace_id, 'view') then
    raise exception 'ticket % does not exist', p_source_id using errcode = 'P0002';
  end if;
  if not halo.has_inbox_permission(source.workspace_id, 'manage') then
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
grant execute on function halo.unmerge_ticket(uuid) to authenticated, service_role;

-- The API face of halo.unmerge_ticket: it runs as the caller; only the private body holds definer rights.
create function api.unmerge_ticket(p_source_id uuid) returns api.tickets
language sql
security invoker
set search_path = ''
as $$
  select * from halo.unmerge_ticket(p_source_id)
$$;
grant execute on function api.unmerge_ticket(uuid) to authenticated, service_role;
comment on function api.unmerge_ticket(p_source_id uuid) is
  'Undoes a merge: the messages that came from the source move back and the source gets back its '
  'status from before the merge (a snooze that has since passed becomes open); messages that '
  'reached the target after the merge stay there. Returns the source ticket. Callable by members '
  'with Inbox permission manage and by service_role; raises P0002 when the ticket is not visible, '
  '42501 when not allowed, and HL002 when the ticket is not merged.';

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
