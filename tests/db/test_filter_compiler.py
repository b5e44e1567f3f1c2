"""The FilterBar compiler against a straightforward Python evaluation of the same filter.

A small workspace (60 tickets with varied statuses, texts, labels, custom fields, contacts,
companies, mentions and timestamps) is read back as Python dicts; hypothesis draws filter trees
(and / or / not, every field family and operator), runs each through `api.list_tickets` as a
member (RLS applies) and compares the ids with the Python answer. No filter may raise a database
error. Invalid filters name the bad field or operator; hostile strings stay values.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import as_user
from tests.db.demo import claims

Conn = psycopg.Connection[tuple[object, ...]]
WORDS = ["printer", "refund", "login", "Invoice", "crash", "beta", "café", "o'brien", "50%_off"]
LABELS = ["vip", "bug", "churn"]
NOW_OFFSETS_H = [1, 5, 30, 100, 400]  # reference points for absolute time comparisons


@dataclass(frozen=True)
class Data:
    url: str
    workspace: str
    me: str
    other: str
    tickets: list[dict[str, Any]]  # field name -> value as the filter sees it
    times: list[str]  # ISO timestamps to compare against


def _setup(url: str) -> Data:
    rng = random.Random(6)
    workspace, me, other = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(url, autocommit=True) as conn:
        for user in (me, other):
            conn.execute(
                "insert into auth.users (id, aud, role, email) values (%s, 'authenticated', 'authenticated', %s)",
                (user, f"{user[:8]}@filter.test"),
            )
        conn.execute("insert into halo.workspaces (id, name) values (%s, 'Filters')", (workspace,))
        conn.execute(
            "insert into halo.members (workspace_id, user_id, role, inbox_permission, display_name)"
            " values (%s, %s, 'member', 'view', 'Me'), (%s, %s, 'member', 'manage', 'Other')",
            (workspace, me, workspace, other),
        )
        companies = []
        for i in range(3):
            row = conn.execute(
                "insert into halo.companies (workspace_id, name, plan, industry, custom_fields)"
                " values (%s, %s, %s, %s, %s) returning id",
                (
                    workspace,
                    f"Co {WORDS[i]}",
                    ["pro", "free", None][i],
                    ["Retail", None, "SaaS"][i],
                    json.dumps({"tier": i} if i else {}),
                ),
            ).fetchone()
            assert row is not None
            companies.append(str(row[0]))
        contacts = []
        for i in range(6):
            row = conn.execute(
                "insert into halo.contacts (workspace_id, company_id, name, email, traits) values"
                " (%s, %s, %s, %s, %s) returning id",
                (
                    workspace,
                    companies[i % 3],
                    [f"Ann {WORDS[i]}", None][i % 2],
                    f"user{i}@{WORDS[i % 3]}.test",
                    json.dumps({"plan": ["pro", "free"][i % 2]}),
                ),
            ).fetchone()
            assert row is not None
            contacts.append(str(row[0]))
        for _ in range(60):
            status = rng.choice(["open", "open", "in_progress", "snoozed", "resolved", "spam"])
            contact = rng.choice([*contacts, None])
            custom: dict[str, Any] = {}
            if rng.random() < 0.6:
                custom["plan"] = rng.choice(["pro", "free", "Pro plan"])
            if rng.random() < 0.5:
                custom["seats"] = rng.choice([0, 3, 10, 25.5, 100])
            if rng.random() < 0.3:
                custom["beta"] = rng.choice([True, False])
            if rng.random() < 0.1:
                custom["seats"] = rng.choice(["many", None])
            created = timedelta(hours=rng.uniform(0.2, 500))
            conn.execute(
                "insert into halo.tickets (workspace_id, subject, status_category, priority, resolved_by,"
                " snoozed_until, category, source, channel, assignee_id, contact_id, company_id,"
                " custom_fields, labels, ai_confidence, ai_paused, escalation_reason, created_at,"
                " last_activity_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " (select company_id from halo.contacts where id = %s), %s, %s, %s, %s, %s,"
                " now() - %s, now() - %s)",
                (
                    workspace,
                    " ".join(rng.sample(WORDS, rng.randint(0, 3))),
                    status,
                    rng.choice(["low", "normal", "normal", "high", "urgent"]),
                    rng.choice(["human", "ai", "auto"]) if status == "resolved" else None,
                    "2999-01-01" if status == "snoozed" else None,
                    rng.choice([None, "bug", "agent_request"]),
                    rng.choice(["api", "email", "sales"]),
                    rng.choice(["email", "chat"]),
                    rng.choice([me, other, None]),
                    contact,
                    contact,
                    json.dumps(custom),
                    rng.sample(LABELS, rng.randint(0, 2)),
                    rng.choice([None, 0, 40, 80, 100]),
                    rng.random() < 0.3,
                    rng.choice([None, "", "Customer asked for a human"]),
                    created,
                    created * rng.uniform(0, 1),
                ),
            )
        conn.execute(
            "insert into halo.messages (ticket_id, kind, direction, author_kind, author_user_id, body_text, mentions)"
            " select id, 'note', 'internal', 'teammate', %s, 'fyi', array[%s::uuid]"
            " from halo.tickets where workspace_id = %s and number %% 4 = 0",
            (other, me, workspace),
        )
        conn.execute(
            "insert into halo.messages (ticket_id, kind, direction, author_kind, author_user_id, body_text, mentions)"
            " select id, 'note', 'internal', 'teammate', %s, 'fyi', array[%s::uuid]"
            " from halo.tickets where workspace_id = %s and number %% 5 = 0",
            (me, other, workspace),
        )
        rows = conn.execute(
            "select to_jsonb(t) || jsonb_build_object("
            "  'contact', to_jsonb(c), 'company', to_jsonb(co),"
            "  'mentioned', array(select m.user_id::text from halo.mentions m where m.ticket_id = t.id))"
            " from api.tickets t left join halo.contacts c on c.id = t.contact_id"
            " left join halo.companies co on co.id = t.company_id where t.workspace_id = %s",
            (workspace,),
        ).fetchall()
        now = conn.execute("select now()").fetchone()
        assert now is not None
    tickets = [_as_filter_sees(row[0]) for row in rows]
    times = [(now[0] - timedelta(hours=h, minutes=7)).isoformat() for h in NOW_OFFSETS_H]  # type: ignore[operator]
    return Data(url, workspace, me, other, tickets, times)


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _as_filter_sees(row: dict[str, Any]) -> dict[str, Any]:
    contact = row["contact"] or {}
    company = row["company"] or {}
    return {
        "id": row["id"],
        "status": row["status"],
        "priority": row["priority"],
        "category": row["category"],
        "source": row["source"],
        "channel": row["channel"],
        "subject": row["subject"],
        "escalation_reason": row["escalation_reason"],
        "number": row["number"],
        "ai.confidence": row["ai_confidence"],
        "ai_paused": row["ai_paused"],
        "assignee": row["assignee_id"],
        "created_at": _ts(row["created_at"]),
        "age": _ts(row["created_at"]),
        "last_activity": _ts(row["last_activity_at"]),
        "resolved_at": _ts(row["resolved_at"]),
        "labels": row["labels"],
        "mentioned": row["mentioned"],
        "contact.name": contact.get("name"),
        "contact.email": contact.get("email"),
        "company.plan": company.get("plan"),
        "company.industry": company.get("industry"),
        "custom": row["custom_fields"],
        "contact.trait": contact.get("traits"),
        "company.custom": company.get("custom_fields"),
    }


TEXT = [
    "status",
    "priority",
    "category",
    "source",
    "channel",
    "subject",
    "escalation_reason",
    "contact.name",
    "contact.email",
    "company.plan",
    "company.industry",
]
TEXT_VALUES = {
    "status": ["open", "priority", "in_progress", "snoozed", "resolved", "ai_resolved", "spam"],
    "priority": ["low", "normal", "high", "urgent"],
    "category": ["bug", "agent_request", "other"],
    "source": ["api", "email", "sales"],
    "channel": ["email", "chat"],
}
TEXT_OPS = [
    "eq",
    "neq",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "is_set",
    "is_unset",
]
NUMBER_OPS = [
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "is_set",
    "is_unset",
]
TIME_OPS = ["gt", "gte", "lt", "lte", "between", "within_last", "older_than", "is_set", "is_unset"]
JSON_KEYS = {
    "custom": ["plan", "seats", "beta", "nope"],
    "contact.trait": ["plan"],
    "company.custom": ["tier"],
}


def _text_value(field: str) -> st.SearchStrategy[str]:
    pool = TEXT_VALUES.get(field, []) + WORDS + ["", "a", "in", "Ann", "user", ".test", "x'y"]
    return st.sampled_from(pool)


@st.composite
def conditions(draw: st.DrawFn, data: Data) -> dict[str, Any]:
    family = draw(
        st.sampled_from(["text", "number", "bool", "uuid", "time", "labels", "mentions", "json"])
    )
    if family == "text":
        field = draw(st.sampled_from(TEXT))
        cmp = draw(st.sampled_from(TEXT_OPS))
        value: Any = draw(_text_value(field))
        if cmp in ("in", "not_in"):
            value = draw(st.lists(_text_value(field), min_size=1, max_size=3))
    elif family == "number":
        field = draw(st.sampled_from(["number", "ai.confidence"]))
        cmp = draw(st.sampled_from(NUMBER_OPS))
        number = st.sampled_from([0, 1, 20, 40, 40.5, 80, 100])
        value = (
            draw(st.lists(number, min_size=1, max_size=3))
            if cmp in ("in", "not_in")
            else draw(number)
        )
        if cmp == "between":
            value = sorted(draw(st.lists(number, min_size=2, max_size=2)))
    elif family == "bool":
        field, cmp, value = (
            "ai_paused",
            draw(st.sampled_from(["eq", "neq", "is_set"])),
            draw(st.booleans()),
        )
    elif family == "uuid":
        field = "assignee"
        cmp = draw(st.sampled_from(["eq", "neq", "in", "not_in", "is_set", "is_unset"]))
        one = st.sampled_from(["me", data.other, str(uuid.UUID(int=1))])
        value = (
            draw(st.lists(one, min_size=1, max_size=2)) if cmp in ("in", "not_in") else draw(one)
        )
    elif family == "time":
        field = draw(st.sampled_from(["created_at", "age", "last_activity", "resolved_at"]))
        cmp = draw(st.sampled_from(TIME_OPS))
        if cmp in ("within_last", "older_than"):
            value = draw(st.sampled_from(["90m", "2h", "1d", "3d", "1w", "10w"]))
        elif cmp == "between":
            value = sorted(
                draw(st.lists(st.sampled_from(data.times), min_size=2, max_size=2)),
                key=datetime.fromisoformat,
            )
        else:
            value = draw(st.sampled_from(data.times))
    elif family == "labels":
        field = "labels"
        cmp = draw(
            st.sampled_from(["contains", "not_contains", "in", "not_in", "is_set", "is_unset"])
        )
        label = st.sampled_from([*LABELS, "none"])
        value = (
            draw(st.lists(label, min_size=1, max_size=2))
            if cmp in ("in", "not_in")
            else draw(label)
        )
    elif family == "mentions":
        field, cmp = "mentions", draw(st.sampled_from(["eq", "neq", "is_set", "is_unset"]))
        value = draw(st.sampled_from(["me", data.other]))
    else:
        prefix = draw(st.sampled_from(list(JSON_KEYS)))
        field = f"{prefix}:{draw(st.sampled_from(JSON_KEYS[prefix]))}"
        cmp = draw(
            st.sampled_from(
                [
                    "eq",
                    "neq",
                    "in",
                    "not_in",
                    "contains",
                    "not_contains",
                    "starts_with",
                    "gt",
                    "gte",
                    "lt",
                    "lte",
                    "between",
                    "is_set",
                    "is_unset",
                ]
            )
        )
        scalar = st.sampled_from(["pro", "free", "Pro", True, False, 0, 3, 10, 25.5, 1])
        numeric = st.sampled_from([0, 3, 10, 25.5, 1, 2])
        if cmp in ("contains", "not_contains", "starts_with"):
            value = draw(st.sampled_from(["pro", "PRO", "plan", "f", "x"]))
        elif cmp == "between":
            value = sorted(draw(st.lists(numeric, min_size=2, max_size=2)))
        elif cmp in ("gt", "gte", "lt", "lte"):
            value = draw(numeric)
        elif cmp in ("in", "not_in"):
            value = draw(st.lists(scalar, min_size=1, max_size=3))
        else:
            value = draw(scalar)
    node: dict[str, Any] = {"field": field, "cmp": cmp}
    if cmp not in ("is_set", "is_unset"):
        node["value"] = value
    return node


def filters(data: Data) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        conditions(data),
        lambda children: st.builds(
            lambda op, kids: {"op": op, "children": kids},
            st.sampled_from(["and", "or", "not"]),
            st.lists(children, min_size=0, max_size=3),
        ),
        max_leaves=6,
    )


# -- the Python evaluation -------------------------------------------------------------------


def _json_eq(a: Any, b: Any) -> bool:
    return (
        isinstance(a, bool) == isinstance(b, bool)
        and isinstance(a, str) == isinstance(b, str)
        and a == b
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


DURATION = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


def matches(node: dict[str, Any], t: dict[str, Any], data: Data, now: datetime) -> bool:
    if "op" in node:
        results = [matches(child, t, data, now) for child in node["children"]]
        if node["op"] == "or":
            return any(results)
        return all(results) if node["op"] == "and" else not all(results)
    field, cmp, value = node["field"], node["cmp"], node.get("value")
    if ":" in field:
        prefix, key = field.split(":", 1)
        container = t[prefix] or {}
        present = key in container
        v = container.get(key)
        if cmp == "is_set":
            return present and v is not None
        if cmp == "is_unset":
            return not (present and v is not None)
        if cmp == "eq":
            return present and _json_eq(v, value)
        if cmp == "neq":
            return not (present and _json_eq(v, value))
        if cmp == "in":
            return present and any(_json_eq(v, x) for x in value)
        if cmp == "not_in":
            return not (present and any(_json_eq(v, x) for x in value))
        if cmp in ("contains", "not_contains", "starts_with"):
            s = v if isinstance(v, str) else None
            if cmp == "starts_with":
                return s is not None and s.lower().startswith(value.lower())
            hit = s is not None and value.lower() in s.lower()
            return hit if cmp == "contains" else not hit
        n = v if _is_number(v) else None
        return _ordered(n, cmp, value)
    if field == "mentions":
        mentioned = t["mentioned"]
        who = data.me if value == "me" else value
        return {
            "eq": who in mentioned,
            "neq": who not in mentioned,
            "is_set": bool(mentioned),
            "is_unset": not mentioned,
        }[cmp]
    v = t[field]
    if field == "labels":
        values = value if isinstance(value, list) else [value]
        return {
            "contains": value in v,
            "not_contains": value not in v,
            "in": bool(set(v) & set(values)),
            "not_in": not set(v) & set(values),
            "is_set": bool(v),
            "is_unset": not v,
        }[cmp]
    if field == "assignee":
        value = (
            [data.me if x == "me" else x for x in value]
            if isinstance(value, list)
            else (data.me if value == "me" else value)
        )
    if cmp == "is_set":
        return v is not None and v != ""
    if cmp == "is_unset":
        return not (v is not None and v != "")
    if cmp == "eq":
        return v is not None and v == value
    if cmp == "neq":
        return v != value
    if cmp == "in":
        return v is not None and v in value
    if cmp == "not_in":
        return v is None or v not in value
    if cmp == "contains":
        return v is not None and value.lower() in v.lower()
    if cmp == "not_contains":
        return v is None or value.lower() not in v.lower()
    if cmp == "starts_with":
        return v is not None and v.lower().startswith(value.lower())
    if cmp in ("within_last", "older_than"):
        delta = int(value[:-1]) * DURATION[value[-1]]
        if v is None:
            return False
        return v >= now - delta if cmp == "within_last" else v < now - delta
    if isinstance(v, datetime):
        value = (
            [datetime.fromisoformat(x) for x in value]
            if cmp == "between"
            else datetime.fromisoformat(value)
        )
    return _ordered(v, cmp, value)


def _ordered(v: Any, cmp: str, value: Any) -> bool:
    if v is None:
        return False
    if cmp == "between":
        return bool(value[0] <= v <= value[1])
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    return ops[cmp](v, value)


# -- tests -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(inbox_db: str) -> Data:
    return _setup(inbox_db)


@pytest.fixture(scope="module")
def member(data: Data) -> Iterator[Conn]:
    with psycopg.connect(data.url) as conn:
        yield conn


def run_filter(
    conn: Conn, data: Data, node: dict[str, Any] | None, search: str | None = None
) -> tuple[set[str], datetime]:
    with conn.transaction(force_rollback=True):
        as_user(conn, "authenticated", claims(data.me))
        now = conn.execute("select now()").fetchone()
        rows = conn.execute(
            "select id::text from api.list_tickets(%s, 'everything', %s, %s, 'number.asc', null, null, 200)",
            (data.workspace, json.dumps(node) if node is not None else None, search),
        ).fetchall()
    assert now is not None
    return {r[0] for r in rows}, now[0]  # type: ignore[return-value]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_filters_match_the_python_evaluation(
    data: Data, member: Conn, draw: st.DataObject
) -> None:
    node = draw.draw(filters(data))
    got, now = run_filter(member, data, node)
    expected = {t["id"] for t in data.tickets if matches(node, t, data, now)}
    event(f"matching tickets: {min(len(expected) // 10 * 10, 50)}+")
    assert got == expected, json.dumps(node)


def test_the_dataset_is_varied(data: Data, member: Conn) -> None:
    everything, _ = run_filter(member, data, None)
    assert len(everything) == len(data.tickets) == 60
    assert {t["status"] for t in data.tickets} >= {"open", "in_progress", "snoozed", "spam"}
    assert sum(1 for t in data.tickets if t["mentioned"]) >= 10


@pytest.mark.parametrize(
    ("node", "fragment"),
    [
        ({"field": "nope", "cmp": "eq", "value": 1}, "at $: unknown field nope"),
        (
            {"field": "subject", "cmp": "gt", "value": "a"},
            "operator gt is not valid for field subject",
        ),
        (
            {"field": "subject", "cmp": "like", "value": "a"},
            "operator like is not valid for field subject",
        ),
        ({"op": "xor", "children": []}, "unknown group operator xor"),
        ({"op": "and", "children": {}}, 'a group needs "children"'),
        (
            {"op": "and", "children": [{"field": "number", "cmp": "eq", "value": "7"}]},
            "at $.children[0]: number needs numbers",
        ),
        ({"field": "number", "cmp": "between", "value": [1]}, "between needs a [low, high] array"),
        ({"field": "age", "cmp": "within_last", "value": "soon"}, "within_last needs a duration"),
        (
            {"field": "created_at", "cmp": "gt", "value": "yesterday"},
            "created_at needs an ISO 8601 timestamp",
        ),
        (
            {"field": "created_at", "cmp": "gt", "value": "2026-13-45"},
            "created_at needs a valid ISO 8601 timestamp",
        ),
        (
            {"field": "assignee", "cmp": "eq", "value": "bob"},
            'assignee needs a user or record id, or "me"',
        ),
        ({"field": "custom:seats", "cmp": "gt", "value": "3"}, "gt on custom:seats needs numbers"),
        ({"field": "labels", "cmp": "in", "value": []}, "in needs a non-empty array"),
        ({"field": "status", "cmp": "eq"}, "eq needs a single value"),
        ([1, 2], "a node must be an object"),
    ],
)
def test_invalid_filters_name_the_problem(
    data: Data, member: Conn, node: Any, fragment: str
) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        run_filter(member, data, node)
    assert fragment in str(caught.value)


HOSTILE = [
    "'); drop table halo.tickets; --",
    "$1[1]",
    "%s %I %L",
    "\\'",
    "' or '1'='1",
    "nul",
    "$$; select 1; $$",
]


def test_hostile_strings_stay_values(data: Data, member: Conn) -> None:
    with psycopg.connect(data.url, autocommit=True) as conn:
        ids = {
            text: str(
                conn.execute(
                    "insert into halo.tickets (workspace_id, subject, custom_fields, labels) values (%s, %s, %s, %s)"
                    " returning id",
                    (data.workspace, text, json.dumps({text: text}), [text]),
                ).fetchone()[0]
            )  # type: ignore[index]
            for text in HOSTILE
        }
    try:
        for text, ticket in ids.items():
            for node in (
                {"field": "subject", "cmp": "eq", "value": text},
                {"field": "subject", "cmp": "in", "value": [text]},
                {"field": "subject", "cmp": "contains", "value": text},
                {"field": f"custom:{text}", "cmp": "eq", "value": text},
                {"field": "labels", "cmp": "contains", "value": text},
            ):
                got, _ = run_filter(member, data, node)
                assert ticket in got, node
                assert got <= set(ids.values()), node
            run_filter(member, data, None, search=text)  # search text is a value too
    finally:
        with psycopg.connect(data.url, autocommit=True) as conn:
            conn.execute(
                "delete from halo.tickets where id = any(%s::uuid[])", (list(ids.values()),)
            )
    everything, _ = run_filter(member, data, None)
    assert len(everything) == 60


def test_status_negations_negate_the_whole_condition(data: Data, member: Conn) -> None:
    # Regression: not_in on status once compiled to "(not (A) or (A))", which matched everything.
    everything, _ = run_filter(member, data, None)
    for values in (["open"], ["open", "open"], ["open", "spam", "resolved"]):
        inside, _ = run_filter(member, data, {"field": "status", "cmp": "in", "value": values})
        outside, _ = run_filter(member, data, {"field": "status", "cmp": "not_in", "value": values})
        assert inside and outside
        assert inside | outside == everything and not inside & outside
