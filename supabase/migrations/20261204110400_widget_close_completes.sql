-- Issue 14, item 8: closing the widget completes the conversation. A close enqueues a
-- conversation.widget_closed job due after the grace period; api.complete_closed_conversation
-- completes the conversation then if the widget stayed closed and nothing happened for that long
-- (decision 0024).

create function halo.widget_close_grace() returns interval
language sql immutable
set search_path = ''
as $$
  select interval '60 seconds'
$$;

grant execute on function halo.widget_close_grace() to service_role;

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
  if not p_open and conv.state = 'live' then
    -- changed_at is now(): the job names this close, so a later reopen or close voids it.
    perform halo.enqueue_job('conversation.widget_closed',
      jsonb_build_object('conversation_id', conv.id, 'closed_at', now()),
      'widget-closed:' || conv.id || ':' || extract(epoch from now()), conv.workspace_id,
      now() + halo.widget_close_grace());
  end if;
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
comment on function api.set_widget_open(p_conversation_id uuid, p_open boolean, p_workspace_id uuid) is
  'Records that the chat widget of a conversation opened (p_open true) or closed (false). Opening '
  'returns the teammate replies and handoff notices queued while it was closed, oldest first, and '
  'keeps them queued until acknowledged with api.acknowledge_widget_replies, so they may be '
  'returned again. Closing a live conversation enqueues a conversation.widget_closed job due '
  'after the grace period (60 s): the conversation completes once the widget has stayed closed '
  'with no message and no user activity for that long (api.complete_closed_conversation). '
  'service_role only; raises 22023 for a null p_open and P0002 when the conversation is not '
  'found.';

create function api.complete_closed_conversation(
  p_conversation_id uuid, p_closed_at timestamptz, p_workspace_id uuid default null
) returns api.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations;
  quiet_since timestamptz;
  result api.conversations;
begin
  if p_closed_at is null then
    raise exception 'p_closed_at (when the widget closed) is required' using errcode = '22023';
  end if;
  conv := halo.conversation_for_api(p_conversation_id, p_workspace_id, true);
  if conv.state = 'live'
     and exists (select 1 from halo.widget_states w
                 where w.conversation_id = conv.id and not w.open and w.changed_at = p_closed_at) then
    quiet_since := greatest(p_closed_at, conv.last_user_activity_at,
                            (select max(m.created_at) from halo.messages m where m.conversation_id = conv.id));
    if quiet_since + halo.widget_close_grace() <= now() then
      return api.complete_conversation(conv.id, p_end_reason => 'closed');
    end if;
    perform halo.enqueue_job('conversation.widget_closed',
      jsonb_build_object('conversation_id', conv.id, 'closed_at', p_closed_at),
      'widget-closed:' || conv.id || ':' || extract(epoch from p_closed_at)
        || ':' || extract(epoch from quiet_since),
      conv.workspace_id, quiet_since + halo.widget_close_grace());
  end if;
  select * into result from api.conversations where id = conv.id;
  return result;
end
$$;
grant execute on function api.complete_closed_conversation(uuid, timestamptz, uuid) to service_role;
comment on function api.complete_closed_conversation(p_conversation_id uuid, p_closed_at timestamp with time zone, p_workspace_id uuid) is
  'Completes a live conversation whose chat widget closed at p_closed_at and has stayed closed, '
  'once no message and no user activity happened for the grace period (60 s): end reason '
  'closed, so outcome escalated when it has a ticket, else resolved. When something happened '
  'within the grace period, the check is enqueued again for the grace period after it; when the '
  'widget reopened or closed again, or the conversation ended, it is returned unchanged. Called '
  'by the conversation.widget_closed job. service_role only; raises 22023 for a missing '
  'p_closed_at and P0002 when the conversation is not found.';

revoke execute on all functions in schema halo, api from public;
