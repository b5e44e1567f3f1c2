-- Ticket status: the stored facts and Halo's seven statuses derived from them.
--
-- A ticket stores orthogonal facts: a category (open, in_progress, snoozed, resolved, spam), a
-- priority, and who resolved it (human, ai, auto). halo.ticket_status() derives the seven statuses
-- the Inbox shows (Open, Priority, In Progress, Snoozed, Resolved, AI Resolved, Spam): Priority is
-- an open ticket of high or urgent priority, AI Resolved a ticket the AI resolved. Filters and
-- metrics never untangle an overloaded status column.
--
-- Transitions: halo.guard_ticket_transition refuses the moves that are never valid, whoever makes
-- them (out of spam only to open; out of resolved only to open or spam), with HL001. The API calls
-- that change a status, api.set_ticket_status and api.transition_ticket, are in tickets.sql: they
-- need the tickets table, which needs these types first. Who may record a resolver is one rule in
-- halo.ticket_before_write (tickets.sql): a signed-in teammate resolves as human; ai (AI Resolved)
-- and auto only without a user (AI runtime, automations), else 42501.

-- types -------------------------------------------------------------------------------------------

-- Text domains rather than enums for every column the inbox filters on: enum equality is not
-- leakproof, so behind row-level security PostgreSQL evaluates `status_category = 'open'` only
-- after the policy and cannot use an index for it (measured on 1M tickets: 128 ms instead of
-- 1 ms for a page of the inbox). Text equality is leakproof. Priority therefore sorts as text;
-- order by a case expression where rank matters.

create domain halo.ticket_status_category as text check (value in ('open', 'in_progress', 'snoozed', 'resolved', 'spam'));

create domain halo.ticket_priority as text check (value in ('low', 'normal', 'high', 'urgent'));

create domain halo.resolver as text check (value in ('human', 'ai', 'auto'));

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

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
