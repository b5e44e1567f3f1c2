"""Decoder for PostgreSQL's built-in `pgoutput` logical decoding messages (protocol version 1).

The capture loop reads them with `pg_logical_slot_get_binary_changes()`; each call re-sends the
Relation message before a relation's first change, so the decoder never needs earlier calls.
Values arrive in their text representation; `values.py` turns them into JSON.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Column", "Relation", "RowChange", "decode_messages"]

_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_U32 = struct.Struct("!I")
_I64 = struct.Struct("!q")

Tuple = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type_oid: int
    key: bool  # part of the replica identity (the primary key unless changed)


@dataclass(frozen=True, slots=True)
class Relation:
    oid: int
    schema: str
    table: str
    replica_identity: str  # d(efault) n(othing) f(ull) i(ndex)
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class RowChange:
    relation: Relation
    type: str  # INSERT / UPDATE / DELETE
    record: Tuple | None
    old_record: Tuple | None
    commit_timestamp: datetime
    unchanged_toast: frozenset[str] = frozenset()


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> str:
        value = chr(self.data[self.pos])
        self.pos += 1
        return value

    def unpack(self, fmt: struct.Struct) -> int:
        (value,) = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return int(value)

    def string(self) -> str:
        end = self.data.index(0, self.pos)
        value = self.data[self.pos : end].decode("utf-8")
        self.pos = end + 1
        return value

    def tuple(self, relation: Relation) -> tuple[Tuple, frozenset[str]]:
        count = self.unpack(_I16)
        values: Tuple = {}
        unchanged: set[str] = set()
        for column in relation.columns[:count]:
            kind = self.byte()
            if kind == "n":
                values[column.name] = None
            elif kind == "u":
                unchanged.add(column.name)
            else:
                size = self.unpack(_I32)
                raw = self.data[self.pos : self.pos + size]
                self.pos += size
                values[column.name] = raw.decode("utf-8") if kind == "t" else raw.hex()
        return values, frozenset(unchanged)


def _timestamp(micros: int) -> datetime:
    return _PG_EPOCH + timedelta(microseconds=micros)


def decode_messages(messages: list[bytes], relations: dict[int, Relation]) -> list[RowChange]:
    """Row changes of complete transactions, in commit order; `relations` is updated in place."""
    changes: list[RowChange] = []
    committed_at = _PG_EPOCH
    for data in messages:
        reader = _Reader(data)
        kind = reader.byte()
        if kind == "B":
            reader.unpack(_I64)
            committed_at = _timestamp(reader.unpack(_I64))
        elif kind == "R":
            oid = reader.unpack(_U32)
            schema, table = reader.string(), reader.string()
            identity = reader.byte()
            columns = []
            for _ in range(reader.unpack(_I16)):
                flags = ord(reader.byte())
                name = reader.string()
                type_oid = reader.unpack(_U32)
                reader.unpack(_I32)
                columns.append(Column(name, type_oid, bool(flags & 1)))
            relations[oid] = Relation(oid, schema, table, identity, tuple(columns))
        elif kind in "IUD":
            relation = relations[reader.unpack(_U32)]
            changes.append(_row_change(kind, reader, relation, committed_at))
    return changes


def _row_change(kind: str, reader: _Reader, relation: Relation, at: datetime) -> RowChange:
    marker = reader.byte()
    if kind == "I":
        record, unchanged = reader.tuple(relation)
        return RowChange(relation, "INSERT", record, None, at, unchanged)
    if kind == "D":
        old, _ = reader.tuple(relation)
        return RowChange(relation, "DELETE", None, old, at)
    old_record: Tuple | None = None
    if marker in "KO":
        old_record, _ = reader.tuple(relation)
        reader.byte()
    record, unchanged = reader.tuple(relation)
    return RowChange(relation, "UPDATE", record, old_record, at, unchanged)
