-- Who may join which private Realtime topic, and who may be present there. Realtime checks a
-- private channel by selecting from realtime.messages as the joining user with `realtime.topic` set
-- to the channel's topic (read), and by inserting a row as the user when the channel first tracks
-- presence or sends a broadcast (write), so the policies below are the whole authorization:
--   workspace:<id>        members with Inbox: View or more in that workspace read broadcasts,
--                         see presence and track presence ("who is online")
--   ticket:<id>           the same, for the ticket's workspace ("who is viewing / typing")
--   ticket:<id>:reply     Inbox: View reads and sees presence; only Inbox: Reply or more may track
--                         ("who is composing a reply"; decision 0028)
--   conversation:<id>     the same as ticket:<id>, for the conversation's workspace
--   jobs:<kind>           nobody but service_role (which bypasses RLS): no policy admits it
-- No policy lets a member send a broadcast. realtime.messages itself belongs to Supabase; only
-- policies are added here.

-- helpers -----------------------------------------------------------------------------------------

-- The workspace a product topic belongs to; null for any other topic (or an unknown id).
create function halo.topic_workspace(p_topic text) returns uuid
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

create function halo.can_read_topic(p_topic text) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(halo.topic_workspace(p_topic) in (select halo.inbox_workspaces('view')), false)
$$;
grant execute on function halo.can_read_topic(text) to authenticated;

-- Tracking presence on `ticket:<id>:reply` says "composing a reply": it takes Inbox: Reply.
create function halo.can_track_presence(p_topic text) returns boolean
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

-- policies ----------------------------------------------------------------------------------------

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

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
