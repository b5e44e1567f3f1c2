-- The review checklist of Supabase's database linter (splinter), as one catalog query over the
-- project's own objects. Objects Supabase owns (auth, storage, realtime's tables and functions,
-- the migration history) and objects that belong to extensions are not ours to fix and are left
-- out; policies are checked everywhere, since ours may sit on realtime.messages.
-- Columns: check, object, detail.
with ours as (
  select n.oid, n.nspname
  from pg_namespace n
  where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'auth', 'storage',
                          'realtime', 'extensions', 'supabase_migrations', 'graphql',
                          'graphql_public', 'vault', 'pgsodium', 'net', 'cron')
    and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast_temp%'
),
extension_objects as (
  select objid from pg_depend where deptype = 'e'
),
policies as (
  select p.schemaname, p.tablename, p.policyname,
         coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '') as expr
  from pg_policies p
)
select 'table_without_rls' as check, format('%I.%I', o.nspname, c.relname) as object,
       'row-level security is not enabled' as detail
from pg_class c join ours o on o.oid = c.relnamespace
where c.relkind in ('r', 'p') and not c.relrowsecurity
  and c.oid not in (select objid from extension_objects)

union all
select 'policy_without_rls', format('%I.%I: %s', n.nspname, c.relname, pol.polname),
       'the table has a policy but row-level security is off, so the policy does nothing'
from pg_policy pol
join pg_class c on c.oid = pol.polrelid
join pg_namespace n on n.oid = c.relnamespace
where not c.relrowsecurity

union all
select 'security_definer_without_search_path',
       format('%I.%I(%s)', o.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
       'security definer function without `set search_path = ''''`'
from pg_proc p join ours o on o.oid = p.pronamespace
where p.prosecdef
  and p.oid not in (select objid from extension_objects)
  and not coalesce('search_path=""' = any (p.proconfig), false)

union all
select 'function_executable_by_public',
       format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
       'PUBLIC (so anon) may execute it; revoke execute from public and grant role by role'
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('api', 'halo')
  and (p.proacl is null
       or exists (select 1 from aclexplode(p.proacl) a
                  where a.grantee = 0 and a.privilege_type = 'EXECUTE'))

union all
select 'unwrapped_auth_function_in_policy', format('%I.%I: %s', schemaname, tablename, policyname),
       'auth.uid()/jwt()/role()/email() or current_setting() is called per row; write (select auth.uid())'
from policies
where regexp_replace(expr, 'select\s+(auth\.(uid|jwt|role|email)|current_setting)\(', '', 'gi')
      ~* '(auth\.(uid|jwt|role|email)|current_setting)\('

union all
select 'multiple_permissive_policies', format('%I.%I: %s for %s', p.schemaname, p.tablename, p.cmd, r.role),
       'several permissive policies for one command and role are all evaluated; merge them'
from pg_policies p cross join lateral unnest(p.roles) r(role)
where p.permissive = 'PERMISSIVE'
group by p.schemaname, p.tablename, p.cmd, r.role
having count(*) > 1

union all
select 'foreign_key_without_index', format('%I.%I: %s', o.nspname, c.relname, con.conname),
       'no index starts with the foreign key''s columns'
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join ours o on o.oid = c.relnamespace
where con.contype = 'f'
  and not exists (
    select 1 from pg_index i
    where i.indrelid = con.conrelid
      and (select array_agg(k order by k)
           from unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)]) k)
        = (select array_agg(k order by k) from unnest(con.conkey) k)
  )

union all
select 'security_definer_function_in_exposed_schema',
       format('%I.%I(%s)', o.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
       'a security definer function in a schema PostgREST exposes can be called over HTTP with its '
       'owner''s rights; keep the body in the private halo schema and expose a security invoker wrapper'
from pg_proc p join ours o on o.oid = p.pronamespace
where p.prosecdef and o.nspname in ('api', 'public', 'graphql_public')
  and p.oid not in (select objid from extension_objects)

union all
select 'security_definer_view', format('%I.%I', o.nspname, c.relname),
       'the view runs with its owner''s rights; create it `with (security_invoker = true)`'
from pg_class c join ours o on o.oid = c.relnamespace
where c.relkind = 'v'
  and c.oid not in (select objid from extension_objects)
  and not coalesce(c.reloptions && array['security_invoker=true', 'security_invoker=on',
                                         'security_invoker=1', 'security_invoker=yes'], false)

order by 1, 2
