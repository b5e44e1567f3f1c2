"""The `conversations` edge function (Deno, through the gateway) with workspace API keys: what an
AI runtime outside the project calls."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import httpx
import pytest

from halo_supabase.local.ports import free_port
from halo_supabase.models import ApiKey, Conversation
from tests.conftest import REPO, scratch_dir
from tests.db.demo import GLOBEX
from tests.stack.conftest import Stack, run_gateway
from tests.stack.conversation_support import new_agent
from tests.stack.inbox_support import Inbox, inbox

__all__ = ["inbox"]  # the fixture, imported so pytest finds it


@pytest.fixture(scope="module")
def functions_url(stack: Stack) -> Iterator[str]:
    """A gateway serving the repository's `conversations` function."""
    root = scratch_dir("conversations-gateway")
    functions = root / "supabase" / "functions"
    functions.mkdir(parents=True)
    (functions / "conversations").symlink_to(REPO / "supabase" / "functions" / "conversations")
    (root / "supabase" / "config.toml").write_text((REPO / "supabase" / "config.toml").read_text())
    env = {
        **stack.env,
        "HALO_API_PORT": str(free_port()),
        "HALO_HOME": str(root / "home"),
        "HALO_FUNCTIONS_DIR": str(functions),
    }
    with run_gateway(env, root / "gateway.log") as url:
        yield f"{url}/functions/v1/conversations"


@pytest.fixture(scope="module")
def acme_key(inbox: Inbox) -> str:
    return inbox.service.create_api_key(inbox.workspace, "AI runtime").key


class Runtime:
    """An AI runtime's HTTP calls with one API key."""

    def __init__(self, url: str, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=url, headers=headers, timeout=30)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post(path, json=body if body is not None else {})


def message_count(inbox: Inbox, conversation: str) -> int:
    return len(inbox.service.messages(conversation_id=conversation))


def test_a_session_through_the_function(functions_url: str, acme_key: str, inbox: Inbox) -> None:
    runtime = Runtime(functions_url, acme_key)
    anonymous = f"anon-{uuid.uuid4().hex[:8]}"
    started = runtime.post(
        "/start", {"anonymous_id": anonymous, "ai_agent_id": str(new_agent(inbox))}
    )
    assert started.status_code == 201, started.text
    conversation = started.json()
    assert conversation["state"] == "live" and conversation["visitor_id"]
    cid = conversation["id"]
    said = runtime.post(f"/{cid}/messages", {"role": "user", "text": "Where is my parcel?"})
    assert said.status_code == 201 and said.json()["author_kind"] == "customer"
    answered = runtime.post(
        f"/{cid}/messages",
        {"role": "ai", "text": "Checking.", "confidence": 72, "tool_calls": ["knowledge_search"]},
    )
    assert answered.status_code == 201 and answered.json()["author_kind"] == "ai_agent"
    assert runtime.post(f"/{cid}/heartbeat").status_code == 200
    assert runtime.post(f"/{cid}/widget", {"open": False}).json() == {"delivered": []}
    assert runtime.http.get(f"/{cid}").json()["ai_paused"] is False
    inbox.agent.take_over(UUID(cid))
    assert runtime.http.get(f"/{cid}").json()["ai_paused"] is True
    assert runtime.post(f"/{cid}").status_code == 405
    paused = runtime.post(f"/{cid}/messages", {"role": "ai", "text": "Anything else?"})
    assert paused.status_code == 409 and "paused" in paused.json()["error"]
    reopened = runtime.post(f"/{cid}/widget", {"open": True})
    assert [m["body_text"] for m in reopened.json()["delivered"]] == [
        "Remy from Acme Support joined"
    ]
    shown = [m["id"] for m in reopened.json()["delivered"]]
    assert runtime.post(f"/{cid}/acknowledge", {"message_ids": shown}).json() == {"result": 1}
    assert runtime.post(f"/{cid}/widget", {"open": True}).json() == {"delivered": []}
    missing = runtime.post(f"/{cid}/acknowledge", {})
    assert missing.status_code == 400 and missing.json()["error"] == "message_ids is required"
    garbled = runtime.post(f"/{cid}/acknowledge", {"message_ids": ["not-a-uuid"]})
    assert garbled.status_code == 400 and "uuid" in garbled.json()["error"]
    identified = runtime.post(
        "/identify", {"anonymous_id": anonymous, "email": f"{anonymous}@ex.org"}
    )
    assert identified.status_code == 200 and identified.json()["result"]["conversations"] == 1
    ended = runtime.post(f"/{cid}/end", {"reason": "closed"})
    assert ended.status_code == 200
    assert (ended.json()["state"], ended.json()["outcome"]) == ("completed", "escalated")
    assert runtime.post(f"/{cid}/human").status_code == 409


def test_keys_missing_invalid_or_revoked_are_refused(functions_url: str, inbox: Inbox) -> None:
    assert Runtime(functions_url, None).post("/start").status_code == 401
    assert Runtime(functions_url, "halo_sk_" + "0" * 64).post("/start").status_code == 401
    created = inbox.service.create_api_key(inbox.workspace, "soon revoked")
    runtime = Runtime(functions_url, created.key)
    assert runtime.post("/start").status_code == 201
    inbox.service.update(ApiKey, {"revoked_at": "now()"}, id=created.id)
    refused = runtime.post("/start")
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]


def test_another_workspaces_conversation_is_not_found_and_untouched(
    functions_url: str, acme_key: str, inbox: Inbox
) -> None:
    conversation = inbox.service.start_conversation(inbox.workspace, ai_agent_id=new_agent(inbox))
    cid = str(conversation.id)
    globex = Runtime(
        functions_url, inbox.service.create_api_key(UUID(GLOBEX), "Globex runtime").key
    )
    for path, body in [
        (f"/{cid}/messages", {"role": "user", "text": "hi"}),
        (f"/{cid}/heartbeat", {}),
        (f"/{cid}/end", {}),
        (f"/{cid}/widget", {"open": False}),
        (f"/{cid}/acknowledge", {"message_ids": []}),
    ]:
        answer = globex.post(path, body)
        assert answer.status_code == 404, (path, answer.text)
    assert globex.http.get(f"/{cid}").status_code == 404
    assert message_count(inbox, cid) == 0
    assert inbox.service.rows(Conversation, id=conversation.id)[0].state == "live"


def test_bad_input_is_named_and_writes_nothing(
    functions_url: str, acme_key: str, inbox: Inbox
) -> None:
    runtime = Runtime(functions_url, acme_key)
    cid = runtime.post("/start", {"ai_agent_id": str(new_agent(inbox))}).json()["id"]
    cases: list[tuple[str, Any, int, str]] = [
        (f"/{cid}/messages", {"role": "ai", "text": "x", "confidence": 150}, 400, "0-100"),
        (f"/{cid}/messages", {"role": "user", "text": "x" * 20001}, 400, "at most 20000"),
        (f"/{cid}/messages", {"role": "user"}, 400, "text is required"),
        (f"/{cid}/messages", {"role": "bot", "text": "x"}, 400, "p_role must be"),
        (
            f"/{cid}/messages",
            {"role": "user", "text": "x", "workspace_id": GLOBEX},
            400,
            "unknown field",
        ),
        (
            f"/{cid}/messages",
            {"role": "ai", "text": "x", "tool_calls": [{"args": 1}]},
            400,
            "tool call",
        ),
        (f"/{uuid.uuid4()}/messages", {"role": "user", "text": "x"}, 404, "does not exist"),
        (f"/{cid}/end", {"reason": "exploded"}, 400, "p_end_reason"),
        ("/start", {"ai_agent_id": "nope"}, 400, ""),
        (f"/{cid}/unknown", {}, 404, "use POST"),
    ]
    for path, body, status, words in cases:
        answer = runtime.post(path, body)
        assert answer.status_code == status, (path, body, answer.text)
        assert words in answer.json()["error"], answer.text
    assert message_count(inbox, cid) == 0
    assert runtime.http.post(f"/{cid}/messages", content=b"{not json").status_code == 400


def test_a_runtime_with_only_a_key_polls_updates_and_misses_nothing(
    functions_url: str, acme_key: str, inbox: Inbox
) -> None:
    runtime = Runtime(functions_url, acme_key)
    cid = runtime.post("/start", {"ai_agent_id": str(new_agent(inbox))}).json()["id"]
    first = runtime.http.get(f"/{cid}/updates")
    assert first.status_code == 200 and first.json()["more"] is False
    cursor = first.json()["after_seq"]
    runtime.post(f"/{cid}/messages", {"role": "user", "text": "Is anyone there?"})
    # The widget stays open: the teammate's reply reaches this runtime only by polling.
    ticket = inbox.agent.take_over(UUID(cid))
    inbox.agent.reply_to_ticket(ticket.id, "chat", "Yes, Remy here.", 10**9)
    inbox.agent.reply_to_ticket(ticket.id, "note", "Internal: long-time customer", 10**9)
    polled = runtime.http.get(f"/{cid}/updates", params={"after_seq": cursor})
    assert polled.status_code == 200, polled.text
    events = polled.json()["events"]
    assert [e["message"]["body_text"] for e in events if "message" in e] == [
        "Is anyone there?",
        "Remy from Acme Support joined",
        "Yes, Remy here.",
    ]
    assert {"reason": "takeover", "ai_paused": True} in [
        e["data"] for e in events if e["event"] == "conversation.paused"
    ]
    cursor = polled.json()["after_seq"]
    again = runtime.http.get(f"/{cid}/updates", params={"after_seq": cursor})
    assert again.json()["events"] == []
    # A long poll: the answer waits for the teammate's next reply instead of coming back empty.
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            runtime.http.get, f"/{cid}/updates", params={"after_seq": cursor, "wait": 20}
        )
        time.sleep(1)
        assert not waiting.done()
        inbox.agent.reply_to_ticket(ticket.id, "note", "Internal: still checking", 10**9)
        inbox.agent.reply_to_ticket(ticket.id, "chat", "Found it.", 10**9)
        woken = waiting.result(timeout=30).json()
    assert [e["message"]["body_text"] for e in woken["events"]] == ["Found it."]
    assert woken["after_seq"] > cursor
    for query, words in [
        ({"after_seq": "-3"}, "p_after_seq must be 0 or more"),
        ({"limit": "5000"}, "p_limit must be between 1 and 1000"),
        ({"after_seq": "soon"}, "bigint"),
        ({"since": "1"}, "unknown field since"),
        ({"wait": "26"}, "wait must be a whole number of seconds from 0 to 25"),
    ]:
        refused = runtime.http.get(f"/{cid}/updates", params=query)
        assert refused.status_code == 400 and words in refused.json()["error"], refused.text
    assert runtime.post(f"/{cid}/updates").status_code == 405
