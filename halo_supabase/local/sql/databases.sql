-- Recreating a database of the embedded cluster empty (postgres.py).
-- `{database}` is an identifier, filled in with psycopg.sql.Identifier.

-- name: close_connections
select pg_terminate_backend(pid) from pg_stat_activity
where datname = %s and pid <> pg_backend_pid()

-- name: drop_database
drop database if exists {database} with (force)

-- name: create_database
create database {database}
