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
