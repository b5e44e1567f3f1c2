"""A logical replication stream: one walsender pushes committed transactions as they commit.

asyncpg cannot speak the replication sub-protocol, so this talks to PostgreSQL through libpq as
psycopg ships it (`psycopg.pq`, the low-level layer: libpq does the connection and SCRAM; nothing
here parses authentication). The connection is opened with `replication=database`, creates a
TEMPORARY `pgoutput` slot on itself (it dies with the connection), and runs `START_REPLICATION`.
The server then sends CopyData frames:

* `w` XLogData: start LSN, server WAL end, send time, then one pgoutput message;
* `k` primary keepalive: server WAL end, send time, reply-requested flag.

The client answers with `r` standby status updates naming the LSN it has processed, so the slot
can let go of WAL (and must, before `wal_sender_timeout`, 60 s by default). Compared with calling
`pg_logical_slot_get_binary_changes()` in a loop, the walsender decodes each WAL record once,
instead of again from the slot's restart point on every poll, and a change is sent the moment its
commit is flushed instead of at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import Iterable

import psycopg
from psycopg import pq

__all__ = ["ReplicationError", "ReplicationStream"]

_XLOG_HEADER = struct.Struct("!QQQ")  # start LSN, server WAL end, send time
_KEEPALIVE = struct.Struct("!QQB")  # server WAL end, send time, reply requested
_STATUS = struct.Struct("!cQQQQB")  # 'r', written, flushed, applied, client time, reply
_PG_EPOCH_UNIX = 946_684_800  # 2000-01-01 in Unix seconds


class ReplicationError(RuntimeError):
    """The replication connection failed or the server ended the stream (with its message)."""


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _conninfo(dsn: str, application_name: str) -> bytes:
    # A URI accepts key=value overrides only as query parameters.
    separator = "&" if "?" in dsn else "?"
    name = application_name.replace(" ", "%20")
    return f"{dsn}{separator}replication=database&application_name={name}".encode()


class ReplicationStream:
    """One replication connection with its temporary slot. Not thread-safe; one reader."""

    STATUS_INTERVAL = 10.0  # seconds between unsolicited status updates (timeout is 60 s)

    def __init__(self, dsn: str, slot: str, *, application_name: str) -> None:
        self.slot = slot
        self._conninfo = _conninfo(dsn, application_name)
        self._conn: pq.abc.PGconn | None = None
        self._readable = asyncio.Event()
        self._received_lsn = 0  # the server's WAL end as last reported: all of it was sent
        self._confirmed_lsn = 0  # what the last status update told the server
        self._status_at = 0.0
        self._pending: list[bytes] = []  # messages of a transaction whose commit has not come

    async def open(self, publications: Iterable[str]) -> None:
        """Connect, create the slot and start streaming. Creating a slot waits for transactions
        running at that moment to finish, so the blocking part runs in a thread."""
        self._conn = await asyncio.to_thread(self._connect_and_start, ",".join(publications))
        self._conn.nonblocking = 1
        loop = asyncio.get_running_loop()
        loop.add_reader(self._conn.socket, self._readable.set)
        self._readable.set()  # libpq may already hold frames read with the COPY_BOTH answer

    def _connect_and_start(self, publications: str) -> pq.abc.PGconn:
        conn = pq.PGconn.connect(self._conninfo)
        try:
            if conn.status != pq.ConnStatus.OK:
                raise ReplicationError(_message(conn, "cannot open a replication connection"))
            self._command(
                conn,
                f"CREATE_REPLICATION_SLOT {self.slot} TEMPORARY LOGICAL pgoutput"
                " (SNAPSHOT 'nothing')",
                pq.ExecStatus.TUPLES_OK,
            )
            self._command(
                conn,
                f"START_REPLICATION SLOT {self.slot} LOGICAL 0/0 (proto_version '1',"
                f" publication_names {_quote_literal(publications)})",
                pq.ExecStatus.COPY_BOTH,
            )
        except BaseException:
            conn.finish()
            raise
        return conn

    @staticmethod
    def _command(conn: pq.abc.PGconn, command: str, expected: pq.ExecStatus) -> None:
        result = conn.exec_(command.encode())
        if result.status != expected:
            reason = result.error_message.decode(errors="replace").strip()
            raise ReplicationError(f"{command.split(' (')[0]} failed: {reason}")

    def close(self) -> None:
        """Close the connection; the server drops the temporary slot with it."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(RuntimeError, ValueError, OSError):  # no loop, or no socket
            asyncio.get_running_loop().remove_reader(conn.socket)
        conn.finish()

    async def transactions(self) -> list[bytes]:
        """Wait for at least one whole committed transaction; return the pgoutput messages of
        every whole transaction received so far, in commit order."""
        while True:
            ready = self._drain()
            if ready:
                return ready
            self._send_status(due_only=True)
            with contextlib.suppress(TimeoutError):  # time for a status update anyway
                await asyncio.wait_for(self._readable.wait(), timeout=self.STATUS_INTERVAL)
            self._readable.clear()

    def confirm(self) -> None:
        """Everything returned so far is handled: let the server release its WAL."""
        self._send_status(due_only=True)

    def _drain(self) -> list[bytes]:
        conn = self._require()
        try:
            conn.consume_input()
        except psycopg.OperationalError as exc:
            raise ReplicationError(f"the replication connection was lost: {exc}") from exc
        ready: list[bytes] = []
        while True:
            try:
                size, frame = conn.get_copy_data(1)
            except psycopg.OperationalError as exc:
                raise ReplicationError(self._end_reason(conn, exc)) from exc
            if size == 0:
                break  # nothing more buffered
            if size < 0:
                raise ReplicationError(self._end_reason(conn, None))
            data = bytes(frame)
            kind = data[:1]
            if kind == b"w":
                _start, wal_end, _sent = _XLOG_HEADER.unpack_from(data, 1)
                message = data[_XLOG_HEADER.size + 1 :]
                self._pending.append(message)
                if message[:1] == b"C":
                    ready.extend(self._pending)
                    self._pending.clear()
                self._received_lsn = max(self._received_lsn, wal_end)
            elif kind == b"k":
                wal_end, _sent, reply = _KEEPALIVE.unpack_from(data, 1)
                if not self._pending:
                    self._received_lsn = max(self._received_lsn, wal_end)
                if reply:
                    self._send_status(due_only=False)
        return ready

    def _send_status(self, *, due_only: bool) -> None:
        now = time.monotonic()
        if due_only and now - self._status_at < self.STATUS_INTERVAL:
            return
        conn = self._require()
        # Messages of an unfinished transaction are not handled yet: confirm only up to where
        # every received transaction was complete.
        lsn = self._received_lsn if not self._pending else self._confirmed_lsn
        micros = int((time.time() - _PG_EPOCH_UNIX) * 1_000_000)
        status = _STATUS.pack(b"r", lsn, lsn, lsn, micros, 0)
        try:
            sent = conn.put_copy_data(status) == 1
            conn.flush()  # nonblocking: what does not fit now goes with the next flush
        except psycopg.OperationalError as exc:
            raise ReplicationError(f"cannot send a standby status update: {exc}") from exc
        if not sent:
            return  # the send buffer is full; the next status update says the same, later
        self._confirmed_lsn, self._status_at = lsn, now

    @staticmethod
    def _end_reason(conn: pq.abc.PGconn, error: Exception | None) -> str:
        """The server's own message when it ended the stream (e.g. a publication dropped)."""
        try:
            result = conn.get_result()
        except psycopg.OperationalError:
            result = None
        if result is not None and result.error_message:
            return result.error_message.decode(errors="replace").strip()
        if error is not None:
            return f"the replication stream broke: {error}"
        return _message(conn, "the server ended the replication stream")

    def _require(self) -> pq.abc.PGconn:
        if self._conn is None:
            raise ReplicationError("the replication stream is closed")
        return self._conn


def _message(conn: pq.abc.PGconn, default: str) -> str:
    detail = conn.error_message.decode(errors="replace").strip()
    return f"{default}: {detail}" if detail else default
