-- Halo's seven statuses are derived from orthogonal facts (category, priority, resolver): the
-- demo tickets show one of each, and moving between them keeps the facts consistent.
begin;
select plan(11);

select results_eq(
  $$ select status, status_category::text, priority::text, coalesce(resolved_by::text, '-')
     from api.tickets where workspace_id = 'b0000000-0000-4000-8000-000000000001' order by number $$,
  $$ values ('open', 'open', 'normal', '-'),
            ('priority', 'open', 'urgent', '-'),
            ('in_progress', 'in_progress', 'high', '-'),
            ('snoozed', 'snoozed', 'normal', '-'),
            ('resolved', 'resolved', 'normal', 'human'),
            ('ai_resolved', 'resolved', 'low', 'ai'),
            ('spam', 'spam', 'normal', '-') $$,
  'one demo ticket in each of the seven statuses, each from its facts');

-- Maya (Inbox: Manage) walks the open ticket through the statuses.
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "a0000000-0000-4000-8000-000000000003", "role": "authenticated"}', true);
\set ticket '''a1000000-0000-4000-8000-000000000001'''

select is((select priority::text from api.set_ticket_status(:ticket, 'priority')), 'high',
  'marking it Priority raises its priority');
select is((select priority::text from api.set_ticket_status(:ticket, 'open')), 'normal',
  'and moving it back to Open lowers it again');
select is(
  (select snoozed_until > now() from api.set_ticket_status(:ticket, 'snoozed', now() + interval '1 day')),
  true, 'snoozing keeps the wake-up time');
select throws_ok(
  format($$ select api.set_ticket_status(%L, 'snoozed', now() - interval '1 minute') $$, :ticket),
  '22023', 'snoozing needs p_snoozed_until in the future', 'a snooze must end in the future');
select is((select snoozed_until from api.set_ticket_status(:ticket, 'in_progress')), null,
  'leaving Snoozed clears the wake-up time');
select throws_ok(
  format($$ select api.set_ticket_status(%L, 'ai_resolved') $$, :ticket),
  '42501', 'a teammate resolves ticket #1 as human; AI Resolved is recorded only by the AI runtime and automations',
  'a teammate cannot set AI Resolved');
select throws_ok(
  format($$ select api.transition_ticket(%L, 'resolve', p_resolved_by => 'ai') $$, :ticket),
  '42501', 'a teammate resolves ticket #1 as human; AI Resolved is recorded only by the AI runtime and automations',
  'nor resolve as the AI through the status actions: one rule for both');
-- The AI runtime acts as the service role, without a user.
set local role service_role;
select set_config('request.jwt.claims', '{"role": "service_role"}', true);
select is((select resolved_by::text from api.set_ticket_status(:ticket, 'ai_resolved')), 'ai',
  'AI Resolved is resolved by the AI (the service role, no user)');
select throws_ok(
  format($$ select api.set_ticket_status(%L, 'closed') $$, :ticket),
  '22023', 'unknown status closed; use open, priority, in_progress, snoozed, resolved, ai_resolved or spam',
  'an unknown status is refused by name');
select throws_ok(
  format($$ select api.update_ticket(%L, p_metadata => jsonb_build_object('blob', repeat('x', 50001))) $$, :ticket),
  '22023', 'metadata is 50013 bytes; the limit is 50000', 'metadata over 50,000 bytes is refused');

select * from finish();
rollback;
