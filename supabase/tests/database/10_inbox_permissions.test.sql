-- User stories: the Acme Support team works one ticket, each teammate within their Inbox
-- permission; another workspace's owner and anonymous visitors see nothing. Demo data from
-- supabase/seed.sql; everything is rolled back.
begin;
select plan(18);

\set acme '''b0000000-0000-4000-8000-000000000001'''
\set ticket '''a1000000-0000-4000-8000-000000000001'''
\set owner '{"sub": "a0000000-0000-4000-8000-000000000001", "role": "authenticated"}'
\set adam '{"sub": "a0000000-0000-4000-8000-000000000002", "role": "authenticated"}'
\set maya '{"sub": "a0000000-0000-4000-8000-000000000003", "role": "authenticated"}'
\set remy '{"sub": "a0000000-0000-4000-8000-000000000004", "role": "authenticated"}'
\set vic '{"sub": "a0000000-0000-4000-8000-000000000005", "role": "authenticated"}'
\set gina '{"sub": "a0000000-0000-4000-8000-000000000006", "role": "authenticated"}'

-- Vic has Inbox: View. He reads the inbox but cannot write in it.
set local role authenticated;
select set_config('request.jwt.claims', :'vic', true);
select results_eq($$ select count(*)::int from api.tickets $$, $$ values (7) $$,
  'Vic sees the seven demo tickets');
select throws_ok(
  format($$ select api.append_message(%L, p_kind => 'note', p_body_text => 'FYI') $$, :ticket),
  '42501', 'writing in this thread needs Inbox: Reply permission in its workspace',
  'Vic cannot even write an internal note');

-- Remy has Inbox: Reply. He answers the customer; auto-assign on reply makes the ticket his.
select set_config('request.jwt.claims', :'remy', true);
select lives_ok(
  format($$ select api.append_message(%L, p_kind => 'email', p_body_text => 'Looking into it') $$, :ticket),
  'Remy replies by email');
select is((select assignee_id from api.tickets where id = :ticket),
  'a0000000-0000-4000-8000-000000000004'::uuid, 'his reply assigned the ticket to him');
select throws_ok($$ select * from api.jobs $$, '42501', null,
  'the email.send job his reply queued is for workers only');
select throws_ok(
  format($$ select api.set_ticket_status(%L, 'resolved') $$, :ticket),
  '42501', format('changing ticket %s needs Inbox: Manage permission in its workspace', :ticket),
  'resolving needs Inbox: Manage, which Remy lacks');

-- Maya has Inbox: Manage. She resolves it, and the thread records the change.
select set_config('request.jwt.claims', :'maya', true);
select is((select status from api.set_ticket_status(:ticket, 'resolved')), 'resolved',
  'Maya resolves the ticket');
-- (Remy's assignment above has the same created_at: one transaction. Pick the status change.)
select is(
  -- Remy's reply and Maya's change share one transaction, so one created_at: pick by action.
  (select activity from api.messages where ticket_id = :ticket and kind = 'system'
     and activity ->> 'action' = 'status_changed'
   order by created_at desc limit 1),
  '{"action": "status_changed", "from": "open", "to": "resolved"}'::jsonb,
  'an activity row in the thread says who changed what');

-- The customer writes again (the email worker acts as service_role): the ticket reopens.
set local role service_role;
select set_config('request.jwt.claims', '{"role": "service_role"}', true);
select lives_ok(
  format($$ select api.append_message(%L, p_kind => 'email', p_author_kind => 'customer',
           p_body_text => 'Still broken', p_email_message_id => 'again@mail.example.com') $$, :ticket),
  'the customer writes again');
select is((select status from api.tickets where id = :ticket), 'open',
  'and the resolved ticket reopens');

-- Gina owns another workspace: Acme's inbox does not exist for her.
set local role authenticated;
select set_config('request.jwt.claims', :'gina', true);
select is_empty(format($$ select 1 from api.tickets where workspace_id = %L $$, :acme),
  'Gina sees none of Acme''s tickets');
select is_empty(format($$ select 1 from api.events_since(%L, 0, 100) $$, :acme),
  'nor its events');
select throws_ok(
  format($$ select api.assign_ticket(%L, null) $$, :ticket),
  'P0002', format('ticket %s does not exist', :ticket), 'nor can she touch its tickets');

-- Anonymous visitors get nothing at all.
set local role anon;
select set_config('request.jwt.claims', '{"role": "anon"}', true);
select throws_ok($$ select * from api.tickets $$, '42501', null, 'anon cannot read tickets');

-- Team management: admins manage members, only super admins make super admins, and the last
-- super admin stays.
set local role authenticated;
select set_config('request.jwt.claims', :'adam', true);
select throws_ok(
  format($$ select api.set_member(%L, 'a0000000-0000-4000-8000-000000000002', 'super_admin', 'manage') $$, :acme),
  '42501', 'only a super admin can grant or change the super admin role',
  'Adam (admin) cannot make himself super admin');
select is(
  (select inbox_permission::text from api.set_member(:acme, 'a0000000-0000-4000-8000-000000000005', 'member', 'reply')),
  'reply', 'Adam lets Vic reply');
select set_config('request.jwt.claims', :'owner', true);
select throws_ok(
  format($$ select api.set_member(%L, 'a0000000-0000-4000-8000-000000000001', 'admin', 'manage') $$, :acme),
  '23514', 'the last super admin of a workspace cannot be demoted',
  'Olivia cannot demote herself while she is the only super admin');
select lives_ok(
  format($$ select api.set_member(%L, 'a0000000-0000-4000-8000-000000000002', 'super_admin', 'manage') $$, :acme),
  'after promoting Adam she could');

select * from finish();
rollback;
