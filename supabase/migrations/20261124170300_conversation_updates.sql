-- What happened in a conversation since a cursor, for an AI runtime that holds only a workspace
-- API key. Such a runtime cannot join Realtime (a key is not a Realtime credential), so until now
-- it learned of a takeover only from the 409 on its next AI message and never saw a teammate's
-- reply while the widget stayed open. api.conversation_updates reads the workspace's event log
-- (halo.events: numbered at commit, so readers never see seq N+1 without N) filtered to the
-- conversation: a runtime that polls with the last seq it got misses nothing.
--
-- What it returns: the conversation's own events (conversation.*: paused, resumed, completed, ...)
-- and message.created for what the customer sees (customer, AI and teammate messages, the
-- "joined" notice), each message embedded because a key holder cannot read api.messages. Notes,
-- whispers, other system messages and the ticket's events stay out, but the cursor moves past them.
-- Answer: {"events": [...], "after_seq": the cursor for the next call, "more": a full page}.

create index events_conversation_seq_idx on halo.events (conversation_id, seq)
  where conversation_id is not null;

create function api.conversation_updates(
  p_conversation_id uuid,
  p_after_seq bigint default 0,
  p_limit integer default 100,
  p_workspace_id uuid default null
) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  conv halo.conversations := halo.conversation_for_api(p_conversation_id, p_workspace_id);
  updates jsonb;
  last_seq bigint;
  read integer;
begin
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000, got %', coalesce(p_limit::text, 'null')
      using errcode = '22023';
  end if;
  if p_after_seq is null or p_after_seq < 0 then
    raise exception 'p_after_seq must be 0 or more (the last seq you received), got %',
      coalesce(p_after_seq::text, 'null') using errcode = '22023';
  end if;
  with page as (
    select e.seq, e.name, e.data, e.created_at
    from halo.events e
    where e.conversation_id = conv.id and e.workspace_id = conv.workspace_id
      and e.seq > p_after_seq
    order by e.seq
    limit p_limit
  ), shown as (
    select p.seq,
           jsonb_build_object('seq', p.seq, 'event', p.name, 'created_at', p.created_at,
                              'data', p.data)
             || case when m.id is null then '{}'::jsonb
                     else jsonb_build_object('message', to_jsonb(m)) end as item
    from page p
    left join api.messages m
      on p.name = 'message.created' and m.id = (p.data ->> 'message_id')::uuid
    where p.name like 'conversation.%'
       or (m.id is not null
           and (m.direction <> 'internal'
                or (m.kind = 'system' and m.activity ->> 'action' = 'teammate_joined')))
  )
  select coalesce((select jsonb_agg(s.item order by s.seq) from shown s), '[]'::jsonb),
         (select max(p.seq) from page p),
         (select count(*) from page p)
  into updates, last_seq, read;
  -- `more`: the page was full, so ask again at once with `after_seq`.
  return jsonb_build_object('events', updates, 'after_seq', coalesce(last_seq, p_after_seq),
                            'more', read = p_limit);
end
$$;
grant execute on function api.conversation_updates(uuid, bigint, integer, uuid) to service_role;

revoke execute on all functions in schema halo, api from public;
