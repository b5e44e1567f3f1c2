"""Realtime through supabase-js 2.109 on Node, with both protocol versions (V1 JSON objects and
the current default, V2 arrays with binary broadcasts)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.stack.conftest import Stack
from tests.stack.realtime_support import execute, rt_stack, start_js, user_token

__all__ = ["rt_stack"]  # the fixture, imported so pytest finds it


@pytest.mark.parametrize("vsn", ["1.0.0", "2.0.0"])
def test_supabase_js_realtime(rt_stack: Stack, vsn: str) -> None:
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    process = start_js(
        rt_stack, "realtime.mjs", vsn, me, user_token(me), user_token(other), user_token(me)
    )
    insert = "insert into rtfx.notes (owner, body, priority) values (%s, %s, %s)"
    execute(rt_stack.db_url, insert, other, "stranger's", 9)
    execute(rt_stack.db_url, insert, me, "low", 1)
    execute(rt_stack.db_url, insert, me, "high", 8)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    result = json.loads(stdout.strip().splitlines()[-1])

    assert result["subscribe"] == ["SUBSCRIBED", "SUBSCRIBED"]
    assert result["ack"] == "ok"
    assert result["heard"] == [{"n": 1}] and result["self"] == [{"n": 1}]

    assert result["track"] == "ok" and result["untrack"] == "ok"
    assert result["joins"][0]["key"] == "alice"
    assert result["joins"][0]["newPresences"][0]["status"] == "online"
    assert result["syncAfterTrack"]["alice"][0]["status"] == "online"
    assert result["leaves"][0]["key"] == "alice"

    assert result["privateOwner"]["status"] == "SUBSCRIBED", result["privateOwner"]
    assert result["privateStranger"]["status"] == "CHANNEL_ERROR"
    assert "Unauthorized" in result["privateStranger"]["error"]

    assert result["changesSubscribe"]["status"] == "SUBSCRIBED"
    (change,) = result["changes"]
    assert change["eventType"] == "INSERT" and change["table"] == "notes"
    assert change["new"]["body"] == "high" and change["new"]["priority"] == 8
    assert result["dbBroadcasts"] == [
        {"operation": "INSERT", "priority": 1},
        {"operation": "INSERT", "priority": 8},
    ]

    assert result["stateAfterRefresh"] == "joined"
    assert result["stateAfterForeignToken"] == "closed"
    assert any("do not have permissions to read" in m for m in result["systemErrors"])
