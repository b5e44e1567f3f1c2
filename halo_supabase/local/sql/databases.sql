-- Recreating a database of the embedded cluster empty (postgres.py).
-- `{database}` is an identifier, filled in with psycopg.sql.Identifier.

-- name: database_exists
select exists (select 1 from pg_database where datname = %s)

-- name: refuse_connections
-- While it is dropped, nothing may connect again: the gateway's Realtime capture reconnects at
-- once and would create its replication slot anew, which DROP DATABASE (even WITH (FORCE)) refuses.
alter database {database} with allow_connections false

-- name: allow_connections
alter database {database} with allow_connections true

-- name: close_connections
select pg_terminate_backend(pid) from pg_stat_activity
where datname = %s and pid <> pg_backend_pid()

-- name: drop_released_replication_slots
-- A temporary slot goes with its terminated session; a permanent one that no session holds would
-- outlive nothing useful: the database it decodes is being dropped.
select pg_drop_replication_slot(slot_name) from pg_replication_slots
where database = %s and not active and not temporary

-- name: held_replication_slots
select coalesce(array_agg(slot_name::text order by slot_name), '{}') from pg_replication_slots
where database = %s

-- name: drop_database
drop database if exists {database} with (force)

-- name: create_database
create database {database}
