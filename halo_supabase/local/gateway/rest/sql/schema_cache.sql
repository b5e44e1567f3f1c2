-- The catalog queries the REST schema cache is built from (schema_cache.py), by name.

-- name: relations
-- Every table, view, materialized view and foreign table PostgREST could expose or embed through:
-- those in the exposed schemas, plus base tables that views or foreign keys point at.
select c.oid::int8 as oid,
       n.nspname as schema,
       c.relname as name,
       c.relkind::text as kind,
       n.nspname = any($1::text[]) as exposed,
       obj_description(c.oid, 'pg_class') as description,
       coalesce((
         select json_agg(json_build_object(
                  'num', a.attnum,
                  'name', a.attname,
                  'type', format_type(a.atttypid, a.atttypmod),
                  'element_type', format_type(nullif(t.typelem, 0), null),
                  'category', t.typcategory,
                  'nullable', not a.attnotnull,
                  'default', pg_get_expr(d.adbin, d.adrelid),
                  'description', col_description(c.oid, a.attnum)) order by a.attnum)
           from pg_attribute a
           join pg_type t on t.oid = a.atttypid
           left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
          where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]')::text as columns,
       coalesce((
         select json_agg(k.conkey)
           from pg_constraint k
          where k.conrelid = c.oid and k.contype in ('p', 'u')), '[]')::text as unique_keys,
       (select k.conkey::int[] from pg_constraint k where k.conrelid = c.oid and k.contype = 'p') as primary_key,
       (select r.ev_action::text from pg_rewrite r
         where r.ev_class = c.oid and r.rulename = '_RETURN') as view_tree
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'v', 'm', 'f', 'p')
   and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
   and (n.nspname = any($1::text[]) or c.relkind in ('r', 'p'))

-- name: foreign_keys
-- Foreign keys between user tables; the schema cache maps them onto exposed tables and views.
select k.conname as name,
       k.conrelid::int8 as child,
       k.conkey::int[] as child_columns,
       k.confrelid::int8 as parent,
       k.confkey::int[] as parent_columns
  from pg_constraint k
  join pg_namespace n on n.oid = k.connamespace
 where k.contype = 'f'
   and n.nspname not in ('pg_catalog', 'information_schema')

-- name: functions
-- Functions callable at /rpc/<name> in the exposed schemas.
select p.oid::int8 as oid,
       n.nspname as schema,
       p.proname as name,
       p.provolatile::text as volatility,
       p.proretset as returns_set,
       p.pronargdefaults as defaults,
       p.provariadic <> 0 as variadic,
       coalesce(p.proargnames, '{}') as arg_names,
       coalesce(p.proargmodes::text[], '{}') as arg_modes,
       array(select format_type(x, null)
               from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(x, i)
              order by i) as arg_types,
       format_type(p.prorettype, null) as return_type,
       rt.typtype::text as return_kind,
       nullif(rt.typrelid, 0)::int8 as return_relation,
       obj_description(p.oid, 'pg_proc') as description,
       p.prosrc ~ 'response\.(headers|status)' as sets_response
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  join pg_type rt on rt.oid = p.prorettype
 where n.nspname = any($1::text[])
   and p.prokind = 'f'
