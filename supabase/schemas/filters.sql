-- The FilterBar compiler: a filter is JSON, compiled against a whitelist into SQL text and a text[]
-- of values.
--
-- A filter is a group {"op": "and"|"or"|"not", "children": [node, ...]} ("not" negates the AND of
-- its children) or a condition {"field": f, "cmp": c, "value": v}. halo.compile_filter checks it
-- against halo.filter_fields and halo.filter_operators and returns SQL that names columns only
-- through the whitelist and reads every value as `$1[n]`: the list function runs it with
-- `execute ... using`, so no value is ever part of SQL text. Every condition is two-valued (null
-- counts as "no match"), so "not" means exactly "does not match". Bad filters raise 22023 naming
-- the JSON path and the field or operator (halo.filter_error); api.validate_filter checks one.

-- types -------------------------------------------------------------------------------------------

create type halo.compiled_filter as (sql text, params text[]);

-- helpers -----------------------------------------------------------------------------------------

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

-- Raises the filter error: 22023 with the JSON path of the node. Volatile, since raising is its
-- effect: the planner may pre-evaluate an immutable call and raise where no filter was wrong.
create function halo.filter_error(p_path text, p_message text) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  raise exception 'invalid filter at %: %', p_path, p_message
    using errcode = '22023', hint = 'docs/workflows-and-views.md, section FilterBar, lists the fields, operators and value shapes.';
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

-- api ---------------------------------------------------------------------------------------------

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
comment on function api.validate_filter(p_filter jsonb) is
  'Checks a FilterBar filter without running it and returns it unchanged (null becomes {}). A '
  'filter is a group {op: and, or or not, children: [...]} or a condition {field, cmp, value}; '
  'raises 22023 naming the JSON path and the unknown field, operator or bad value.';

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
