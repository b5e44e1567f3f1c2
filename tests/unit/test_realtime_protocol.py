"""Realtime pieces that need no server: the two serializers, text-to-JSON values, filters."""

from __future__ import annotations

import json
import struct

import pytest

from halo_supabase.local.gateway.realtime.filters import FilterError, parse_filter
from halo_supabase.local.gateway.realtime.protocol import SERIALIZERS, Frame, ProtocolError
from halo_supabase.local.gateway.realtime.values import to_json

V1, V2 = SERIALIZERS["1.0.0"], SERIALIZERS["2.0.0"]


def test_v1_push_always_carries_a_null_ref() -> None:
    wire = V1.encode(
        Frame("realtime:r", "broadcast", {"type": "broadcast", "event": "e", "payload": {}})
    )
    assert json.loads(wire["text"]) == {
        "topic": "realtime:r",
        "event": "broadcast",
        "payload": {"type": "broadcast", "event": "e", "payload": {}},
        "ref": None,
    }


def test_v2_decodes_the_binary_broadcast_push_supabase_js_sends() -> None:
    head = [b"1", b"2", b"realtime:r", b"moved", b'{"a":1}']
    data = bytes([3, *map(len, head), 1]) + b"".join(head) + b'{"x":[1,2]}'
    frame = V2.decode({"bytes": data})
    assert (frame.join_ref, frame.ref, frame.topic, frame.event) == (
        "1",
        "2",
        "realtime:r",
        "broadcast",
    )
    assert frame.payload == {
        "a": 1,
        "type": "broadcast",
        "event": "moved",
        "payload": {"x": [1, 2]},
    }


def test_v2_encodes_broadcasts_as_binary_kind_4() -> None:
    wire = V2.encode_broadcast(
        "realtime:r", {"type": "broadcast", "event": "e", "payload": {"n": 1}, "meta": {"id": "x"}}
    )
    data = wire["bytes"]
    kind, topic, event, meta, encoding = struct.unpack("5B", data[:5])
    assert (kind, encoding) == (4, 1)
    body = data[5:]
    assert body[:topic] == b"realtime:r"
    assert body[topic : topic + event] == b"e"
    assert json.loads(body[topic + event : topic + event + meta]) == {"id": "x"}
    assert json.loads(body[topic + event + meta :]) == {"n": 1}


@pytest.mark.parametrize(
    "message",
    [
        {"text": "{nope"},
        {"text": "[1, 2]"},
        {"text": '{"topic": 1, "event": "x"}'},
        {"bytes": b"\x03"},
    ],
)
def test_undecodable_frames_raise(message: dict[str, object]) -> None:
    serializer = V2 if "bytes" in message else V1
    with pytest.raises(ProtocolError):
        serializer.decode(message)


@pytest.mark.parametrize(
    ("type_name", "text", "expected"),
    [
        ("int4", "42", 42),
        ("numeric", "1.50", 1.5),
        ("float8", "NaN", "NaN"),
        ("bool", "t", True),
        ("jsonb", '{"a": [1]}', {"a": [1]}),
        ("_text", '{a,"b c",NULL}', ["a", "b c", None]),
        ("_int4", "{}", []),
        ("uuid", "0000", "0000"),
        ("text", None, None),
    ],
)
def test_values_are_typed_like_realtime_cast(
    type_name: str, text: str | None, expected: object
) -> None:
    assert to_json(type_name, text) == expected


def test_filters_follow_sql_null_semantics_and_and() -> None:
    types = {"n": "int4", "s": "text"}
    both = parse_filter("n=gt.1,s=in.(a,b)")
    assert both.matches({"n": 2, "s": "a"}, types)
    assert not both.matches({"n": 2, "s": "c"}, types)
    assert not parse_filter("n=not.eq.1").matches({"n": None}, types)
    assert parse_filter("n=is.null").matches({"n": None}, types)
    assert parse_filter("n=isdistinct.1").matches({"n": None}, types)


@pytest.mark.parametrize(
    "text", ["n", "n=eq", "n=between.1", "n=is.maybe", "n=in.1,2", "s=match.("]
)
def test_bad_filters_are_refused(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text)
