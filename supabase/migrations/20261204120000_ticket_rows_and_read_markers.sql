-- Issue 14, items 12 and 16: rows a ticket list can render (api.ticket_rows, paged by
-- api.list_tickets) and unread state (halo.ticket_reads, api.mark_ticket_read, api.unread_counts,
-- the ticket.read event). Schema: supabase/schemas/read_markers.sql and inbox_views.sql.

-- tables ------------------------------------------------------------------------------------------

create table halo.ticket_reads (
  user_id uuid not null default auth.uid(),
  ticket_id uuid not null references halo.tickets (id) on delete cascade,
  workspace_id uuid not null,
  last_read_message_id uuid references halo.messages (id) on delete set null,
  last_read_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (user_id, ticket_id),
  -- A marker belongs to a member; leaving the workspace takes one's markers along.
  foreign key (workspace_id, user_id) references halo.members (workspace_id, user_id) on delete cascade
);

-- indexes -----------------------------------------------------------------------------------------

create index ticket_reads_ticket_id_idx on halo.ticket_reads (ticket_id);

create index ticket_reads_member_idx on halo.ticket_reads (workspace_id, user_id);

create index ticket_reads_last_read_message_id_idx on halo.ticket_reads (last_read_message_id)
  where last_read_message_id is not null;

-- triggers ----------------------------------------------------------------------------------------

-- ticket.read, so the member's other screens clear the ticket's unread dot (realtime-events.md).
create function halo.ticket_read_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.emit_event(new.workspace_id, 'ticket.read', new.ticket_id, null,
    jsonb_build_object('user_id', new.user_id, 'last_read_message_id', new.last_read_message_id,
                       'last_read_at', new.last_read_at));
  return null;
end
$$;

create trigger ticket_reads_emit_event
  after insert or update on halo.ticket_reads
  for each row execute function halo.ticket_read_changed();

-- row-level security ------------------------------------------------------------------------------

alter table halo.ticket_reads enable row level security;

-- policies ----------------------------------------------------------------------------------------

create policy "members read and write only their own read markers" on halo.ticket_reads
  for all to authenticated
  using (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')))
  with check (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.ticket_reads with (security_invoker = true) as
  select user_id, ticket_id, workspace_id, last_read_message_id, last_read_at, updated_at
  from halo.ticket_reads;
comment on view api.ticket_reads is
  'Read markers: the last message the caller has seen on each ticket they opened (set with '
  'api.mark_ticket_read). Each member with Inbox permission view reads only their own markers.';

-- Sets the caller's marker on a ticket to p_message_id (a message of the ticket), or to the
-- ticket's last message when it is null. A marker never moves back: marking an older message
-- leaves it as it is.
create function api.mark_ticket_read(p_ticket_id uuid, p_message_id uuid default null)
returns api.ticket_reads
language plpgsql
security invoker
set search_path = ''
as $$
declare
  ticket halo.tickets := halo.ticket_for_action(p_ticket_id, 'view', 'reading a ticket');
  message_id uuid;
  read_at timestamptz;
  result api.ticket_reads;
begin
  if auth.uid() is null then
    raise exception 'read markers belong to signed-in members; sign in as the member who read the ticket'
      using errcode = '42501';
  end if;
  if p_message_id is null then
    select m.id, m.created_at into message_id, read_at from halo.messages m
     where m.ticket_id = ticket.id and m.kind <> 'system'
     order by m.created_at desc limit 1;
  else
    select m.id, m.created_at into message_id, read_at from halo.messages m
     where m.id = p_message_id and m.ticket_id = ticket.id;
    if message_id is null then
      raise exception 'message % is not in ticket %', p_message_id, p_ticket_id using errcode = '22023';
    end if;
  end if;
  insert into halo.ticket_reads as r (user_id, ticket_id, workspace_id, last_read_message_id, last_read_at)
  values (auth.uid(), ticket.id, ticket.workspace_id, message_id, coalesce(read_at, now()))
  on conflict (user_id, ticket_id) do update
    set last_read_message_id = excluded.last_read_message_id,
        last_read_at = excluded.last_read_at,
        updated_at = now()
    where r.last_read_at < excluded.last_read_at;
  select * into result from api.ticket_reads r where r.user_id = auth.uid() and r.ticket_id = ticket.id;
  return result;
end
$$;
grant execute on function api.mark_ticket_read(uuid, uuid) to authenticated, service_role;
comment on function api.mark_ticket_read(p_ticket_id uuid, p_message_id uuid) is
  'Marks a ticket read for the caller up to p_message_id (a message of that ticket), or up to its '
  'last message when p_message_id is null, and returns the caller''s marker; a marker only moves '
  'forward, and a change emits ticket.read. Needs a signed-in member with Inbox permission view. '
  'Raises 22023 when the message is not in the ticket, 42501 without a signed-in member or '
  'permission, and P0002 when the ticket is not visible.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update on halo.ticket_reads to authenticated;

grant all on halo.ticket_reads to service_role;

grant select on api.ticket_reads to authenticated, service_role;

-- inbox_views.sql -----------------------------------------------------------------------------------

-- Avatar initials: the first letters of the first two words of a name, or of an email's local
-- part ("Maya Lee" -> ML, "sam.k@x.test" -> SK).
create function halo.initials(p_name text) returns text
language sql immutable
set search_path = ''
as $$
  select nullif(upper(string_agg(left(w.word, 1), '' order by w.n)), '')
  from (select word, n
          from regexp_split_to_table(split_part(btrim(coalesce(p_name, '')), '@', 1), '[\s._+-]+')
               with ordinality as parts(word, n)
         where word <> '' order by n limit 2) w
$$;
grant execute on function halo.initials(text) to authenticated, service_role;

-- The row a ticket list renders: api.tickets' columns plus the contact (name, email, avatar
-- initials), company name, assignee name, the last message (preview, kind, time, who sent it),
-- the caller's read marker and unread flag, and the conversation's mood and AI confidence. Every
-- extra is a lookup by key for its own row, so a page of n rows costs n lookups each, whatever
-- the workspace's size (api.list_tickets picks the page first).
create view api.ticket_rows with (security_invoker = true) as
  select t.*,
         ct.name as contact_name,
         ct.email as contact_email,
         halo.initials(coalesce(nullif(btrim(ct.name), ''), ct.email)) as contact_initials,
         co.name as company_name,
         am.display_name as assignee_name,
         lm.id as last_message_id,
         lm.kind as last_message_kind,
         lm.author_kind as last_message_author_kind,
         lm.author_user_id as last_message_author_user_id,
         lm.author_name as last_message_author_name,
         lm.preview as last_message_preview,
         lm.created_at as last_message_at,
         r.last_read_at,
         case when (select auth.uid()) is not null then
           lm.id is not null and lm.author_user_id is distinct from (select auth.uid())
           and (r.last_read_at is null or lm.created_at > r.last_read_at)
         end as unread,
         cv.mood,
         cv.ai_confidence as conversation_ai_confidence
  from api.tickets t
  left join halo.contacts ct on ct.id = t.contact_id
  left join halo.companies co on co.id = t.company_id
  left join halo.members am on am.workspace_id = t.workspace_id and am.user_id = t.assignee_id
  left join halo.conversations cv on cv.id = t.conversation_id
  left join halo.ticket_reads r on r.user_id = (select auth.uid()) and r.ticket_id = t.id
  left join lateral (
    select m.id, m.kind, m.author_kind, m.author_user_id, m.created_at,
           left(btrim(regexp_replace(left(m.body_text, 400), '\s+', ' ', 'g')), 140) as preview,
           case m.author_kind
             when 'teammate' then (select mb.display_name from halo.members mb
                                    where mb.workspace_id = m.workspace_id and mb.user_id = m.author_user_id)
             when 'alias_user' then (select au.name from halo.alias_users au where au.id = m.author_alias_user_id)
             when 'customer' then (select coalesce(nullif(btrim(c.name), ''), c.email)
                                     from halo.contacts c where c.id = m.author_contact_id)
             when 'ai_agent' then (select ag.name from halo.ai_agents ag where ag.id = m.author_ai_agent_id)
           end as author_name
    from halo.messages m
    where m.ticket_id = t.id and m.kind <> 'system'
    order by m.created_at desc
    limit 1
  ) lm on true;
comment on view api.ticket_rows is
  'The rows of a ticket list: the columns of api.tickets plus contact_name, contact_email, '
  'contact_initials, company_name, assignee_name, the last message other than system rows '
  '(last_message_id, _kind, _author_kind, _author_user_id, _author_name, _preview: its first 140 '
  'characters on one line, _at), the caller''s last_read_at and unread (the last message is '
  'someone else''s and newer than the caller''s read marker; null without a signed-in member), '
  'and the linked conversation''s mood and conversation_ai_confidence. Members with Inbox '
  'permission view may read; page it with api.list_tickets.';

-- list_tickets returns api.ticket_rows now: a different return type needs drop and create.
drop function api.list_tickets(uuid, text, jsonb, text, text, text, uuid, integer);

-- One page of a ticket view (built-in, `everything`, custom:<id>, segment:<id>), narrowed by an optional
-- FilterBar filter and search, as the caller sees it (RLS). p_sort: last_activity_at, created_at
-- or number, with .desc (default) or .asc. Keyset pagination: pass the last row's sort value and
-- id as p_after_value / p_after_id to get the next page.
create function api.list_tickets(
  p_workspace_id uuid default null,
  p_view text default 'all',
  p_filter jsonb default null,
  p_search text default null,
  p_sort text default 'last_activity_at.desc',
  p_after_value text default null,
  p_after_id uuid default null,
  p_limit integer default 50
) returns setof api.ticket_rows
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  workspace uuid := halo.caller_workspace(p_workspace_id);
  predicate halo.compiled_filter;
  sort_column text := split_part(coalesce(p_sort, ''), '.', 1);
  direction text := coalesce(nullif(split_part(coalesce(p_sort, ''), '.', 2), ''), 'desc');
  sort_type text;
  keyset text := 'true';
  params text[] := array[workspace::text];
  page uuid[];
begin
  if p_limit is null or p_limit not between 1 and 200 then
    raise exception 'p_limit must be between 1 and 200, got %', p_limit using errcode = '22023';
  end if;
  sort_type := case sort_column when 'last_activity_at' then 'timestamptz' when 'created_at' then 'timestamptz'
                                when 'number' then 'bigint' end;
  if sort_type is null or direction not in ('asc', 'desc') then
    raise exception 'unknown sort %; use last_activity_at, created_at or number with .desc or .asc', p_sort
      using errcode = '22023';
  end if;
  predicate := halo.view_predicate(coalesce(p_view, 'all'), p_filter, p_search, params);
  params := predicate.params;
  if p_after_value is not null or p_after_id is not null then
    if p_after_value is null or p_after_id is null then
      raise exception 'keyset pagination needs both p_after_value and p_after_id' using errcode = '22023';
    end if;
    begin
      execute format('select %L::%s', p_after_value, sort_type);
    exception when others then
      raise exception 'p_after_value % is not a valid % for sort %', p_after_value, sort_type, p_sort
        using errcode = '22023';
    end;
    params := params || p_after_value || p_after_id::text;
    keyset := format('(t.%1$I, t.id) %2$s (($1[%3$s])::%4$s, ($1[%5$s])::uuid)', sort_column,
                     case direction when 'desc' then '<' else '>' end,
                     cardinality(params) - 1, sort_type, cardinality(params));
  end if;
  -- The page's ids first (dynamic SQL, planned each call, cheap), then its rows' lookups in a
  -- static query whose plan PL/pgSQL keeps for the session.
  execute format(
    'select array(select t.id from api.tickets t where t.workspace_id = ($1[1])::uuid and %s and %s'
    ' order by t.%I %s, t.id %s limit %s)',
    predicate.sql, keyset, sort_column, direction, direction, p_limit)
    into page using params;
  return query select r.* from unnest(page) with ordinality as p(id, n)
                 join api.ticket_rows r on r.id = p.id
                order by p.n;
end
$$;
grant execute on function api.list_tickets(uuid, text, jsonb, text, text, text, uuid, integer)
  to authenticated, service_role;
comment on function api.list_tickets(p_workspace_id uuid, p_view text, p_filter jsonb, p_search text, p_sort text, p_after_value text, p_after_id uuid, p_limit integer) is
  'Returns one page of a ticket view as the caller sees it, as api.ticket_rows rows (contact, '
  'company, assignee name, last message, unread): a built-in view (all, agent_requests, '
  'sales, assigned_to_me, mentions, open, priority, in_progress, snoozed, resolved, ai_resolved, '
  'spam), everything, custom:<id> or segment:<id>, narrowed by an optional FilterBar filter and '
  'full-text p_search (at most 500 characters). p_sort is last_activity_at, created_at or number '
  'with .desc (default) or .asc; for the next page pass the sort value and id of the last row as '
  'p_after_value and p_after_id; p_limit 1 to 200; p_workspace_id may be omitted when the caller '
  'belongs to exactly one workspace. Needs Inbox permission view; raises 42501 when not allowed, '
  '22023 for a bad view, filter, sort, cursor or limit, and P0002 when the custom inbox or '
  'segment does not exist.';

-- Unread counts for the sidebar: per view, how many of its 100 most recently active tickets are
-- unread for the caller (api.ticket_rows.unread). The window bounds the cost (100 rows' lookups
-- per view, whatever the workspace's size) and is the part of a view an agent works from
-- (decision 0027). p_views: view names as api.list_tickets takes them; null means every built-in
-- view, every custom inbox and the caller's segments.
create function api.unread_counts(p_workspace_id uuid default null, p_views text[] default null)
returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  workspace uuid := halo.caller_workspace(p_workspace_id);
  views text[] := p_views;
  view_name text;
  predicate halo.compiled_filter;
  n bigint;
  window_ids uuid[];
  counts jsonb := '{}';
begin
  if auth.uid() is null or not halo.has_inbox_permission(workspace, 'view') then
    raise exception 'unread counts are a signed-in member''s; it needs Inbox: View permission in workspace %', workspace
      using errcode = '42501';
  end if;
  if views is null then
    views := halo.builtin_views()
      || array(select 'custom:' || ci.id from halo.custom_inboxes ci
                where ci.workspace_id = workspace order by ci.position, ci.id)
      || array(select 'segment:' || s.id from halo.segments s
                where s.workspace_id = workspace and s.user_id = (select auth.uid()) order by s.position, s.id);
  elsif cardinality(views) > 50 then
    raise exception 'p_views names at most 50 views, got %', cardinality(views) using errcode = '22023';
  end if;
  foreach view_name in array views loop
    predicate := halo.view_predicate(view_name, null, null, array[workspace::text]);
    execute format(
      'select array(select t.id from api.tickets t where t.workspace_id = ($1[1])::uuid and %s'
      ' order by t.last_activity_at desc, t.id desc limit 100)', predicate.sql)
      into window_ids using predicate.params;
    select count(*) into n from api.ticket_rows r where r.id = any (window_ids) and r.unread;
    counts := counts || jsonb_build_object(view_name, n);
  end loop;
  return jsonb_build_object('workspace_id', workspace, 'window', 100, 'views', counts);
end
$$;
grant execute on function api.unread_counts(uuid, text[]) to authenticated, service_role;
comment on function api.unread_counts(p_workspace_id uuid, p_views text[]) is
  'Returns the caller''s unread counts per view: {workspace_id, window: 100, views: {view: n}}, '
  'n being how many of the view''s 100 most recently active tickets are unread for the caller '
  '(see api.ticket_rows.unread). p_views are view names as api.list_tickets takes them (at most '
  '50); null means every built-in view, every custom inbox and the caller''s segments. '
  'p_workspace_id may be omitted when the caller belongs to exactly one workspace. Needs a '
  'signed-in member with Inbox permission view; raises 42501 otherwise, 22023 for an unknown '
  'view or too many, and P0002 when a custom inbox or segment does not exist.';

grant select on api.ticket_rows to authenticated, service_role;

revoke execute on all functions in schema halo, api from public;
