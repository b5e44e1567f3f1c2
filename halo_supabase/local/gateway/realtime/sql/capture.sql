-- What change capture needs in the database before it streams (capture.py runs these, in order,
-- each time it opens a stream; both are idempotent).

-- name: create_publications
-- `supabase_realtime` for Postgres Changes, `supabase_realtime_messages_publication` for Broadcast
-- from Database (inserts on realtime.messages): the two capture.py's PUBLICATIONS streams.
do $setup$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime_messages_publication') then
    create publication supabase_realtime_messages_publication for table realtime.messages
      with (publish = 'insert');
  end if;
end
$setup$;

-- name: create_row_visible_function
-- Realtime's apply_rls does the same inside PostgreSQL: become the subscriber (role and claims,
-- local to the caller's transaction — here the statement's own) and select the row by key, so RLS
-- decides. Not security definer: a caller can only become roles it may already SET ROLE to.
create or replace function realtime.halo_row_visible(
  role_name text, claims text, statement text, keys text[]
) returns boolean
language plpgsql
as $function$
declare
  seen boolean;
begin
  perform set_config('role', role_name, true);
  perform set_config('request.jwt.claims', claims, true);
  perform set_config('request.jwt.claim.role', role_name, true);
  perform set_config('request.jwt.claim.sub', coalesce(claims::jsonb ->> 'sub', ''), true);
  execute statement into seen using keys;
  return seen;
end
$function$;
revoke all on function realtime.halo_row_visible(text, text, text, text[])
  from public, anon, authenticated, service_role;
