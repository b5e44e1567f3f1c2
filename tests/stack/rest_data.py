"""The REST tests' own schema and rows (tests/fixtures/rest/schema.sql), users A and B, tokens."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from halo_supabase.local.gateway.credentials import TokenService
from halo_supabase.settings import load_settings
from tests.conftest import REPO
from tests.stack.conftest import Stack

SCHEMA = "rest_fixture"
USER_A = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")
USER_B = uuid.UUID("bbbbbbbb-0000-4000-8000-000000000002")


@dataclass(frozen=True)
class RestData:
    stack: Stack
    token_a: str
    token_b: str
    expired_token: str
    foreign_token: str  # signed with another secret

    @property
    def url(self) -> str:
        return self.stack.url

    def sql(self, query: str, *args: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.stack.db_url, autocommit=True) as conn:
            cursor = conn.execute(query, args or None)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []


def _seed(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute((REPO / "tests" / "fixtures" / "rest" / "schema.sql").read_text())
        for user, email in ((USER_A, "a@example.com"), (USER_B, "b@example.com")):
            conn.execute(
                "insert into auth.users (id, aud, role, email, created_at) "
                "values (%s, 'authenticated', 'authenticated', %s, now()) on conflict (id) do nothing",
                (user, email),
            )
        conn.execute(
            "insert into rest_fixture.profiles (id, name, age, tags, data) values "
            '(%s, \'Alice\', 30, \'{admin,dev}\', \'{"city": "Paris", "langs": ["fr", "en"]}\'), '
            "(%s, 'Bob', 40, '{dev}', '{\"city\": \"Oslo\"}')",
            (USER_A, USER_B),
        )
        conn.execute(
            "insert into rest_fixture.projects (id, owner_id, name, score, period) overriding system value values "
            "(1, %s, 'alpha', 10, '[1,5)'), (2, %s, 'apollo', null, '[10,20)'), (3, %s, 'beta', 7, '[3,8)')",
            (USER_A, USER_A, USER_B),
        )
        conn.execute("select setval(pg_get_serial_sequence('rest_fixture.projects', 'id'), 100)")
        conn.execute(
            "insert into rest_fixture.tasks (id, project_id, assignee_id, reviewer_id, title, done, position) "
            "overriding system value values "
            "(1, 1, %s, %s, 'write spec', true, 2), (2, 1, %s, null, 'ship it', false, 1), "
            "(3, 2, null, null, 'plan', false, null), (4, 3, %s, null, 'bob task', false, 1)",
            (USER_A, USER_B, USER_B, USER_B),
        )
        conn.execute("select setval(pg_get_serial_sequence('rest_fixture.tasks', 'id'), 100)")
        conn.execute("insert into rest_fixture.task_labels values (1, 1), (1, 3), (2, 2)")


@pytest.fixture(scope="session", name="rest")
def rest_fixture(stack: Stack) -> RestData:
    _seed(stack.db_url)
    tokens = TokenService(load_settings())
    now = int(time.time())

    def token(user: uuid.UUID, **extra: object) -> str:
        claims = {
            "sub": str(user),
            "role": "authenticated",
            "aud": "authenticated",
            "exp": now + 3600,
            "email": f"{user}@example.com",
        }
        claims.update(extra)
        return tokens.sign(claims)

    import jwt

    data = RestData(
        stack,
        token(USER_A),
        token(USER_B),
        token(USER_A, exp=now - 60),
        jwt.encode({"sub": str(USER_A), "role": "authenticated"}, "x" * 40, algorithm="HS256"),
    )
    # The gateway reloads its schema cache on the DDL's NOTIFY; wait until it sees the fixture.
    deadline = time.monotonic() + 10
    while True:
        response = httpx.get(
            f"{stack.url}/rest/v1/labels",
            headers={"apikey": stack.service_role_key, "Accept-Profile": SCHEMA},
        )
        if response.status_code == 200 and response.json():
            return data
        if time.monotonic() > deadline:
            pytest.fail(
                f"the gateway never saw the fixture schema: {response.status_code} {response.text}"
            )
        time.sleep(0.05)
