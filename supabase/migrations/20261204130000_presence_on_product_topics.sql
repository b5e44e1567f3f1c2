-- Presence on product topics (issue 14, item 11): members who can read a topic see who is present
-- and may track presence there; `ticket:<id>:reply` takes Inbox: Reply to track (decision 0028).
-- One select policy serves broadcast and presence (no duplicate permissive policies).

drop policy "members can receive their workspace's broadcasts" on realtime.messages;

-- The workspace a product topic belongs to; null for any other topic (or an unknown id).
create or replace function halo.topic_workspace(p_topic text) returns uuid
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  parts text[] := regexp_match(
    p_topic,
    '^(workspace|ticket|conversation):'
    '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(:reply)?$'
  );
begin
  if parts is null or (parts[3] is not null and parts[1] <> 'ticket') then
    return null;
  end if;
  return case parts[1]
    when 'workspace' then parts[2]::uuid
    when 'ticket' then (select workspace_id from halo.tickets where id = parts[2]::uuid)
    when 'conversation' then (select workspace_id from halo.conversations where id = parts[2]::uuid)
  end;
end
$$;

create or replace function halo.can_read_topic(p_topic text) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(halo.topic_workspace(p_topic) in (select halo.inbox_workspaces('view')), false)
$$;
grant execute on function halo.can_read_topic(text) to authenticated;

-- Tracking presence on `ticket:<id>:reply` says "composing a reply": it takes Inbox: Reply.
create or replace function halo.can_track_presence(p_topic text) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(
    halo.topic_workspace(p_topic) in (
      select halo.inbox_workspaces(
        case when p_topic like '%:reply' then 'reply' else 'view' end::halo.inbox_permission
      )
    ),
    false
  )
$$;
grant execute on function halo.can_track_presence(text) to authenticated;

-------------------------------------------------------------------------------------

create policy "members can receive their workspace's broadcasts and presence" on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension in ('broadcast', 'presence')
    and topic = (select realtime.topic())
    and (select halo.can_read_topic((select realtime.topic())))
  );

create policy "members can be present on their workspace's topics" on realtime.messages
  for insert to authenticated
  with check (
    realtime.messages.extension = 'presence'
    and topic = (select realtime.topic())
    and (select halo.can_track_presence((select realtime.topic())))
  );

revoke execute on all functions in schema halo, api from public;
