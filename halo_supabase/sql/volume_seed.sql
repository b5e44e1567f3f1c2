-- Realistic volume for benchmarks and query plans (`halo seed --tickets N`): 100 workspaces, one
-- of them holding 30% of the tickets and the rest a long tail (workspace k gets a share
-- proportional to 1/k), about 10 messages per ticket, timestamps skewed towards the recent past.
--
-- Set-based inserts only (generate_series, no per-row round trips), with triggers and foreign-key
-- checks off for the session (`session_replication_role = replica`, local superuser only): the
-- rows are consistent by construction, and the events, activity rows and broadcasts the triggers
-- would write are not wanted for history. Ids are md5-derived from (run, workspace, number), so a
-- message can name its ticket without a join.
--
-- Parameters arrive as settings: halo_seed.run (a short tag making ids and emails unique per run)
-- and halo_seed.tickets. Each named step is timed and reported separately.

-- name: workspaces
create temporary table seed_workspaces on commit drop as
with shares as (
  select k, 1.0 / k as weight from generate_series(1, 99) k
), tail as (
  select current_setting('halo_seed.tickets')::bigint
         - round(current_setting('halo_seed.tickets')::bigint * 0.3)::bigint as total
)
select 0 as k,
       md5(current_setting('halo_seed.run') || ':w:0')::uuid as id,
       round(current_setting('halo_seed.tickets')::bigint * 0.3)::bigint as tickets
union all
select s.k,
       md5(current_setting('halo_seed.run') || ':w:' || s.k)::uuid,
       floor(t.total * s.weight / (select sum(weight) from shares))::bigint
from shares s cross join tail t;

-- Rounding leaves a few tickets over; the first tail workspace takes them.
update seed_workspaces
   set tickets = tickets + (current_setting('halo_seed.tickets')::bigint
                            - (select sum(tickets) from seed_workspaces))
 where k = 1;

insert into halo.workspaces (id, name, created_at)
select id, 'Volume ' || current_setting('halo_seed.run') || ' #' || lpad(k::text, 2, '0'),
       now() - interval '3 years'
from seed_workspaces;

insert into halo.workspace_counters (workspace_id, last_ticket_number)
select id, tickets from seed_workspaces;

insert into halo.event_counters (workspace_id)
select id from seed_workspaces;

insert into halo.workspace_settings (workspace_id, auto_assign_on_reply)
select id, k % 2 = 0 from seed_workspaces;

-- name: teammates
-- Five per workspace: super admin, admin, and members with manage, reply and view.
insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select md5(current_setting('halo_seed.run') || ':u:' || w.k || ':' || m)::uuid,
       'authenticated', 'authenticated',
       format('agent%s.w%s.%s@volume.test', m, w.k, current_setting('halo_seed.run')),
       '{"provider": "email", "providers": ["email"]}', '{}', now(), now()
from seed_workspaces w cross join generate_series(0, 4) m;

insert into halo.members (workspace_id, user_id, role, inbox_permission, display_name)
select w.id, md5(current_setting('halo_seed.run') || ':u:' || w.k || ':' || m)::uuid,
       (array['super_admin', 'admin', 'member', 'member', 'member'])[m + 1]::halo.workspace_role,
       (array['manage', 'manage', 'manage', 'reply', 'view'])[m + 1]::halo.inbox_permission,
       (array['Ada', 'Ben', 'Cleo', 'Dev', 'Eli'])[m + 1]
from seed_workspaces w cross join generate_series(0, 4) m;

-- name: contacts
-- One contact per three tickets.
insert into halo.contacts (id, workspace_id, external_id, email, name, traits, first_seen_at, last_seen_at, created_at, updated_at)
select md5(current_setting('halo_seed.run') || ':c:' || w.k || ':' || c)::uuid, w.id,
       'usr_' || c, format('customer%s@w%s.example', c, w.k),
       (array['Alex', 'Sam', 'Kim', 'Noor', 'Luca', 'Mei', 'Ravi', 'Zoe'])[1 + c % 8] || ' ' || c,
       jsonb_build_object('plan', (array['free', 'growth', 'enterprise'])[1 + c % 3]),
       now() - interval '3 years', now() - interval '1 day' * (c % 90), now() - interval '3 years', now()
from seed_workspaces w cross join generate_series(1, greatest(1, w.tickets / 3)) c;

-- name: tickets
insert into halo.tickets (
  id, workspace_id, number, subject, status_category, priority, resolved_by, resolved_at,
  snoozed_until, category, source, channel, assignee_id, contact_id, labels, first_response_at,
  last_customer_message_at, last_activity_at, waiting_since, created_at, updated_at)
select md5(current_setting('halo_seed.run') || ':t:' || w.k || ':' || n)::uuid,
       w.id, n,
       (array['Cannot log in', 'Invoice question', 'Export fails', 'Feature request: dark mode',
              'Refund please', 'API returns 500', 'How do I invite my team?', 'SSO setup'])[1 + h % 8],
       s.category, s.priority, s.resolved_by,
       case when s.category = 'resolved' then t.created + interval '1 hour' * (1 + h % 48) end,
       case when s.category = 'snoozed' then now() + interval '1 hour' * (1 + h % 72) end,
       (array['bug', 'billing', 'agent_request', 'question'])[1 + h % 4],
       (array['email', 'widget', 'api', 'slack'])[1 + h % 4],
       (array['email', 'chat', 'api', 'integration'])[1 + h % 4]::halo.channel,
       case when s.category in ('in_progress', 'resolved') or h % 3 = 0
            then md5(current_setting('halo_seed.run') || ':u:' || w.k || ':' || (h % 4))::uuid end,
       md5(current_setting('halo_seed.run') || ':c:' || w.k || ':' || (1 + h % greatest(1, w.tickets / 3)))::uuid,
       case when h % 5 = 0 then array['vip'] when h % 7 = 0 then array['churn-risk', 'billing'] else '{}' end,
       case when t.messages > 1 then t.created + interval '17 minutes' end,
       t.created,
       t.created + interval '17 minutes' * t.messages,
       case when s.category in ('open', 'in_progress') and t.messages = 1 then t.created end,
       t.created, t.created + interval '17 minutes' * t.messages
from seed_workspaces w
cross join generate_series(1, w.tickets) n
cross join lateral (select abs(hashint8(n * 131 + w.k)) as h) hashed
cross join lateral (
  select 1 + h % 19 as messages,
         -- Cubed: most tickets are recent, a long tail reaches back three years.
         now() - interval '1095 days' * power((h % 1000003) / 1000003.0, 3) - interval '1 hour' as created
) t
cross join lateral (
  select case when h % 100 < 8 then 'open' when h % 100 < 12 then 'open'
              when h % 100 < 20 then 'in_progress' when h % 100 < 24 then 'snoozed'
              when h % 100 < 80 then 'resolved' when h % 100 < 95 then 'resolved'
              else 'spam' end::halo.ticket_status_category as category,
         case when h % 100 between 8 and 11 then 'high' else 'normal' end::halo.ticket_priority as priority,
         case when h % 100 between 24 and 79 then 'human' when h % 100 between 80 and 94 then 'ai'
         end::halo.resolver as resolved_by
) s;

-- name: messages
-- The customer opens by email; customer and teammates then alternate, with an internal note on
-- every fifth message. Rows go in ticket-id order with ids made of the ticket's id and the
-- message's position, so the primary key and the thread index grow at their right edge instead
-- of taking 10M random inserts (the difference between minutes and seconds at this size).
insert into halo.messages (
  id, workspace_id, ticket_id, kind, direction, author_kind, author_user_id, author_contact_id,
  body_text, email_message_id, created_at)
select (left(t.id::text, 24) || lpad(to_hex(m), 12, '0'))::uuid,
       t.workspace_id, t.id,
       case when r.role = 'note' then 'note' when m = 1 or t.channel = 'email' then 'email'
            else 'chat' end::halo.message_kind,
       case r.role when 'note' then 'internal' when 'customer' then 'inbound'
            else 'outbound' end::halo.message_direction,
       case r.role when 'customer' then 'customer' else 'teammate' end::halo.author_kind,
       case when r.role <> 'customer' then coalesce(t.assignee_id, t.first_user) end,
       case when r.role = 'customer' then t.contact_id end,
       (array['Hi, I need help with this.', 'Thanks, looking into it now.',
              'It still fails after clearing the cache.', 'Could you send a screenshot?',
              'Here it is, see the attachment.', 'Fixed on our side, please try again.',
              'Works now, thank you!', 'Escalating to engineering.'])[1 + (m + t.number) % 8],
       case when m = 1 then t.id || '.1@customer.example' end,
       t.created_at + interval '17 minutes' * (m - 1)
from (
  select t.id, t.workspace_id, t.number, t.channel, t.assignee_id, t.contact_id, t.created_at,
         round(extract(epoch from t.last_activity_at - t.created_at) / 1020)::int as messages,
         md5(current_setting('halo_seed.run') || ':u:' || w.k || ':0')::uuid as first_user
  from halo.tickets t join seed_workspaces w on w.id = t.workspace_id
  order by t.id
) t
cross join lateral generate_series(1, t.messages) m
cross join lateral (
  select case when m > 1 and m % 5 = 0 then 'note' when m % 2 = 1 then 'customer'
              else 'teammate' end as role
) r;

-- name: counts
-- The sidebar counts (halo.ticket_count_deltas) of the workspaces seeded with triggers off.
select halo.recount_tickets(id) from seed_workspaces;

-- name: analyze
analyze halo.workspaces, halo.members, halo.contacts, halo.tickets, halo.messages;
