-- The two schemas every later migration builds on.
--   halo: private. Tables, policy helpers and trigger functions; never exposed over the API.
--   api:  the stable contract for dashboards, API clients and workers: security_invoker views and
--         RPC functions, exposed by PostgREST (`[api] schemas = ["api"]` in config.toml).

create schema if not exists halo;
create schema if not exists api;

comment on schema halo is 'Halo Inbox: private tables and helpers (not exposed over the API).';
comment on schema api is 'Halo Inbox: the API contract (security_invoker views and RPC functions).';

revoke all on schema halo from public;
grant usage on schema halo to postgres, service_role;
-- Policies call helpers in halo as the requesting role, so the API roles need usage (not table
-- access: every table still needs its own grant, and RLS decides rows).
grant usage on schema halo to anon, authenticated;

revoke all on schema api from public;
grant usage on schema api to anon, authenticated, service_role;

-- New functions are not executable by everyone by default; each is granted on its own.
alter default privileges in schema halo revoke execute on functions from public;
alter default privileges in schema api revoke execute on functions from public;
