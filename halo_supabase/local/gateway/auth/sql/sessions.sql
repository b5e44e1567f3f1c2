-- Sessions, their refresh tokens (GoTrue's 12-character "v1" tokens) and AMR claims.

-- name: insert_session
insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
values ($1, $2, now(), now(), 'aal1', nullif($3, ''), $4::inet)

-- name: session_by_id
select * from auth.sessions where id = $1

-- name: session_for_update
select * from auth.sessions where id = $1 for update

-- name: touch_session
update auth.sessions
set refreshed_at = now() at time zone 'utc', updated_at = now(),
    user_agent = nullif($2, ''), ip = $3::inet
where id = $1

-- name: insert_refresh_token
insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
values ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), nullif($3, ''), $4)

-- name: refresh_token_for_update
select * from auth.refresh_tokens where token = $1 for update

-- name: active_refresh_token
select * from auth.refresh_tokens where session_id = $1 and revoked = false order by id desc limit 1

-- name: revoke_refresh_token
update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1

-- name: revoke_session_tokens
update auth.refresh_tokens set revoked = true, updated_at = now()
where session_id = $1 and revoked = false

-- name: delete_refresh_token
delete from auth.refresh_tokens where id = $1

-- name: add_amr_claim
insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
values (gen_random_uuid(), $1, now(), now(), $2)
on conflict (session_id, authentication_method) do update set updated_at = now()

-- name: amr_claims
select authentication_method, updated_at from auth.mfa_amr_claims
where session_id = $1 order by updated_at desc

-- name: delete_session
delete from auth.sessions where id = $1

-- name: delete_user_sessions
delete from auth.sessions where user_id = $1

-- name: delete_other_sessions
delete from auth.sessions where user_id = $1 and id <> $2
