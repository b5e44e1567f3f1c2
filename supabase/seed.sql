-- Seed data for `halo db reset` and `supabase db reset`: the demo workspace "Acme Support" with
-- one teammate per role and Inbox permission (all sign in with the password `halo-demo-2026`, see
-- README), customers, a ticket in each of the seven statuses with threads, and live and completed
-- AI conversations; plus a second workspace to show that tenants do not see each other.
-- Fixed ids so that demos and docs can point at rows.

-- teammates who can sign in ---------------------------------------------------------------------

insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
  confirmation_token, recovery_token, email_change_token_new, email_change
)
select '00000000-0000-0000-0000-000000000000', id::uuid, 'authenticated', 'authenticated', email,
       -- bcrypt (cost 10, as GoTrue writes it) of `halo-demo-2026`, precomputed so the seed needs
       -- no pgcrypto (the embedded PostgreSQL has none).
       '$2a$10$qOKk2M22JnLTI1/k7e1.L.GWxIRN9WgHCL1kVJiNRSkIU17UVa6Di', now(),
       '{"provider": "email", "providers": ["email"]}', jsonb_build_object('full_name', full_name),
       now(), now(), '', '', '', ''
from (values
  ('a0000000-0000-4000-8000-000000000001', 'owner@acme.test',   'Olivia Owner'),
  ('a0000000-0000-4000-8000-000000000002', 'admin@acme.test',   'Adam Admin'),
  ('a0000000-0000-4000-8000-000000000003', 'manager@acme.test', 'Maya Manager'),
  ('a0000000-0000-4000-8000-000000000004', 'agent@acme.test',   'Remy Replier'),
  ('a0000000-0000-4000-8000-000000000005', 'viewer@acme.test',  'Vic Viewer'),
  ('a0000000-0000-4000-8000-000000000006', 'owner@globex.test', 'Gina Globex')
) as demo (id, email, full_name);

insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true),
       'email', now(), now()
from auth.users u where u.email like '%@acme.test' or u.email = 'owner@globex.test';

-- workspaces and members ------------------------------------------------------------------------

insert into halo.workspaces (id, name) values
  ('b0000000-0000-4000-8000-000000000001', 'Acme Support'),
  ('b0000000-0000-4000-8000-000000000002', 'Globex Helpdesk');

insert into halo.members (workspace_id, user_id, role, inbox_permission, display_name, email_alias, online)
values
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'super_admin', 'manage', 'Olivia', 'olivia@acme.test', true),
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002', 'admin',       'manage', 'Adam',   null, false),
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000003', 'member',      'manage', 'Maya',   null, true),
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000004', 'member',      'reply',  'Remy',   null, true),
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000005', 'member',      'view',   'Vic',    null, false),
  ('b0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000006', 'super_admin', 'manage', 'Gina',   null, true);

insert into halo.alias_users (id, workspace_id, name) values
  ('c0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'Acme Support Team');

-- settings --------------------------------------------------------------------------------------

update halo.workspace_settings
   set auto_assign_on_reply = true,
       email_settings = '{"default_from": "support@acme.test", "reply_from": "assignee_alias"}'
 where workspace_id = 'b0000000-0000-4000-8000-000000000001';

insert into halo.ai_agents (id, workspace_id, name, type) values
  ('d0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'Ava', 'customer_facing'),
  ('d0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'Ops helper', 'internal');

update halo.escalation_settings set confidence_threshold = 60, max_attempts = 3
 where ai_agent_id = 'd0000000-0000-4000-8000-000000000001';

insert into halo.spam_rules (workspace_id, description) values
  ('b0000000-0000-4000-8000-000000000001', 'Sales pitches from competitors or agencies'),
  ('b0000000-0000-4000-8000-000000000001', 'Lottery winnings, crypto giveaways and suspicious links');

insert into halo.trusted_senders (workspace_id, pattern) values
  ('b0000000-0000-4000-8000-000000000001', '@globex.example'),
  ('b0000000-0000-4000-8000-000000000001', 'ceo@initech.example');

insert into halo.inbound_addresses (workspace_id, address, display_name, is_default) values
  ('b0000000-0000-4000-8000-000000000001', 'support@acme.test', 'Acme Support', true),
  ('b0000000-0000-4000-8000-000000000002', 'help@globex.test', 'Globex Helpdesk', true);

-- customers -------------------------------------------------------------------------------------

insert into halo.companies (id, workspace_id, external_id, name, domain, industry, plan, custom_fields) values
  ('e0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'cmp_globex', 'Globex', 'globex.example', 'Manufacturing', 'enterprise', '{"monthly_spend": 4200}'),
  ('e0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'cmp_initech', 'Initech', 'initech.example', 'Software', 'growth', '{"monthly_spend": 900}');

insert into halo.contacts (id, workspace_id, company_id, external_id, email, name, traits, context, first_seen_at, last_seen_at) values
  ('f0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000001', 'usr_hank', 'hank@globex.example', 'Hank Scorpio',
   '{"plan": "enterprise", "role": "CEO", "renewal_status": "likely_to_renew"}',
   '[{"label": "Open incidents", "type": "metric", "value": 0}]', now() - interval '400 days', now() - interval '2 hours'),
  ('f0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000002', 'usr_peter', 'peter@initech.example', 'Peter Gibbons',
   '{"plan": "growth", "renewal_status": "at_risk"}', '[]', now() - interval '90 days', now() - interval '10 minutes'),
  ('f0000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000001', null, 'usr_marge', 'marge@example.com', 'Marge Simpson',
   '{"plan": "free"}', '[]', now() - interval '12 days', now() - interval '1 day'),
  ('f0000000-0000-4000-8000-000000000004', 'b0000000-0000-4000-8000-000000000001', null, null, 'winner@lottery.example', null,
   '{}', '[]', now() - interval '3 hours', now() - interval '3 hours');

-- Globex's own customer: the same person may be a customer of several workspaces, as two rows.
insert into halo.contacts (id, workspace_id, external_id, email, name) values
  ('f0000000-0000-4000-8000-000000000009', 'b0000000-0000-4000-8000-000000000002', 'usr_hank', 'hank@globex.example', 'Hank Scorpio');

insert into halo.visitors (id, workspace_id, anonymous_id) values
  ('f1000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'anon-7f3a9c');

-- conversations: two live, two completed ---------------------------------------------------------

insert into halo.conversations (id, workspace_id, session_id, mode, ai_agent_id, contact_id, visitor_id, state, topic, sentiment, mood, ai_confidence, outcome, ai_score, started_at, ended_at, last_user_activity_at) values
  ('91000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'sess-live-peter', 'chat', 'd0000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-000000000002', null,
   'live', 'Invoice shows the wrong seat count', -0.6, 'frustrated', 38, null, null, now() - interval '6 minutes', null, now() - interval '20 seconds'),
  ('91000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'sess-live-anon', 'voice', 'd0000000-0000-4000-8000-000000000001', null, 'f1000000-0000-4000-8000-000000000001',
   'live', 'Pricing for teams', 0.4, 'happy', 82, null, null, now() - interval '2 minutes', null, now() - interval '5 seconds'),
  ('91000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000001', 'sess-done-marge', 'chat', 'd0000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-000000000003', null,
   'completed', 'Reset password', 0.7, 'happy', 91, 'resolved', 88, now() - interval '1 day', now() - interval '1 day' + interval '4 minutes', now() - interval '1 day'),
  ('91000000-0000-4000-8000-000000000004', 'b0000000-0000-4000-8000-000000000001', 'sess-done-hank', 'chat', 'd0000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-000000000001', null,
   'completed', 'SSO login loop', -0.3, 'confused', 31, 'escalated', 45, now() - interval '3 hours', now() - interval '2 hours 50 minutes', now() - interval '2 hours 51 minutes');

insert into halo.messages (conversation_id, kind, direction, author_kind, author_contact_id, author_visitor_id, author_ai_agent_id, body_text, created_at) values
  ('91000000-0000-4000-8000-000000000001', 'chat', 'inbound',  'customer', 'f0000000-0000-4000-8000-000000000002', null, null, 'My invoice says 40 seats, we have 25.', now() - interval '6 minutes'),
  ('91000000-0000-4000-8000-000000000001', 'chat', 'outbound', 'ai_agent', null, null, 'd0000000-0000-4000-8000-000000000001', 'I can see 25 active seats. Let me check the billing period.', now() - interval '5 minutes'),
  ('91000000-0000-4000-8000-000000000001', 'chat', 'inbound',  'customer', 'f0000000-0000-4000-8000-000000000002', null, null, 'This is the third time I am asking.', now() - interval '20 seconds'),
  ('91000000-0000-4000-8000-000000000002', 'chat', 'inbound',  'customer', null, 'f1000000-0000-4000-8000-000000000001', null, 'How much is the team plan?', now() - interval '2 minutes'),
  ('91000000-0000-4000-8000-000000000002', 'chat', 'outbound', 'ai_agent', null, null, 'd0000000-0000-4000-8000-000000000001', 'The Team plan is $49 per seat per month.', now() - interval '1 minute'),
  ('91000000-0000-4000-8000-000000000003', 'chat', 'inbound',  'customer', 'f0000000-0000-4000-8000-000000000003', null, null, 'I forgot my password.', now() - interval '1 day'),
  ('91000000-0000-4000-8000-000000000003', 'chat', 'outbound', 'ai_agent', null, null, 'd0000000-0000-4000-8000-000000000001', 'I sent a reset link to marge@example.com.', now() - interval '1 day' + interval '1 minute'),
  ('91000000-0000-4000-8000-000000000004', 'chat', 'inbound',  'customer', 'f0000000-0000-4000-8000-000000000001', null, null, 'SSO keeps sending me back to the login page.', now() - interval '3 hours'),
  ('91000000-0000-4000-8000-000000000004', 'chat', 'outbound', 'ai_agent', null, null, 'd0000000-0000-4000-8000-000000000001', 'Let me get a teammate involved.', now() - interval '2 hours 51 minutes');

-- tickets: one in each of the seven statuses ------------------------------------------------------

insert into halo.tickets (id, workspace_id, subject, status_category, priority, resolved_by, snoozed_until, category, source, channel, assignee_id, contact_id, company_id, conversation_id, labels, ai_confidence, escalation_reason, metadata, created_at, last_activity_at) values
  ('a1000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'Cannot export CSV', 'open', 'normal', null, null, 'bug', 'email', 'email', null, 'f0000000-0000-4000-8000-000000000003', null, null, '{export}', null, null, '{}', now() - interval '1 day', now() - interval '1 day'),
  ('a1000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'Production outage on EU cluster', 'open', 'urgent', null, null, 'bug', 'api', 'api', 'a0000000-0000-4000-8000-000000000003', 'f0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000001', null, '{outage,vip}', null, null, '{"has_linear_issue": true}', now() - interval '40 minutes', now() - interval '40 minutes'),
  ('a1000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000001', 'SSO login loop', 'in_progress', 'high', null, null, 'agent_request', 'widget', 'chat', 'a0000000-0000-4000-8000-000000000004', 'f0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000001', '91000000-0000-4000-8000-000000000004', '{sso}', 31, 'Low confidence (31 < 60)', '{}', now() - interval '2 hours 50 minutes', now() - interval '2 hours'),
  ('a1000000-0000-4000-8000-000000000004', 'b0000000-0000-4000-8000-000000000001', 'Renewal quote for 2027', 'snoozed', 'normal', null, now() + interval '3 days', 'billing', 'email', 'email', 'a0000000-0000-4000-8000-000000000003', 'f0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000002', null, '{renewal}', null, null, '{}', now() - interval '5 days', now() - interval '4 days'),
  ('a1000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000001', 'Change billing email', 'resolved', 'normal', 'human', null, 'billing', 'email', 'email', 'a0000000-0000-4000-8000-000000000004', 'f0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000002', null, '{}', null, null, '{}', now() - interval '9 days', now() - interval '8 days'),
  ('a1000000-0000-4000-8000-000000000006', 'b0000000-0000-4000-8000-000000000001', 'Reset password', 'resolved', 'low', 'ai', null, null, 'widget', 'chat', null, 'f0000000-0000-4000-8000-000000000003', null, '91000000-0000-4000-8000-000000000003', '{}', 91, null, '{}', now() - interval '1 day', now() - interval '1 day'),
  ('a1000000-0000-4000-8000-000000000007', 'b0000000-0000-4000-8000-000000000001', 'YOU HAVE WON 1,000,000', 'spam', 'normal', null, null, null, 'email', 'email', null, 'f0000000-0000-4000-8000-000000000004', null, null, '{}', null, null, '{}', now() - interval '3 hours', now() - interval '3 hours');

insert into halo.messages (ticket_id, kind, direction, author_kind, author_user_id, author_contact_id, author_alias_user_id, body_text, email_message_id, email_in_reply_to, email_references, email_headers, mentions, created_at) values
  ('a1000000-0000-4000-8000-000000000001', 'email', 'inbound', 'customer', null, 'f0000000-0000-4000-8000-000000000003', null,
   'The export button spins forever.', 'CAF1x9@mail.example.com', null, null,
   '{"from": "marge@example.com", "to": ["support@acme.test"], "subject": "Cannot export CSV"}', '{}', now() - interval '1 day'),
  ('a1000000-0000-4000-8000-000000000002', 'email', 'inbound', 'customer', null, 'f0000000-0000-4000-8000-000000000001', null,
   'All EU requests return 503.', null, null, null, null, '{}', now() - interval '40 minutes'),
  ('a1000000-0000-4000-8000-000000000002', 'note', 'internal', 'teammate', 'a0000000-0000-4000-8000-000000000003', null, null,
   '@Remy can you check the status page?', null, null, null, null, '{a0000000-0000-4000-8000-000000000004}', now() - interval '35 minutes'),
  ('a1000000-0000-4000-8000-000000000003', 'chat', 'outbound', 'teammate', 'a0000000-0000-4000-8000-000000000004', null, null,
   'Hi Hank, Remy here. Could you try an incognito window?', null, null, null, null, '{}', now() - interval '2 hours'),
  ('a1000000-0000-4000-8000-000000000004', 'email', 'inbound', 'customer', null, 'f0000000-0000-4000-8000-000000000002', null,
   'Can we get a quote for 30 seats next year?', 'CAB77@initech.example', null, null,
   '{"from": "peter@initech.example", "to": ["support@acme.test"], "subject": "Renewal quote for 2027"}', '{}', now() - interval '5 days'),
  ('a1000000-0000-4000-8000-000000000004', 'email', 'outbound', 'alias_user', 'a0000000-0000-4000-8000-000000000003', null, 'c0000000-0000-4000-8000-000000000001',
   'Sure, we will send it after the pricing update on Friday.', 'halo.a1000000.1@acme.test', 'CAB77@initech.example', '{CAB77@initech.example}',
   '{"from": "support@acme.test", "to": ["peter@initech.example"], "subject": "Re: Renewal quote for 2027"}', '{}', now() - interval '4 days'),
  ('a1000000-0000-4000-8000-000000000005', 'email', 'inbound', 'customer', null, 'f0000000-0000-4000-8000-000000000002', null,
   'Please send invoices to billing@initech.example.', 'CAB01@initech.example', null, null, null, '{}', now() - interval '9 days'),
  ('a1000000-0000-4000-8000-000000000005', 'email', 'outbound', 'teammate', 'a0000000-0000-4000-8000-000000000004', null, null,
   'Done: invoices now go to billing@initech.example.', 'halo.a1000000.2@acme.test', 'CAB01@initech.example', '{CAB01@initech.example}', null, '{}', now() - interval '8 days'),
  ('a1000000-0000-4000-8000-000000000007', 'email', 'inbound', 'customer', null, 'f0000000-0000-4000-8000-000000000004', null,
   'Claim your prize at http://totally-legit.example', 'spam1@lottery.example', null, null, null, '{}', now() - interval '3 hours');

-- The seeded tickets carry their real status; customer messages above must not have reopened the
-- resolved/snoozed ones, and the outbound emails are history, not work for the email worker.
update halo.tickets t
   set status_category = s.status_category, resolved_by = s.resolved_by, snoozed_until = s.snoozed_until
  from (values
    ('a1000000-0000-4000-8000-000000000004'::uuid, 'snoozed'::halo.ticket_status_category, null::halo.resolver, now() + interval '3 days'),
    ('a1000000-0000-4000-8000-000000000005'::uuid, 'resolved'::halo.ticket_status_category, 'human'::halo.resolver, null::timestamptz)
  ) as s (id, status_category, resolved_by, snoozed_until)
 where t.id = s.id and t.status_category <> s.status_category;

update halo.jobs set state = 'done', finished_at = now() where kind = 'email.send';

-- views: a shared custom inbox and a personal segment -----------------------------------------------

insert into halo.custom_inboxes (workspace_id, name, emoji, position, created_by, filter) values
  ('b0000000-0000-4000-8000-000000000001', 'Bugs', '🎫', 1, 'a0000000-0000-4000-8000-000000000001',
   '{"op": "or", "children": [{"field": "category", "cmp": "eq", "value": "bug"},
                               {"field": "labels", "cmp": "contains", "value": "bug"}]}'),
  ('b0000000-0000-4000-8000-000000000001', 'Billing', '💰', 2, 'a0000000-0000-4000-8000-000000000001',
   '{"op": "or", "children": [{"field": "source", "cmp": "eq", "value": "stripe_billing"},
                               {"field": "category", "cmp": "eq", "value": "agent_request"}]}');

insert into halo.segments (workspace_id, user_id, name, filter) values
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000003', 'My urgent ones',
   '{"op": "and", "children": [{"field": "assignee", "cmp": "eq", "value": "me"},
                                {"field": "priority", "cmp": "in", "value": ["high", "urgent"]}]}');
