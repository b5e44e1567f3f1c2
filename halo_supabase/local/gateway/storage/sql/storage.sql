-- Storage's statements, by name (loaded by queries.py). Each runs either as the request's role
-- (RLS decides) or on the admin connection where storage-api itself acts as superuser; the
-- caller picks the connection, so the same statement serves both.

-- name: bucket
select id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, created_at,
       updated_at
from storage.buckets
where id = $1;

-- name: list_buckets
-- $1 search (substring of the name, or null), $2 sort column, $3 'asc'|'desc', $4 limit, $5 offset.
select id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, created_at,
       updated_at
from storage.buckets
where $1::text is null or name ilike '%' || $1 || '%'
order by
  case when $3 = 'asc' then case $2 when 'id' then id when 'name' then name end end asc,
  case when $3 = 'desc' then case $2 when 'id' then id when 'name' then name end end desc,
  case when $3 = 'asc' then case $2 when 'created_at' then created_at
                                     when 'updated_at' then updated_at end end asc,
  case when $3 = 'desc' then case $2 when 'created_at' then created_at
                                      when 'updated_at' then updated_at end end desc,
  name
limit $4 offset $5;

-- name: insert_bucket
insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types)
values ($1, $2, $3, $4, $5, $6, $7);

-- name: update_bucket
update storage.buckets
set public = coalesce($2, public),
    file_size_limit = case when $3 then $4 else file_size_limit end,
    allowed_mime_types = case when $5 then $6 else allowed_mime_types end,
    updated_at = now()
where id = $1
returning id;

-- name: delete_bucket
delete from storage.buckets where id = $1 returning id;

-- name: bucket_has_objects
select exists (select 1 from storage.objects where bucket_id = $1);

-- name: object
select id, name, bucket_id, owner, owner_id, version, metadata, user_metadata, created_at,
       updated_at, last_accessed_at
from storage.objects
where bucket_id = $1 and name = $2;

-- name: visible_names
select name from storage.objects where bucket_id = $1 and name = any($2::text[]);

-- name: insert_object
insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
values ($1, $2, $3, $4, $5, $6, $7)
returning id, null::text as previous_version;

-- name: upsert_object
with previous as (
  select version from storage.objects where bucket_id = $1 and name = $2
)
insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
values ($1, $2, $3, $4, $5, $6, $7)
on conflict (bucket_id, name) do update
set owner = excluded.owner,
    owner_id = excluded.owner_id,
    version = excluded.version,
    metadata = excluded.metadata,
    user_metadata = excluded.user_metadata,
    updated_at = now(),
    last_accessed_at = now()
returning id, (select version from previous) as previous_version;

-- name: move_object
update storage.objects
set bucket_id = $3, name = $4, updated_at = now()
where bucket_id = $1 and name = $2
returning id, name;

-- name: delete_objects
delete from storage.objects
where bucket_id = $1 and name = any($2::text[])
returning id, name, bucket_id, owner, owner_id, version, metadata, user_metadata, created_at,
          updated_at, last_accessed_at;

-- name: empty_bucket
delete from storage.objects where bucket_id = $1 returning version;

-- name: search
select name, id, updated_at, created_at, last_accessed_at, metadata
from storage.search($1, $2, $3, $4, $5, $6, $7, $8);
