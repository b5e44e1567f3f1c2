-- What every Halo migration relies on from the Supabase platform: API roles, auth helpers that
-- read the request's JWT claims, realtime objects, and the two Halo schemas.
begin;
select plan(17);

select has_role('anon');
select has_role('authenticated');
select has_role('service_role');
select has_role('authenticator');
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'), 'service_role bypasses RLS');
select ok(not (select rolinherit from pg_roles where rolname = 'authenticator'), 'authenticator does not inherit');

select has_function('auth', 'uid', 'auth.uid() exists');
select has_table('realtime', 'messages', 'realtime.messages exists');
select ok(
  (select relrowsecurity from pg_class where oid = 'realtime.messages'::regclass),
  'realtime.messages has RLS enabled'
);
select ok(exists (select 1 from pg_publication where pubname = 'supabase_realtime'), 'the supabase_realtime publication exists');
select has_schema('halo');
select has_schema('api');

-- auth.uid() and auth.jwt() read the claims PostgREST sets for the request.
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"7d5a2b8e-0000-4000-8000-000000000001","role":"authenticated","email":"a@example.com"}', true);
select is(auth.uid(), '7d5a2b8e-0000-4000-8000-000000000001'::uuid, 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.jwt() ->> 'email', 'a@example.com', 'auth.jwt() returns the claims');

-- The private schema keeps its tables away from API roles.
select ok(not has_schema_privilege('anon', 'halo', 'create'), 'anon cannot create in halo');
reset role;
select ok(has_schema_privilege('authenticated', 'api', 'usage'), 'authenticated can use the api schema');

select * from finish();
rollback;
