-- Inbox views: the built-in ticket views (All, Agent Requests, Sales, Assigned to me, Mentions and
-- one per status), custom inboxes (workspace-wide, a saved filter) and segments (personal), one
-- paginated list function for all of them (api.list_tickets, keyset pages of api.ticket_rows: the
-- row a list renders), the sidebar counts (api.inbox_counts), the unread counts
-- (api.unread_counts, read markers are read_markers.sql) and the conversation lists (Live Feed and Completed: api.conversation_feed,
-- api.list_conversations). Filters are compiled by filters.sql; search is search.sql.

-- tables ------------------------------------------------------------------------------------------

create table halo.custom_inboxes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  emoji text check (length(emoji) between 1 and 16),
  filter jsonb not null default '{}',
  position integer not null default 0,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table halo.segments (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  user_id uuid not null default auth.uid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  filter jsonb not null default '{}',
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A segment belongs to a member; leaving the workspace takes one's segments along.
  foreign key (workspace_id, user_id) references halo.members (workspace_id, user_id) on delete cascade
);

-- Sidebar counts without scanning a workspace's tickets.
--
-- Counting the status views of a 300k-ticket workspace by scanning even a covering index took
-- ~200 ms under RLS. Instead every ticket write appends signed deltas per "bucket" (its status
-- view, plus agent_requests and sales while active) to halo.ticket_count_deltas, in the ticket's
-- own transaction: insert-only, so writers never wait for each other and no new lock can take part
-- in a deadlock (a counter row updated in place would serialize every ticket write of a
-- workspace and could deadlock with the commit-time event counter). Reading sums the deltas of a
-- workspace; now and then (see halo.count_ticket_buckets; read committed only, one compactor per
-- workspace via a try-lock) a writer folds the committed deltas into one row per bucket, so the
-- sum stays small.

create table halo.ticket_count_deltas (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references halo.workspaces (id) on delete cascade,
  bucket text not null,
  n bigint not null
);

-- indexes -----------------------------------------------------------------------------------------

create index custom_inboxes_workspace_idx on halo.custom_inboxes (workspace_id, position);

create index custom_inboxes_created_by_idx on halo.custom_inboxes (created_by);

create index segments_owner_idx on halo.segments (workspace_id, user_id, position);

create index segments_user_id_idx on halo.segments (user_id);

create index ticket_count_deltas_workspace_idx on halo.ticket_count_deltas (workspace_id, bucket);

-- triggers ----------------------------------------------------------------------------------------

-- Filters are validated when saved, so a stored inbox or segment always compiles.
create function halo.saved_filter_before_write() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform halo.compile_filter(new.filter);
  new.updated_at := now();
  return new;
end
$$;

create trigger custom_inboxes_before_write
  before insert or update on halo.custom_inboxes
  for each row execute function halo.saved_filter_before_write();

create trigger segments_before_write
  before insert or update on halo.segments
  for each row execute function halo.saved_filter_before_write();

-- custom_inbox.created, .updated and .deleted, so every dashboard's sidebar follows.
create trigger custom_inboxes_emit_event
  after insert or update or delete on halo.custom_inboxes
  for each row execute function halo.emit_row_event('custom_inbox');

-- Count-delta compaction on a schedule the writes themselves set: a writer folds a workspace's
-- deltas when its inserted rows cross a multiple of 32 in the deltas' identity sequence. In a
-- workspace written alone that is every 32 delta rows; with several busy workspaces each still
-- gets about one fold per 32 of its rows, so the log stays bounded (a random 2% fold did not bound
-- it). Rows of a rolled-back write use up sequence values, so a fold can be skipped, never repeated.

create function halo.count_ticket_buckets() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  workspace uuid := coalesce(new.workspace_id, old.workspace_id);
  before_buckets text[] := case when tg_op <> 'INSERT' then halo.ticket_buckets(old) else '{}' end;
  after_buckets text[] := case when tg_op <> 'DELETE' then halo.ticket_buckets(new) else '{}' end;
  inserted bigint;
  last_id bigint;
begin
  if before_buckets = after_buckets
     or (tg_op = 'DELETE' and not exists (select 1 from halo.workspaces where id = workspace)) then
    return null;  -- nothing moved, or the whole workspace is being deleted
  end if;
  insert into halo.ticket_count_deltas (workspace_id, bucket, n)
  select workspace, b, -1 from unnest(before_buckets) b where not b = any (after_buckets)
  union all
  select workspace, b, 1 from unnest(after_buckets) b where not b = any (before_buckets);
  get diagnostics inserted = row_count;
  if inserted = 0 then
    return null;
  end if;
  last_id := currval(pg_catalog.pg_get_serial_sequence('halo.ticket_count_deltas', 'id'));

  if last_id / 32 <> (last_id - inserted) / 32
     and current_setting('transaction_isolation') = 'read committed'
     and pg_try_advisory_xact_lock(hashtextextended('halo.ticket_count_deltas:' || workspace, 0)) then
    with folded as (
      delete from halo.ticket_count_deltas where workspace_id = workspace returning bucket, n
    )
    insert into halo.ticket_count_deltas (workspace_id, bucket, n)
    select workspace, bucket, sum(n) from folded group by bucket;
  end if;
  return null;
end
$$;

create trigger tickets_count_buckets
  after insert or update or delete on halo.tickets
  for each row execute function halo.count_ticket_buckets();

-- row-level security ------------------------------------------------------------------------------

alter table halo.custom_inboxes enable row level security;

alter table halo.segments enable row level security;

-- No policy: only the security definer functions above read or write it.
alter table halo.ticket_count_deltas enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- The built-in ticket views as SQL over `t` (fixed text, no values).
create function halo.builtin_view_sql(p_view text) returns text
language sql immutable
set search_path = ''
as $$
  select case p_view
    when 'all' then $v$t.status_category in ('open', 'in_progress')$v$
    when 'agent_requests' then $v$t.category = 'agent_request' and t.status_category in ('open', 'in_progress')$v$
    when 'sales' then $v$t.source = 'sales' and t.status_category in ('open', 'in_progress')$v$
    when 'assigned_to_me' then $v$t.assignee_id = (select auth.uid()) and t.status_category in ('open', 'in_progress')$v$
    when 'mentions' then $v$t.id in (select mn.ticket_id from halo.mentions mn where mn.user_id = (select auth.uid()))$v$
    when 'open' then $v$t.status_category = 'open' and t.priority in ('low', 'normal')$v$
    when 'priority' then $v$t.status_category = 'open' and t.priority in ('high', 'urgent')$v$
    when 'in_progress' then $v$t.status_category = 'in_progress'$v$
    when 'snoozed' then $v$t.status_category = 'snoozed'$v$
    when 'resolved' then $v$t.status_category = 'resolved' and t.resolved_by in ('human', 'auto')$v$
    when 'ai_resolved' then $v$t.status_category = 'resolved' and t.resolved_by = 'ai'$v$
    when 'spam' then $v$t.status_category = 'spam'$v$
  end
$$;
grant execute on function halo.builtin_view_sql(text) to authenticated, service_role;

create function halo.builtin_views() returns text[]
language sql immutable
set search_path = ''
as $$
  select array['all', 'agent_requests', 'sales', 'assigned_to_me', 'mentions', 'open', 'priority',
               'in_progress', 'snoozed', 'resolved', 'ai_resolved', 'spam']
$$;
grant execute on function halo.builtin_views() to authenticated, service_role;

-- The SQL predicate and values of a view: a built-in name, `custom:<id>`, `segment:<id>`, plus an
-- optional ad-hoc filter and search text; $1[1] must be the workspace id. Search matches the subject, the contact's name and
-- email, and message text (full text, 'simple' configuration, web-search syntax).
create function halo.view_predicate(p_view text, p_filter jsonb, p_search text, p_params text[])
returns halo.compiled_filter
language plpgsql stable
set search_path = ''
as $$
declare
  base text;
  saved jsonb;
  compiled halo.compiled_filter;
  params text[] := p_params;
  search_sql text := 'true';
begin
  if p_view = 'everything' then
    base := 'true';
  elsif p_view = any (halo.builtin_views()) then
    base := halo.builtin_view_sql(p_view);
  elsif p_view ~* '^(custom|segment):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    if p_view like 'custom:%' then
      select ci.filter into saved from halo.custom_inboxes ci where ci.id = substr(p_view, 8)::uuid;
    else
      select s.filter into saved from halo.segments s where s.id = substr(p_view, 9)::uuid;
    end if;
    if saved is null then
      raise exception 'view % does not exist', p_view using errcode = 'P0002';
    end if;
    compiled := halo.compile_filter(saved, params);
    base := compiled.sql;
    params := compiled.params;
  else
    raise exception 'unknown view %; use one of %, everything (every status), custom:<id> or segment:<id>', p_view,
      array_to_string(halo.builtin_views(), ', ') using errcode = '22023';
  end if;
  compiled := halo.compile_filter(p_filter, params);
  params := compiled.params;
  if nullif(btrim(coalesce(p_search, '')), '') is not null then
    if length(p_search) > 500 then
      raise exception 'search text has at most 500 characters' using errcode = '22023';
    end if;
    params := params || p_search;
    search_sql := format('t.id in (select halo.search_ticket_ids(($1[1])::uuid, $1[%s]))', cardinality(params));
  end if;
  return (format('(%s) and %s and %s', base, compiled.sql, search_sql), params)::halo.compiled_filter;
end
$$;
grant execute on function halo.view_predicate(text, jsonb, text, text[]) to authenticated, service_role;

-- The counted views a ticket belongs to.
create function halo.ticket_buckets(t halo.tickets) returns text[]
language sql immutable
set search_path = ''
as $$
  select array[halo.ticket_status(t.status_category, t.priority, t.resolved_by)]
    || case when t.status_category in ('open', 'in_progress') and t.category = 'agent_request'
            then array['agent_requests'] else '{}' end
    || case when t.status_category in ('open', 'in_progress') and t.source = 'sales'
            then array['sales'] else '{}' end
$$;

-- Recomputes a workspace's counts from its tickets (after bulk loads that bypass triggers, such
-- as `halo seed`). Local superuser / service_role only.
create function halo.recount_tickets(p_workspace_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
  delete from halo.ticket_count_deltas where workspace_id = p_workspace_id;
  insert into halo.ticket_count_deltas (workspace_id, bucket, n)
  select p_workspace_id, b, count(*)
  from halo.tickets t, unnest(halo.ticket_buckets(t)) b
  where t.workspace_id = p_workspace_id
  group by b;
$$;
grant execute on function halo.recount_tickets(uuid) to service_role;

-- The bucket counts of a workspace the caller may read (Inbox: View), as {bucket: n}.
create function halo.ticket_bucket_counts(p_workspace_id uuid) returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  if not halo.has_inbox_permission(p_workspace_id, 'view') then
    raise exception 'reading the inbox of workspace % needs Inbox: View permission there', p_workspace_id
      using errcode = '42501';
  end if;
  return coalesce((select jsonb_object_agg(bucket, total)
                     from (select bucket, sum(n) as total from halo.ticket_count_deltas
                            where workspace_id = p_workspace_id group by bucket) s), '{}');
end
$$;
grant execute on function halo.ticket_bucket_counts(uuid) to authenticated, service_role;

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

-- policies ----------------------------------------------------------------------------------------

create policy "members with inbox access can read custom inboxes" on halo.custom_inboxes
  for select to authenticated
  using (workspace_id in (select halo.inbox_workspaces('view')));

create policy "members who manage the inbox can add custom inboxes" on halo.custom_inboxes
  for insert to authenticated
  with check (workspace_id in (select halo.inbox_workspaces('manage')));

create policy "members who manage the inbox can edit custom inboxes" on halo.custom_inboxes
  for update to authenticated
  using (workspace_id in (select halo.inbox_workspaces('manage')))
  with check (workspace_id in (select halo.inbox_workspaces('manage')));

create policy "members who manage the inbox can delete custom inboxes" on halo.custom_inboxes
  for delete to authenticated
  using (workspace_id in (select halo.inbox_workspaces('manage')));

create policy "members manage their own segments" on halo.segments
  for all to authenticated
  using (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')))
  with check (user_id = (select auth.uid()) and workspace_id in (select halo.inbox_workspaces('view')));

-- api ---------------------------------------------------------------------------------------------

create view api.custom_inboxes with (security_invoker = true) as
  select id, workspace_id, name, emoji, filter, position, created_by, created_at, updated_at
  from halo.custom_inboxes;
comment on view api.custom_inboxes is
  'Custom inboxes: workspace-wide saved ticket views with a name, emoji, FilterBar filter '
  '(validated when saved, 22023 when invalid) and position. Members with Inbox permission view '
  'may read; members with manage may insert, update and delete.';

create view api.segments with (security_invoker = true) as
  select id, workspace_id, user_id, name, filter, position, created_at, updated_at
  from halo.segments;
comment on view api.segments is
  'Segments: personal saved ticket views (name, FilterBar filter validated when saved, position) '
  'owned by one member. Each member with Inbox permission view reads and manages only their own '
  'segments; they are deleted when the member leaves the workspace.';

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

-- Counts for the sidebar in one call: every built-in view, every custom inbox, every segment of
-- the caller, and the live conversations: {"views": {...}, "custom_inboxes": {id: n},
-- "segments": {id: n}, "conversations": {"live": n}}. Status, agent request and sales counts come
-- from the deltas; assigned_to_me and mentions from their indexes; custom inboxes and segments run
-- their filters (a scan of what the filter selects).
create function api.inbox_counts(p_workspace_id uuid default null) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  workspace uuid := halo.caller_workspace(p_workspace_id);
  buckets jsonb := halo.ticket_bucket_counts(workspace);
  views jsonb := '{}';
  inboxes jsonb := '{}';
  segments jsonb := '{}';
  saved record;
  compiled halo.compiled_filter;
  n bigint;
  live bigint;
  view_name text;
begin
  foreach view_name in array array['open', 'priority', 'in_progress', 'snoozed', 'resolved',
                                   'ai_resolved', 'spam', 'agent_requests', 'sales'] loop
    views := views || jsonb_build_object(view_name, coalesce((buckets ->> view_name)::bigint, 0));
  end loop;
  views := views || jsonb_build_object(
    'all', (views ->> 'open')::bigint + (views ->> 'priority')::bigint + (views ->> 'in_progress')::bigint,
    'assigned_to_me', (select count(*) from halo.tickets t where t.workspace_id = workspace
                         and t.assignee_id = (select auth.uid()) and t.status_category in ('open', 'in_progress')),
    'mentions', (select count(distinct mn.ticket_id) from halo.mentions mn
                  where mn.user_id = (select auth.uid()) and mn.workspace_id = workspace));

  for saved in
    select 'custom' as kind, ci.id, ci.filter from halo.custom_inboxes ci where ci.workspace_id = workspace
    union all
    select 'segment', s.id, s.filter from halo.segments s
     where s.workspace_id = workspace and s.user_id = (select auth.uid())
  loop
    compiled := halo.compile_filter(saved.filter, array[workspace::text]);
    execute format('select count(*) from api.tickets t where t.workspace_id = ($1[1])::uuid and %s', compiled.sql)
      into n using compiled.params;
    if saved.kind = 'custom' then
      inboxes := inboxes || jsonb_build_object(saved.id::text, n);
    else
      segments := segments || jsonb_build_object(saved.id::text, n);
    end if;
  end loop;

  select count(*) into live from halo.conversations c where c.workspace_id = workspace and c.state = 'live';
  return jsonb_build_object('workspace_id', workspace, 'views', views, 'custom_inboxes', inboxes,
                            'segments', segments, 'conversations', jsonb_build_object('live', live));
end
$$;
grant execute on function api.inbox_counts(uuid) to authenticated, service_role;
comment on function api.inbox_counts(p_workspace_id uuid) is
  'Returns the sidebar counts of a workspace in one call: {workspace_id, views: {all, open, '
  'priority, in_progress, snoozed, resolved, ai_resolved, spam, agent_requests, sales, '
  'assigned_to_me, mentions}, custom_inboxes: {id: n}, segments: {id: n} (segments of the '
  'caller), conversations: {live: n}}. p_workspace_id may be omitted when the caller belongs to '
  'exactly one workspace. Needs Inbox permission view (or service_role); raises 42501 when not '
  'allowed and 22023 when the workspace cannot be chosen.';

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

-- The Live Feed and Completed rows: api.conversations' columns plus who it is with (the contact's
-- name or email, or Anonymous), the AI agent's name, and whether the user was active in the last
-- 30 seconds (the pulsing dot).
create view api.conversation_feed with (security_invoker = true) as
  select c.id, c.workspace_id, c.session_id, c.mode, c.ai_agent_id, c.contact_id, c.visitor_id,
         c.state, c.topic, c.sentiment, c.mood, c.ai_confidence, c.outcome, c.ai_score,
         c.ai_paused, c.metadata, c.last_user_activity_at, c.started_at, c.ended_at,
         coalesce((select coalesce(nullif(btrim(ct.name), ''), ct.email)
                   from halo.contacts ct where ct.id = c.contact_id), 'Anonymous') as user_name,
         (select a.name from halo.ai_agents a where a.id = c.ai_agent_id) as agent_name,
         coalesce(c.state = 'live' and c.last_user_activity_at > now() - interval '30 seconds', false)
           as user_active,
         c.escalation_decision, c.escalation_reason, c.escalation_decided_at
  from halo.conversations c;
comment on view api.conversation_feed is
  'Rows of the Live Feed and Completed lists: the columns of api.conversations plus user_name '
  '(the contact name or email, or Anonymous), agent_name and user_active (live and user activity '
  'in the last 30 seconds), then the escalation worker''s last decision (escalation_decision, '
  'escalation_reason, escalation_decided_at). Members with Inbox permission view may read.';

create function api.list_conversations(
  p_workspace_id uuid default null,
  p_view text default 'live',
  p_before timestamptz default null,
  p_before_id uuid default null,
  p_limit integer default 50
) returns setof api.conversation_feed
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  workspace uuid := halo.caller_workspace(p_workspace_id);
begin
  if p_limit is null or p_limit not between 1 and 200 then
    raise exception 'p_limit must be between 1 and 200, got %', p_limit using errcode = '22023';
  end if;
  if p_view = 'live' then
    return query select * from api.conversation_feed c
      where c.workspace_id = workspace and c.state = 'live'
        and (p_before is null or (c.started_at, c.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      order by c.started_at desc, c.id desc limit p_limit;
  elsif p_view = 'completed' then
    return query select * from api.conversation_feed c
      where c.workspace_id = workspace and c.state = 'completed'
        and (p_before is null or (c.ended_at, c.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      order by c.ended_at desc, c.id desc limit p_limit;
  else
    raise exception 'unknown conversation view %; use live or completed', p_view using errcode = '22023';
  end if;
end
$$;
grant execute on function api.list_conversations(uuid, text, timestamptz, uuid, integer) to authenticated, service_role;
comment on function api.list_conversations(p_workspace_id uuid, p_view text, p_before timestamp with time zone, p_before_id uuid, p_limit integer) is
  'Returns one page of the Live Feed (p_view live, newest start first) or Completed list (p_view '
  'completed, newest end first) as api.conversation_feed rows. Keyset pagination: pass the '
  'started_at (live) or ended_at (completed) and id of the last row as p_before and p_before_id; '
  'p_limit 1 to 200; p_workspace_id may be omitted when the caller belongs to exactly one '
  'workspace. Needs Inbox permission view (or service_role); raises 42501 when not allowed and '
  '22023 for an unknown view, a bad limit or when the workspace cannot be chosen.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.custom_inboxes to authenticated;

grant select, insert, update, delete on halo.segments to authenticated;

grant all on halo.custom_inboxes to service_role;

grant all on halo.segments to service_role;

grant select, insert, update, delete on api.custom_inboxes to authenticated, service_role;

grant select, insert, update, delete on api.segments to authenticated, service_role;

grant all on halo.ticket_count_deltas to service_role;

grant select on api.conversation_feed to authenticated, service_role;

grant select on api.ticket_rows to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
