-- The two schemas everything else lives in.
--
--   halo  private: tables, policy helpers, trigger functions and the bodies of the few functions
--         that need their owner's rights. Never exposed over HTTP.
--   api   the contract for dashboards, API clients and workers: security_invoker views and RPC
--         functions, the only schema PostgREST exposes (`[api] schemas = ["api"]` in config.toml).
--         Tables can change behind it without breaking a client.
--
-- Function privileges: PostgreSQL lets PUBLIC execute every new function, and that default is
-- global, so a per-schema `alter default privileges ... revoke` cannot take it away. Each schema
-- file therefore ends with `revoke execute on all functions in schema halo, api from public` and
-- grants execute function by function, role by role. The catalog lint
-- (halo_supabase/sql/catalog_lint.sql) fails on any function PUBLIC may still execute.

create schema if not exists halo;
create schema if not exists api;

comment on schema halo is 'Halo Inbox: private tables and helpers (not exposed over the API).';
comment on schema api is 'Halo Inbox: the API contract (security_invoker views and RPC functions).';

-- grants ------------------------------------------------------------------------------------------

revoke all on schema halo from public;
grant usage on schema halo to postgres, service_role;
-- Policies call helpers in halo as the requesting role, so the API roles need usage (not table
-- access: every table still needs its own grant, and RLS decides rows).
grant usage on schema halo to anon, authenticated;

revoke all on schema api from public;
grant usage on schema api to anon, authenticated, service_role;
