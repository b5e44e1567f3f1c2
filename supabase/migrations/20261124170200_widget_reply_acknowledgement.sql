-- Teammate replies queued for a closed widget are delivered at least once (they were at most once).
--
-- Before: api.set_widget_open(..., true) returned the queued replies and deleted them in the same
-- statement, so a runtime that crashed or lost the HTTP response before showing them lost the
-- delivery (the text stayed in the thread, but nothing said it was never shown).
-- Now opening returns them, oldest first, and keeps them queued, counting each delivery; the runtime
-- acknowledges the ones it has shown with api.acknowledge_widget_replies and only that forgets them.
-- A runtime that does not acknowledge gets them again on the next opening: it must show each
-- message id once (the widget keys its thread by message id anyway).

alter table halo.queued_replies
  add column deliveries integer not null default 0,
  add column last_delivered_at timestamptz;

comment on column halo.queued_replies.deliveries is
  'How many times opening the widget returned this reply without an acknowledgement yet.';

create or replace function api.set_widget_open(
  p_conversation_id uuid, p_open boolean, p_workspace_id uuid default null
) returns setof api.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
begin
  if p_open is null then
    raise exception 'p_open must be true (the widget opened) or false (it closed)' using errcode = '22023';
  end if;
  insert into halo.widget_states (conversation_id, workspace_id, open)
  values (conv.id, conv.workspace_id, p_open)
  on conflict (conversation_id) do update set open = excluded.open, changed_at = now();
  if p_open then
    return query
      with delivered as (
        update halo.queued_replies q
        set deliveries = q.deliveries + 1, last_delivered_at = now()
        where q.conversation_id = conv.id
        returning q.message_id, q.seq
      )
      select m.* from api.messages m join delivered d on d.message_id = m.id
      order by d.seq;
  end if;
end
$$;

-- The runtime has shown these replies to the customer: they leave the queue. Ids that are not
-- queued for this conversation (already acknowledged, another conversation's) are ignored, so a
-- retried acknowledgement is harmless. Returns how many left the queue.
create function api.acknowledge_widget_replies(
  p_conversation_id uuid, p_message_ids uuid[], p_workspace_id uuid default null
) returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  acknowledged integer;
begin
  if p_message_ids is null then
    raise exception 'p_message_ids is required: the ids of the delivered replies the customer has seen'
      using errcode = '22023';
  end if;
  if cardinality(p_message_ids) > 1000 then
    raise exception 'p_message_ids holds % ids; acknowledge at most 1000 at a time',
      cardinality(p_message_ids) using errcode = '22023';
  end if;
  delete from halo.queued_replies q
  where q.conversation_id = conv.id and q.message_id = any (p_message_ids);
  get diagnostics acknowledged = row_count;
  return acknowledged;
end
$$;
grant execute on function api.acknowledge_widget_replies(uuid, uuid[], uuid) to service_role;

revoke execute on all functions in schema halo, api from public;
