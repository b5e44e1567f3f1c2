-- Mentions: @handle in a note or reply notifies the teammate. A handle is the display name's
-- letters and digits (halo.mentioned_members); each mention is a row and a mention.created event
-- for the mentioned teammate's notifications and the Mentions view.

-- tables ------------------------------------------------------------------------------------------

create table halo.mentions (
  message_id uuid not null references halo.messages (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  ticket_id uuid references halo.tickets (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (message_id, user_id)
);

-- indexes -----------------------------------------------------------------------------------------

create index mentions_user_idx on halo.mentions (user_id, created_at desc);

create index mentions_workspace_id_idx on halo.mentions (workspace_id);

create index mentions_ticket_id_idx on halo.mentions (ticket_id);

-- triggers ----------------------------------------------------------------------------------------

-- mention.created feeds the mentioned teammate's notifications.
create trigger mentions_emit_event
  after insert on halo.mentions
  for each row execute function halo.emit_row_event('mention', 'message_id', 'user_id');

-- row-level security ------------------------------------------------------------------------------

alter table halo.mentions enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Members mentioned as @handle in a text: a handle is the display name's letters and digits,
-- lower-cased ("Maya Manager" -> @mayamanager), or the local part of the member's email alias.
create function halo.mentioned_members(p_workspace_id uuid, p_text text) returns uuid[]
language sql stable
security invoker
set search_path = ''
as $$
  select coalesce(array_agg(distinct m.user_id), '{}')
  from halo.members m
  join (select lower(match[1]) as handle
        from regexp_matches(coalesce(p_text, ''), '(?:^|[^[:alnum:]_.])@([[:alnum:]_]+(?:[.-][[:alnum:]_]+)*)', 'g') as match) h
    on h.handle = lower(regexp_replace(m.display_name, '[^[:alnum:]]', '', 'g'))
    or h.handle = lower(split_part(m.email_alias, '@', 1))
  where m.workspace_id = p_workspace_id
$$;
grant execute on function halo.mentioned_members(uuid, text) to authenticated, service_role;

-- policies ----------------------------------------------------------------------------------------

create policy "members can read their workspace's mentions" on halo.mentions
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.mentions with (security_invoker = true) as
  select message_id, user_id, workspace_id, ticket_id, created_at from halo.mentions;
comment on view api.mentions is
  'Mentions of workspace members in messages (message, mentioned user, workspace, ticket), one '
  'row per mentioned user, written when the message is stored. Members with Inbox permission view '
  'may read.';

-- grants ------------------------------------------------------------------------------------------

grant select on halo.mentions to authenticated;

grant all on halo.mentions to service_role;

grant select on api.mentions to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
