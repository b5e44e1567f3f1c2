-- Views (issue 6): the built-in ticket views, the FilterBar filter compiler, custom inboxes
-- (workspace-wide) and segments (personal), one paginated list function for all of them, the
-- sidebar counts, and the conversation lists (Live Feed, Completed).
--
-- A filter is JSON: a group {"op": "and"|"or"|"not", "children": [node, ...]} ("not" negates the
-- AND of its children) or a condition {"field": f, "cmp": c, "value": v}. halo.compile_filter
-- checks it against a whitelist of fields and operators and returns SQL text plus a text[] of
-- values; the SQL names columns only through the whitelist (format %I / fixed expressions) and
-- reads every value as `$1[n]`, so the list function runs it with `execute ... using` and no
-- value is ever part of SQL text. Every condition is two-valued (null counts as "no match"),
-- so "not" means exactly "does not match". Bad filters raise 22023 naming the path and the field
-- or operator.

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
create index custom_inboxes_workspace_idx on halo.custom_inboxes (workspace_id, position);
create index custom_inboxes_created_by_idx on halo.custom_inboxes (created_by);

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
create index segments_owner_idx on halo.segments (workspace_id, user_id, position);
create index segments_user_id_idx on halo.segments (user_id);

-- Indexes for the built-in views' first pages and counts (see README, Performance).
create index tickets_active_idx on halo.tickets (workspace_id, last_activity_at desc, id desc)
  where status_category in ('open', 'in_progress');
create index tickets_assignee_active_idx on halo.tickets (workspace_id, assignee_id, last_activity_at desc)
  where status_category in ('open', 'in_progress');
create index tickets_category_idx on halo.tickets (workspace_id, category, last_activity_at desc)
  where category is not null;
create index tickets_source_idx on halo.tickets (workspace_id, source, last_activity_at desc);
create index tickets_last_activity_idx on halo.tickets (workspace_id, last_activity_at desc);
create index tickets_counts_idx on halo.tickets (workspace_id, status_category, priority, resolved_by);
-- Full-text search (language-neutral 'simple' configuration: the inbox is multilingual).
create index tickets_subject_fts_idx on halo.tickets using gin (to_tsvector('simple', subject));
create index contacts_fts_idx on halo.contacts
  using gin (to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, '')));
create index messages_body_fts_idx on halo.messages
  using gin (to_tsvector('simple', coalesce(body_text, '')))
  where kind <> 'system';
create index conversations_completed_idx on halo.conversations (workspace_id, ended_at desc)
  where state = 'completed';

-- helpers -----------------------------------------------------------------------------------------

create type halo.compiled_filter as (sql text, params text[]);

-- The FilterBar's fields: name -> (SQL expression over the ticket row `t`, type). `custom:<key>`,
-- `contact.custom:<key>`, `contact.trait:<key>`, `company.custom:<key>` and `company.trait:<key>`
-- are handled in halo.filter_field with the key as a parameter.
create function halo.filter_fields() returns table (field text, expression text, type text)
language sql immutable
set search_path = ''
as $$
  values
    ('status', 'halo.ticket_status(t.status_category, t.priority, t.resolved_by)', 'text'),
    ('status_category', 't.status_category::text', 'text'),
    ('priority', 't.priority::text', 'text'),
    ('resolved_by', 't.resolved_by::text', 'text'),
    ('category', 't.category', 'text'),
    ('source', 't.source', 'text'),
    ('channel', 't.channel::text', 'text'),
    ('subject', 't.subject', 'text'),
    ('escalation_reason', 't.escalation_reason', 'text'),
    ('number', 't.number', 'number'),
    ('ai_confidence', 't.ai_confidence', 'number'),
    ('ai.confidence', 't.ai_confidence', 'number'),
    ('ai_paused', 't.ai_paused', 'boolean'),
    ('ai.paused', 't.ai_paused', 'boolean'),
    ('auto_created', 't.auto_created', 'boolean'),
    ('assignee', 't.assignee_id', 'uuid'),
    ('assignee_id', 't.assignee_id', 'uuid'),
    ('contact_id', 't.contact_id', 'uuid'),
    ('company_id', 't.company_id', 'uuid'),
    ('created_at', 't.created_at', 'time'),
    ('age', 't.created_at', 'time'),
    ('last_activity', 't.last_activity_at', 'time'),
    ('last_activity_at', 't.last_activity_at', 'time'),
    ('waiting_since', 't.waiting_since', 'time'),
    ('snoozed_until', 't.snoozed_until', 'time'),
    ('resolved_at', 't.resolved_at', 'time'),
    ('first_response_at', 't.first_response_at', 'time'),
    ('last_customer_message_at', 't.last_customer_message_at', 'time'),
    ('labels', 't.labels', 'labels'),
    ('mentions', 't.id', 'mentions'),
    ('ai.mood', '(select cv.mood::text from halo.conversations cv where cv.id = t.conversation_id)', 'text'),
    ('contact.name', '(select c.name from halo.contacts c where c.id = t.contact_id)', 'text'),
    ('contact.email', '(select c.email from halo.contacts c where c.id = t.contact_id)', 'text'),
    ('contact.external_id', '(select c.external_id from halo.contacts c where c.id = t.contact_id)', 'text'),
    ('company.name', '(select co.name from halo.companies co where co.id = t.company_id)', 'text'),
    ('company.domain', '(select co.domain from halo.companies co where co.id = t.company_id)', 'text'),
    ('company.industry', '(select co.industry from halo.companies co where co.id = t.company_id)', 'text'),
    ('company.plan', '(select co.plan from halo.companies co where co.id = t.company_id)', 'text')
$$;
grant execute on function halo.filter_fields() to authenticated, service_role;

-- Which operators each field type accepts, and the shape of their value.
create function halo.filter_operators(p_type text) returns text[]
language sql immutable
set search_path = ''
as $$
  select case p_type
    when 'text' then array['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'is_set', 'is_unset']
    when 'number' then array['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'between', 'is_set', 'is_unset']
    when 'boolean' then array['eq', 'neq', 'is_set', 'is_unset']
    when 'uuid' then array['eq', 'neq', 'in', 'not_in', 'is_set', 'is_unset']
    when 'time' then array['gt', 'gte', 'lt', 'lte', 'between', 'within_last', 'older_than', 'is_set', 'is_unset']
    when 'labels' then array['contains', 'not_contains', 'in', 'not_in', 'is_set', 'is_unset']
    when 'mentions' then array['eq', 'neq', 'is_set', 'is_unset']
    -- custom fields and traits (JSON values): text, number and boolean operators
    when 'json' then array['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'between', 'is_set', 'is_unset']
  end
$$;
grant execute on function halo.filter_operators(text) to authenticated, service_role;

-- Raises the filter error: 22023 with the JSON path of the node.
create function halo.filter_error(p_path text, p_message text) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  raise exception 'invalid filter at %: %', p_path, p_message
    using errcode = '22023', hint = 'See README "FilterBar" for fields, operators and value shapes.';
end
$$;
grant execute on function halo.filter_error(text, text) to authenticated, service_role;

-- Compiles one filter node. p_params holds the values collected so far ($1[1..n]).
create function halo.compile_filter_node(p_node jsonb, p_params text[], p_path text)
returns halo.compiled_filter
language plpgsql stable
set search_path = ''
as $$
declare
  op text;
  children jsonb;
  parts text[] := '{}';
  child halo.compiled_filter;
  params text[] := p_params;
  field text;
  cmp text;
  value jsonb;
  expr text;
  ftype text;
  json_key text;
  json_path text;
  n integer;
  sql text;
  item jsonb;
  placeholders text[];
  unit text;
  amount text;
begin
  if p_node is null or jsonb_typeof(p_node) <> 'object' then
    perform halo.filter_error(p_path, 'a node must be an object (a group with "op" and "children", or a condition with "field", "cmp" and "value")');
  end if;

  if p_node ? 'op' then
    op := p_node ->> 'op';
    if op is null or op not in ('and', 'or', 'not') then
      perform halo.filter_error(p_path, format('unknown group operator %s; use and, or or not', coalesce(p_node ->> 'op', 'null')));
    end if;
    children := p_node -> 'children';
    if children is null or jsonb_typeof(children) <> 'array' then
      perform halo.filter_error(p_path, 'a group needs "children": [...]');
    end if;
    if jsonb_array_length(children) > 50 then
      perform halo.filter_error(p_path, 'a group has at most 50 children');
    end if;
    for i in 0 .. jsonb_array_length(children) - 1 loop
      child := halo.compile_filter_node(children -> i, params, p_path || '.children[' || i || ']');
      parts := parts || child.sql;
      params := child.params;
    end loop;
    sql := case
      when cardinality(parts) = 0 then case op when 'or' then 'false' else 'true' end
      when op = 'or' then '(' || array_to_string(parts, ' or ') || ')'
      else '(' || array_to_string(parts, ' and ') || ')' end;
    if op = 'not' then
      sql := '(not ' || sql || ')';
    end if;
    return (sql, params)::halo.compiled_filter;
  end if;

  field := p_node ->> 'field';
  cmp := p_node ->> 'cmp';
  value := p_node -> 'value';
  if field is null then
    perform halo.filter_error(p_path, 'a condition needs "field"');
  end if;
  if field ~ '^(contact\.|company\.)?(custom|trait):.+$' then
    json_key := substr(field, strpos(field, ':') + 1);
    if length(json_key) > 100 then
      perform halo.filter_error(p_path, 'a custom field key has at most 100 characters');
    end if;
    params := params || json_key;
    json_path := format('-> ($1[%s])', cardinality(params));
    expr := case
      when field like 'custom:%' then 't.custom_fields'
      when field like 'contact.custom:%' then '(select c.custom_fields from halo.contacts c where c.id = t.contact_id)'
      when field like 'contact.trait:%' then '(select c.traits from halo.contacts c where c.id = t.contact_id)'
      when field like 'company.custom:%' then '(select co.custom_fields from halo.companies co where co.id = t.company_id)'
      else '(select co.traits from halo.companies co where co.id = t.company_id)' end
      || ' ' || json_path;
    ftype := 'json';
  else
    select f.expression, f.type into expr, ftype from halo.filter_fields() f where f.field = p_node ->> 'field';
    if expr is null then
      perform halo.filter_error(p_path, format('unknown field %s', field));
    end if;
  end if;
  if cmp is null or not cmp = any (halo.filter_operators(ftype)) then
    perform halo.filter_error(p_path, format('operator %s is not valid for field %s (%s); use one of %s',
      coalesce(cmp, 'null'), field, ftype, array_to_string(halo.filter_operators(ftype), ', ')));
  end if;

  -- is_set / is_unset take no value.
  if cmp in ('is_set', 'is_unset') then
    sql := case ftype
      when 'text' then format('(%s) <> %L', expr, '')
      when 'labels' then format('cardinality(%s) > 0', expr)
      when 'mentions' then 'exists (select 1 from halo.mentions mn where mn.ticket_id = t.id)'
      when 'json' then format('jsonb_typeof(%s) <> %L', expr, 'null')
      else format('(%s) is not null', expr) end;
    sql := format('coalesce(%s, false)', sql);
    return (case when cmp = 'is_set' then sql else '(not ' || sql || ')' end, params)::halo.compiled_filter;
  end if;

  -- Value shape per operator.
  if cmp in ('in', 'not_in', 'between') then
    if value is null or jsonb_typeof(value) <> 'array' or jsonb_array_length(value) = 0
       or (cmp = 'between' and jsonb_array_length(value) <> 2) or jsonb_array_length(value) > 1000 then
      perform halo.filter_error(p_path, format('%s needs %s', cmp,
        case cmp when 'between' then 'a [low, high] array' else 'a non-empty array (at most 1000 values)' end));
    end if;
  elsif value is null or jsonb_typeof(value) in ('array', 'object', 'null') then
    perform halo.filter_error(p_path, format('%s needs a single value', cmp));
  end if;

  -- Each value is checked for its type here, so that executing the SQL never fails on a cast.
  placeholders := '{}';
  for item in select v from jsonb_array_elements(case when jsonb_typeof(value) = 'array' then value
                                                       else jsonb_build_array(value) end) v loop
    if cmp in ('within_last', 'older_than') then
      if jsonb_typeof(item) <> 'string' or (item #>> '{}') !~ '^[0-9]{1,5}\s*(m|h|d|w)$' then
        perform halo.filter_error(p_path, format('%s needs a duration such as "30m", "24h", "7d" or "2w"', cmp));
      end if;
      amount := substring(item #>> '{}' from '^[0-9]+');
      unit := case right(item #>> '{}', 1) when 'm' then 'minutes' when 'h' then 'hours'
                                            when 'd' then 'days' else 'weeks' end;
      params := params || (amount || ' ' || unit);
      placeholders := placeholders || format('($1[%s])::interval', cardinality(params));
      continue;
    end if;
    case ftype
      when 'number' then
        if jsonb_typeof(item) <> 'number' or abs((item #>> '{}')::numeric) >= 1e15 then
          perform halo.filter_error(p_path, format('%s needs numbers', field));
        end if;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])::numeric', cardinality(params));
      when 'boolean' then
        if jsonb_typeof(item) <> 'boolean' then
          perform halo.filter_error(p_path, format('%s needs true or false', field));
        end if;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])::boolean', cardinality(params));
      when 'uuid', 'mentions' then
        if jsonb_typeof(item) <> 'string' or ((item #>> '{}') <> 'me'
           and (item #>> '{}') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') then
          perform halo.filter_error(p_path, format('%s needs a user or record id, or "me"', field));
        end if;
        if (item #>> '{}') = 'me' then
          placeholders := placeholders || '(select auth.uid())'::text;
        else
          params := params || (item #>> '{}');
          placeholders := placeholders || format('($1[%s])::uuid', cardinality(params));
        end if;
      when 'time' then
        if jsonb_typeof(item) <> 'string' or (item #>> '{}') !~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$' then
          perform halo.filter_error(p_path, format('%s needs an ISO 8601 timestamp', field));
        end if;
        begin
          perform (item #>> '{}')::timestamptz;
        exception when others then
          perform halo.filter_error(p_path, format('%s needs a valid ISO 8601 timestamp', field));
        end;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])::timestamptz', cardinality(params));
      when 'json' then
        if jsonb_typeof(item) not in ('string', 'number', 'boolean') then
          perform halo.filter_error(p_path, format('%s needs strings, numbers or booleans', field));
        end if;
        if cmp in ('gt', 'gte', 'lt', 'lte', 'between') and jsonb_typeof(item) <> 'number' then
          perform halo.filter_error(p_path, format('%s on %s needs numbers', cmp, field));
        end if;
        if cmp in ('contains', 'not_contains', 'starts_with') and jsonb_typeof(item) <> 'string' then
          perform halo.filter_error(p_path, format('%s on %s needs a string', cmp, field));
        end if;
        params := params || case when cmp in ('eq', 'neq', 'in', 'not_in') then item::text else item #>> '{}' end;
        placeholders := placeholders || format(case when cmp in ('eq', 'neq', 'in', 'not_in') then '($1[%s])::jsonb'
                                                   when cmp in ('contains', 'not_contains', 'starts_with') then '($1[%s])'
                                                   else '($1[%s])::numeric' end, cardinality(params));
      else  -- text, labels
        if jsonb_typeof(item) <> 'string' or length(item #>> '{}') > 1000 then
          perform halo.filter_error(p_path, format('%s needs strings (at most 1000 characters)', field));
        end if;
        params := params || (item #>> '{}');
        placeholders := placeholders || format('($1[%s])', cardinality(params));
    end case;
  end loop;

  -- Status equality compiles to the stored facts (the built-in views' predicates), so indexes on
  -- status_category apply; a value that is not one of the seven statuses matches nothing.
  if field = 'status' and cmp in ('eq', 'neq', 'in', 'not_in') and jsonb_typeof(value) in ('string', 'array') then
    select '(' || string_agg(case when v.s = any (array['open', 'priority', 'in_progress', 'snoozed',
                                                        'resolved', 'ai_resolved', 'spam'])
                                  then halo.builtin_view_sql(v.s) else 'false' end, ') or (') || ')'
      into sql
      from jsonb_array_elements_text(case when jsonb_typeof(value) = 'array' then value
                                          else jsonb_build_array(value) end) v(s);
    return (case when cmp in ('eq', 'in') then '(' || sql || ')' else '(not (' || sql || '))' end,
            params)::halo.compiled_filter;
  end if;


  -- Numbers and orderable JSON: a JSON custom value compares only when it is a number.
  if ftype = 'json' and cmp in ('gt', 'gte', 'lt', 'lte', 'between') then
    expr := format('(case when jsonb_typeof(%1$s) = %2$L then (%1$s #>> %3$L)::numeric end)', expr, 'number', '{}');
  elsif ftype = 'json' and cmp in ('contains', 'not_contains', 'starts_with') then
    expr := format('(case when jsonb_typeof(%1$s) = %2$L then %1$s #>> %3$L end)', expr, 'string', '{}');
  end if;

  sql := case cmp
    when 'eq' then case ftype
      when 'mentions' then format('exists (select 1 from halo.mentions mn where mn.ticket_id = t.id and mn.user_id = %s)', placeholders[1])
      else format('(%s) = %s', expr, placeholders[1]) end
    when 'neq' then case ftype
      when 'mentions' then format('not exists (select 1 from halo.mentions mn where mn.ticket_id = t.id and mn.user_id = %s)', placeholders[1])
      else format('(%s) is distinct from %s', expr, placeholders[1]) end
    when 'in' then case ftype
      when 'labels' then format('(%s) && array[%s]::text[]', expr, array_to_string(placeholders, ', '))
      else format('(%s) in (%s)', expr, array_to_string(placeholders, ', ')) end
    when 'not_in' then case ftype
      when 'labels' then format('not ((%s) && array[%s]::text[])', expr, array_to_string(placeholders, ', '))
      else format('(%s) is null or (%s) not in (%s)', expr, expr, array_to_string(placeholders, ', ')) end
    when 'contains' then case ftype
      when 'labels' then format('%s = any (%s)', placeholders[1], expr)
      else format('strpos(lower(%s), lower(%s)) > 0', expr, placeholders[1]) end
    when 'not_contains' then case ftype
      when 'labels' then format('not (%s = any (%s))', placeholders[1], expr)
      else format('(%1$s) is null or strpos(lower(%1$s), lower(%2$s)) = 0', expr, placeholders[1]) end
    when 'starts_with' then format('starts_with(lower(%s), lower(%s))', expr, placeholders[1])
    when 'gt' then format('(%s) > %s', expr, placeholders[1])
    when 'gte' then format('(%s) >= %s', expr, placeholders[1])
    when 'lt' then format('(%s) < %s', expr, placeholders[1])
    when 'lte' then format('(%s) <= %s', expr, placeholders[1])
    when 'between' then format('(%s) between %s and %s', expr, placeholders[1], placeholders[2])
    when 'within_last' then format('(%s) >= now() - %s', expr, placeholders[1])
    when 'older_than' then format('(%s) < now() - %s', expr, placeholders[1])
  end;
  return ('coalesce(' || sql || ', false)', params)::halo.compiled_filter;
end
$$;
grant execute on function halo.compile_filter_node(jsonb, text[], text) to authenticated, service_role;

-- A whole filter: null or {} matches everything. Also caps the filter's size.
create function halo.compile_filter(p_filter jsonb, p_params text[] default '{}')
returns halo.compiled_filter
language plpgsql stable
set search_path = ''
as $$
begin
  if p_filter is null or p_filter = '{}'::jsonb then
    return ('true', coalesce(p_params, '{}'))::halo.compiled_filter;
  end if;
  if octet_length(p_filter::text) > 20000 then
    perform halo.filter_error('$', 'a filter has at most 20000 bytes');
  end if;
  return halo.compile_filter_node(p_filter, coalesce(p_params, '{}'), '$');
end
$$;
grant execute on function halo.compile_filter(jsonb, text[]) to authenticated, service_role;

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

create function halo.custom_inbox_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform halo.emit_event(coalesce(new.workspace_id, old.workspace_id),
    'custom_inbox.' || lower(tg_op) || 'd', null, null,
    jsonb_build_object('custom_inbox_id', coalesce(new.id, old.id)));
  return null;
end
$$;

create trigger custom_inboxes_emit_event
  after insert or update or delete on halo.custom_inboxes
  for each row execute function halo.custom_inbox_changed();

-- enable RLS --------------------------------------------------------------------------------------

alter table halo.custom_inboxes enable row level security;
alter table halo.segments enable row level security;

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

-- API objects -------------------------------------------------------------------------------------

create view api.custom_inboxes with (security_invoker = true) as
  select id, workspace_id, name, emoji, filter, position, created_by, created_at, updated_at
  from halo.custom_inboxes;

create view api.segments with (security_invoker = true) as
  select id, workspace_id, user_id, name, filter, position, created_at, updated_at
  from halo.segments;

-- Checks a filter without running it: returns it unchanged, or raises 22023 naming the problem.
create function api.validate_filter(p_filter jsonb) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  perform halo.compile_filter(p_filter);
  return coalesce(p_filter, '{}');
end
$$;
grant execute on function api.validate_filter(jsonb) to authenticated, service_role;

-- The caller's workspace when p_workspace_id is null and they belong to exactly one.
create function halo.caller_workspace(p_workspace_id uuid) returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  found_ids uuid[];
begin
  if p_workspace_id is not null then
    if auth.uid() is not null and p_workspace_id not in (select halo.inbox_workspaces('view')) then
      raise exception 'reading the inbox of workspace % needs Inbox: View permission there', p_workspace_id
        using errcode = '42501';
    end if;
    return p_workspace_id;
  end if;
  select array_agg(w) into found_ids from halo.inbox_workspaces('view') w;
  if cardinality(found_ids) = 1 then
    return found_ids[1];
  end if;
  raise exception 'p_workspace_id is required (you belong to % workspaces with inbox access)',
    coalesce(cardinality(found_ids), 0) using errcode = '22023';
end
$$;
grant execute on function halo.caller_workspace(uuid) to authenticated, service_role;

-- Full-text search of a workspace's tickets: subject, the contact's name and email, message text
-- ('simple' configuration, web-search syntax). Security definer because `@@` is not leakproof:
-- behind RLS PostgreSQL may not use the GIN indexes for it and scanned every message (7.5 s on
-- 3M messages); here it checks the caller's Inbox: View permission once and uses the indexes.
-- A query of only very common words yields the 500 most recently active matches.
create function halo.search_ticket_ids(p_workspace_id uuid, p_search text) returns setof uuid
language plpgsql stable
security definer
rows 100
set search_path = ''
as $$
declare
  query tsquery := websearch_to_tsquery('simple', p_search);
begin
  if auth.uid() is not null and p_workspace_id not in (select halo.inbox_workspaces('view')) then
    raise exception 'searching workspace % needs Inbox: View permission there', p_workspace_id
      using errcode = '42501';
  end if;
  -- Words in a large share of messages ("screenshot") would fetch all those messages from the
  -- index; then the most recently active matching tickets are found by walking the tickets.
  -- "Common" = every word is among the index's most common lexemes with a frequency of 0.2% or
  -- more (ANALYZE statistics of messages_body_fts_idx; without them, nothing is common).
  if (select bool_and(coalesce(s.most_common_elem_freqs[array_position(s.most_common_elems::text::text[], w.word)], 0) >= 0.002)
        from unnest(tsvector_to_array(to_tsvector('simple', p_search))) w(word)
        left join pg_catalog.pg_stats s on s.schemaname = 'halo' and s.tablename = 'messages_body_fts_idx') then
    return query
      select t.id from halo.tickets t
       where t.workspace_id = p_workspace_id
         and (to_tsvector('simple', t.subject) @@ query
              -- offset 0 keeps this a per-ticket probe (not a hash of every matching message)
              or exists (select 1 from halo.messages m
                          where m.ticket_id = t.id and m.kind <> 'system'
                            and to_tsvector('simple', coalesce(m.body_text, '')) @@ query offset 0)
              or t.contact_id in (select c.id from halo.contacts c
                                   where c.workspace_id = p_workspace_id
                                     and to_tsvector('simple', coalesce(c.name, '') || ' ' || coalesce(c.email, '')) @@ query))
       order by t.last_activity_at desc
       limit 500;
    return;
  end if;
  return query
    select t.id from halo.tickets t
     where t.workspace_id = p_workspace_id and to_tsvector('simple', t.subject) @@ query
    union
    select m.ticket_id from halo.messages m
     where m.workspace_id = p_workspace_id and m.kind <> 'system' and m.ticket_id is not null
       and to_tsvector('simple', coalesce(m.body_text, '')) @@ query
    union
    select t.id from halo.tickets t
     where t.workspace_id = p_workspace_id
       and t.contact_id in (select c.id from halo.contacts c
                             where c.workspace_id = p_workspace_id
                               and to_tsvector('simple', coalesce(c.name, '') || ' ' || coalesce(c.email, '')) @@ query);
end
$$;
grant execute on function halo.search_ticket_ids(uuid, text) to authenticated, service_role;

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
) returns setof api.tickets
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
  return query execute format(
    'select t.* from api.tickets t where t.workspace_id = ($1[1])::uuid and %s and %s'
    ' order by t.%I %s, t.id %s limit %s',
    predicate.sql, keyset, sort_column, direction, direction, p_limit)
    using params;
end
$$;
grant execute on function api.list_tickets(uuid, text, jsonb, text, text, text, uuid, integer)
  to authenticated, service_role;

-- The conversation lists: Live Feed (live, newest first by start) and Completed (newest first by
-- end), keyset-paginated by that timestamp and id.
create function api.list_conversations(
  p_workspace_id uuid default null,
  p_view text default 'live',
  p_before timestamptz default null,
  p_before_id uuid default null,
  p_limit integer default 50
) returns setof api.conversations
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
    return query select * from api.conversations c
      where c.workspace_id = workspace and c.state = 'live'
        and (p_before is null or (c.started_at, c.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      order by c.started_at desc, c.id desc limit p_limit;
  elsif p_view = 'completed' then
    return query select * from api.conversations c
      where c.workspace_id = workspace and c.state = 'completed'
        and (p_before is null or (c.ended_at, c.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      order by c.ended_at desc, c.id desc limit p_limit;
  else
    raise exception 'unknown conversation view %; use live or completed', p_view using errcode = '22023';
  end if;
end
$$;
grant execute on function api.list_conversations(uuid, text, timestamptz, uuid, integer) to authenticated, service_role;

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.custom_inboxes, halo.segments to authenticated;
grant all on halo.custom_inboxes, halo.segments to service_role;
grant select, insert, update, delete on api.custom_inboxes, api.segments to authenticated, service_role;

-- PUBLIC may execute every new function by default; each migration takes it back itself.
revoke execute on all functions in schema halo, api from public;
