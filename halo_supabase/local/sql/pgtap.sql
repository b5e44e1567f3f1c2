-- pgTAP for `halo test db` (pgtap.py).

-- name: pgtap_available
select exists (select 1 from pg_available_extensions where name = 'pgtap')

-- name: create_pgtap
create extension if not exists pgtap with schema extensions
