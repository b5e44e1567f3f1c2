-- The catalog reads and the visibility check of Postgres Changes delivery (changes.py).

-- name: row_visible
-- Whether the subscriber (role, claims) may select the changed row: realtime.halo_row_visible,
-- created by capture.sql.
select realtime.halo_row_visible($1, $2, $3, $4::text[])

-- name: selectable_columns
select coalesce(array_agg(attname::text), '{}') from pg_catalog.pg_attribute
where attrelid = $2 and attnum > 0 and not attisdropped
  and has_column_privilege($1, $2::oid, attnum, 'SELECT')

-- name: published_tables
select schemaname, tablename, attnames
from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime'

-- name: type_names
select oid, typname, format_type(oid, null) as full_name from pg_type
where oid = any($1::oid[])

-- name: row_security
select relrowsecurity from pg_class where oid = $1

-- name: primary_key_columns
select coalesce(array_agg(a.attname order by a.attnum), '{}')
from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
where i.indrelid = $1 and i.indisprimary
