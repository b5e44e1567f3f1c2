"""The Realtime capture's replication stream against a real walsender: whole transactions in
commit order, a temporary slot that goes with the connection, confirmations that release WAL, and
the server's own words when it ends the stream."""

from __future__ import annotations

import asyncio
import secrets

import psycopg
import pytest

from halo_supabase.local.gateway.realtime.pgoutput import decode_messages
from halo_supabase.local.gateway.realtime.replication import ReplicationError, ReplicationStream

pytestmark = pytest.mark.db

SCHEMA = """
create schema repl;
create table repl.items (id int primary key, body text);
create publication repl_test for table repl.items;
"""


def _run(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql.encode())
        return cursor.fetchall() if cursor.description else []


def _slot(url: str, name: str) -> tuple[object, ...] | None:
    rows = _run(
        url,
        "select temporary, confirmed_flush_lsn::text from pg_replication_slots"
        f" where slot_name = '{name}'",
    )
    return rows[0] if rows else None


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


@pytest.fixture
def repl_db(fresh_db: str) -> str:
    _run(fresh_db, SCHEMA)
    return fresh_db


async def _stream(url: str) -> ReplicationStream:
    stream = ReplicationStream(url, f"repl_{secrets.token_hex(4)}", application_name="repl test")
    await stream.open(["repl_test"])
    return stream


async def test_transactions_arrive_whole_in_commit_order(repl_db: str) -> None:
    stream = await _stream(repl_db)
    try:
        assert _slot(repl_db, stream.slot) is not None and _slot(repl_db, stream.slot)[0] is True
        _run(repl_db, "insert into repl.items values (1, 'one'), (2, 'two')")
        _run(repl_db, "update repl.items set body = 'uno' where id = 1")
        messages: list[bytes] = []
        while sum(m[:1] == b"C" for m in messages) < 2:
            batch = await asyncio.wait_for(stream.transactions(), timeout=10)
            assert batch[-1][:1] == b"C"  # only whole transactions are handed over
            messages += batch
        changes = decode_messages(messages, {})
        assert [(c.type, c.record["id"], c.record["body"]) for c in changes] == [
            ("INSERT", "1", "one"),
            ("INSERT", "2", "two"),
            ("UPDATE", "1", "uno"),
        ]
    finally:
        stream.close()
    for _ in range(50):  # the walsender exits a moment after the connection closes
        if _slot(repl_db, stream.slot) is None:
            break
        await asyncio.sleep(0.1)
    assert _slot(repl_db, stream.slot) is None


async def test_confirm_moves_the_slot_forward(repl_db: str) -> None:
    stream = await _stream(repl_db)
    stream.STATUS_INTERVAL = 0.0  # report on every call
    try:
        before = _lsn(str(_slot(repl_db, stream.slot)[1]))
        _run(repl_db, "insert into repl.items values (3, 'x')")
        ((end,),) = _run(repl_db, "select pg_current_wal_lsn()::text")
        await asyncio.wait_for(stream.transactions(), timeout=10)
        stream.confirm()
        for _ in range(50):
            confirmed = _lsn(str(_slot(repl_db, stream.slot)[1]))
            if confirmed > before:
                break
            await asyncio.sleep(0.1)
        assert confirmed > before
        assert confirmed <= _lsn(str(end)) + 1024  # never past what the server had written
    finally:
        stream.close()


async def test_the_servers_reason_when_it_ends_the_stream(repl_db: str) -> None:
    stream = await _stream(repl_db)
    try:
        _run(repl_db, "drop publication repl_test")
        _run(repl_db, "insert into repl.items values (4, 'after the drop')")
        with pytest.raises(ReplicationError, match='publication "repl_test" does not exist'):
            await asyncio.wait_for(stream.transactions(), timeout=10)
    finally:
        stream.close()


async def test_bad_credentials_are_named(repl_db: str) -> None:
    wrong = repl_db.replace("postgres:postgres@", "postgres:wrong@", 1)
    assert wrong != repl_db
    stream = ReplicationStream(wrong, "repl_never", application_name="repl test")
    with pytest.raises(ReplicationError, match=r"cannot open a replication connection.*password"):
        await stream.open(["repl_test"])
    assert _slot(repl_db, "repl_never") is None
