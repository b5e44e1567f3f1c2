-- User stories: who may see and track presence on Acme's ticket topics. Realtime checks a private
-- channel by selecting and inserting realtime.messages rows as the user, with `realtime.topic` set
-- to the channel's topic; this file does the same. Demo data from supabase/seed.sql; rolled back.
begin;
select plan(9);

\set ticket '''a1000000-0000-4000-8000-000000000001'''
\set remy '{"sub": "a0000000-0000-4000-8000-000000000004", "role": "authenticated"}'
\set vic '{"sub": "a0000000-0000-4000-8000-000000000005", "role": "authenticated"}'
\set gina '{"sub": "a0000000-0000-4000-8000-000000000006", "role": "authenticated"}'

-- The probe rows Realtime inserts on its privileged connection before it becomes the user.
insert into realtime.messages (topic, extension, payload, event, private)
values ('ticket:' || :ticket, 'presence', '{}', 'probe', true),
       ('ticket:' || :ticket || ':reply', 'presence', '{}', 'probe', true);

create function pg_temp.presence_rows() returns bigint language sql as $$
  select count(*) from realtime.messages where topic = realtime.topic() and extension = 'presence'
$$;
create function pg_temp.track() returns void language sql as $$
  insert into realtime.messages (topic, extension, payload, event, private)
  values (realtime.topic(), 'presence', '{}', 'track', true)
$$;

-- Vic has Inbox: View. He is present on the ticket and sees who composes, but composes nothing.
set local role authenticated;
select set_config('request.jwt.claims', :'vic', true);
select set_config('realtime.topic', 'ticket:' || :ticket, true);
select is(pg_temp.presence_rows(), 1::bigint, 'Vic sees who is on the ticket');
select lives_ok($$ select pg_temp.track() $$, 'and may be present there (viewing, typing)');
select set_config('realtime.topic', 'ticket:' || :ticket || ':reply', true);
select is(pg_temp.presence_rows(), 1::bigint, 'Vic sees who is composing a reply');
select throws_ok($$ select pg_temp.track() $$, '42501', null,
  'but cannot be marked as composing one: that needs Inbox: Reply');

-- Remy has Inbox: Reply: he composes.
select set_config('request.jwt.claims', :'remy', true);
select lives_ok($$ select pg_temp.track() $$, 'Remy may be marked as composing a reply');
select throws_ok(
  $$ insert into realtime.messages (topic, extension, payload, event, private)
     values (realtime.topic(), 'broadcast', '{}', 'hello', true) $$,
  '42501', null, 'no member sends broadcasts on a product topic');

-- Gina owns another workspace: Acme's ticket topics do not exist for her.
select set_config('request.jwt.claims', :'gina', true);
select set_config('realtime.topic', 'ticket:' || :ticket, true);
select is(pg_temp.presence_rows(), 0::bigint, 'Gina sees nobody on an Acme ticket');
select throws_ok($$ select pg_temp.track() $$, '42501', null, 'and cannot be present there');

-- A topic with an unknown suffix belongs to nobody.
select set_config('request.jwt.claims', :'remy', true);
select set_config('realtime.topic', 'ticket:' || :ticket || ':typing', true);
select throws_ok($$ select pg_temp.track() $$, '42501', null,
  'only ticket:<id> and ticket:<id>:reply are ticket topics');

select * from finish();
rollback;
