-- GoTrue's audit trail (instance_id is always the nil UUID; ip_address is left empty as GoTrue does).

-- name: insert_entry
insert into auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
values ('00000000-0000-0000-0000-000000000000', $1, $2, now(), '')
