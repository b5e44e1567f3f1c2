-- Snooze: a snoozed ticket wakes at snoozed_until. Setting or moving the time schedules a
-- `ticket.wake` job for that moment (dedupe key per ticket and time); api.wake_ticket, called by
-- the job or by a client, wakes it only when it is still due, so a moved snooze's old job finds
-- nothing to do. A customer reply wakes a ticket at once (messages.sql). Waking resets the
-- waiting clocks and emits ticket.woken.

-- triggers ----------------------------------------------------------------------------------------

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

-- api ---------------------------------------------------------------------------------------------

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
comment on function api.wake_ticket(p_ticket_id uuid, p_snoozed_until timestamp with time zone) is
  'Handler of the ticket.wake job: reopens a snoozed ticket whose snoozed_until has passed (and, '
  'when p_snoozed_until is given, still equals it) and returns the ticket. Idempotent: a ticket '
  'already woken or snoozed again is returned unchanged. service_role only; raises P0002 when the '
  'ticket does not exist.';

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
