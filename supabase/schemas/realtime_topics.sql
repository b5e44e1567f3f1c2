-- Who may join which private Realtime topic. Realtime checks a private channel by selecting from
-- realtime.messages as the joining user with `realtime.topic` set to the channel's topic, so the
-- policy below is the whole authorization:
--   workspace:<id>     members with Inbox: View or more in that workspace
--   ticket:<id>        the same, for the ticket's workspace
--   conversation:<id>  the same, for the conversation's workspace
--   jobs:<kind>        nobody but service_role (which bypasses RLS): no policy admits it
-- realtime.messages itself belongs to Supabase; only a policy is added here.

-- helpers -----------------------------------------------------------------------------------------

create function halo.can_read_topic(p_topic text) returns boolean
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  prefix text := split_part(p_topic, ':', 1);
  raw_id text := substr(p_topic, length(prefix) + 2);
  target uuid;
  target_workspace uuid;
begin
  if raw_id !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return false;
  end if;
  target := raw_id::uuid;
  target_workspace := case prefix
    when 'workspace' then target
    when 'ticket' then (select workspace_id from halo.tickets where id = target)
    when 'conversation' then (select workspace_id from halo.conversations where id = target)
  end;
  return target_workspace is not null
     and target_workspace in (select halo.inbox_workspaces('view'));
end
$$;
grant execute on function halo.can_read_topic(text) to authenticated;

-- policies ----------------------------------------------------------------------------------------

create policy "members can receive their workspace's broadcasts" on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension = 'broadcast'
    and topic = (select realtime.topic())
    and (select halo.can_read_topic((select realtime.topic())))
  );

-- grants ------------------------------------------------------------------------------------------

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
