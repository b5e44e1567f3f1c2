"""The demo logins printed in README exist, can sign in with the printed password, and hold the
roles the README says."""

from __future__ import annotations

import bcrypt
import psycopg

from tests.db.demo import PASSWORD

# email, workspace, role, Inbox permission: the README's "Demo logins" table.
LOGINS = [
    ("owner@acme.test", "Acme Support", "super_admin", "manage"),
    ("admin@acme.test", "Acme Support", "admin", "manage"),
    ("manager@acme.test", "Acme Support", "member", "manage"),
    ("agent@acme.test", "Acme Support", "member", "reply"),
    ("viewer@acme.test", "Acme Support", "member", "view"),
    ("owner@globex.test", "Globex Helpdesk", "super_admin", "manage"),
]


def test_demo_logins_sign_in_with_the_printed_password(project_db: str) -> None:
    with psycopg.connect(project_db) as conn:
        rows = conn.execute(
            "select u.email, w.name, m.role::text, m.inbox_permission::text,"
            " u.encrypted_password, u.email_confirmed_at is not null,"
            " exists (select 1 from auth.identities i where i.user_id = u.id)"
            " from auth.users u join halo.members m on m.user_id = u.id"
            " join halo.workspaces w on w.id = m.workspace_id order by u.email"
        ).fetchall()
        has_pgcrypto = conn.execute(
            "select exists (select 1 from pg_extension where extname = 'pgcrypto')"
        ).fetchone() == (True,)
        for email, *_ in rows:
            if has_pgcrypto:
                # The check GoTrue's bcrypt makes, done by PostgreSQL's own implementation.
                same = conn.execute(
                    "select encrypted_password = extensions.crypt(%s, encrypted_password)"
                    " from auth.users where email = %s",
                    (PASSWORD, email),
                ).fetchone()
                assert same == (True,), email
    assert sorted((e, w, r, p) for e, w, r, p, *_ in rows) == sorted(LOGINS)
    for email, _, _, _, hashed, confirmed, has_identity in rows:
        assert bcrypt.checkpw(PASSWORD.encode(), str(hashed).encode()), email
        assert confirmed and has_identity, email
