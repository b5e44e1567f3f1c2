-- Users and identities, as GoTrue reads and writes them (instance_id is always the nil UUID).

-- name: user_by_id
select * from auth.users where id = $1

-- name: user_by_id_for_update
select * from auth.users where id = $1 for update

-- name: user_by_email
select * from auth.users
where instance_id = '00000000-0000-0000-0000-000000000000'
  and lower(email) = $1 and aud = $2 and is_sso_user = false
limit 1

-- name: user_by_phone
select * from auth.users
where instance_id = '00000000-0000-0000-0000-000000000000' and phone = $1 and aud = $2
limit 1

-- name: email_taken
-- GoTrue counts an address as taken when a user or any of its identities has it.
select exists (
  select 1 from auth.users
  where lower(email) = $1 and aud = $2 and is_sso_user = false and id is distinct from $3
) or exists (
  select 1 from auth.identities i join auth.users u on u.id = i.user_id
  where i.email = $1 and i.provider = 'email' and u.aud = $2 and u.id is distinct from $3
)

-- name: phone_taken
select exists (
  select 1 from auth.users where phone = $1 and aud = $2 and id is distinct from $3
)

-- name: insert_user
-- Inserted with an empty role and no confirmation, as GoTrue does, then finished by save_user:
-- insert triggers on auth.users see the row exactly as they would on Supabase.
insert into auth.users (
  instance_id, id, aud, role, email, phone, encrypted_password,
  raw_app_meta_data, raw_user_meta_data, is_anonymous, is_sso_user,
  confirmation_token, recovery_token, email_change_token_new, email_change,
  created_at, updated_at
) values (
  '00000000-0000-0000-0000-000000000000', $1, $2, '', nullif($3, ''), nullif($4, ''), $5,
  $6, $7, $8, false,
  '', '', '', '',
  now(), now()
)
returning *

-- name: save_user
update auth.users set
  role = $2,
  email = nullif($3, ''),
  phone = nullif($4, ''),
  encrypted_password = $5,
  email_confirmed_at = $6,
  phone_confirmed_at = $7,
  confirmation_sent_at = $8,
  email_change = $9,
  email_change_sent_at = $10,
  email_change_token_new = $11,
  phone_change = $12,
  phone_change_sent_at = $13,
  raw_app_meta_data = $14,
  raw_user_meta_data = $15,
  banned_until = $16,
  is_anonymous = $17,
  deleted_at = $18,
  last_sign_in_at = $19,
  updated_at = now()
where id = $1
returning *

-- name: touch_last_sign_in
update auth.users set last_sign_in_at = now(), updated_at = now()
where id = $1
returning last_sign_in_at, updated_at

-- name: delete_user
delete from auth.users where id = $1

-- name: count_users
select count(*) from auth.users
where instance_id = '00000000-0000-0000-0000-000000000000' and aud = $1
  and ($2 = '' or email like '%' || $2 || '%' or raw_user_meta_data ->> 'full_name' ilike '%' || $2 || '%')

-- name: page_of_users
select * from auth.users
where instance_id = '00000000-0000-0000-0000-000000000000' and aud = $1
  and ($2 = '' or email like '%' || $2 || '%' or raw_user_meta_data ->> 'full_name' ilike '%' || $2 || '%')
order by created_at desc, id desc
limit $3 offset $4

-- name: identities_of_users
select * from auth.identities where user_id = any($1::uuid[]) order by created_at, id

-- name: identity_of_user
select * from auth.identities where user_id = $1 and provider = $2

-- name: insert_identity
insert into auth.identities (
  provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at
) values ($1, $2, $3, $4, now(), now(), now())
returning *

-- name: update_identity_data
update auth.identities set identity_data = $2, updated_at = now() where id = $1
