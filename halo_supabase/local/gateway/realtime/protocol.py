"""Phoenix channel frames and the two serializers Supabase Realtime speaks.

V1 (`vsn=1.0.0`, realtime-py) frames are JSON objects; V2 (`vsn=2.0.0`, current supabase-js) frames
are JSON arrays `[join_ref, ref, topic, event, payload]` plus binary broadcast frames: kind 3
(client→server broadcast push) and kind 4 (server→client broadcast). Server pushes always carry
`"ref": null`: realtime-py drops a push without that key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SERIALIZERS", "Frame", "ProtocolError", "Serializer", "Wire"]

# An ASGI `websocket.send` message, encoded once and shared by every recipient of a fan-out.
Wire = dict[str, Any]

_USER_BROADCAST_PUSH = 3
_USER_BROADCAST = 4
_JSON_ENCODING = 1


class ProtocolError(Exception):
    """A frame that cannot be decoded; Phoenix drops the connection on it."""


@dataclass(slots=True)
class Frame:
    """One Phoenix message, in either direction."""

    topic: str
    event: str
    payload: Any
    ref: str | None = None
    join_ref: str | None = None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class Serializer:
    """V1: JSON objects in text frames."""

    vsn = "1.0.0"

    def decode(self, message: Mapping[str, Any]) -> Frame:
        text = message.get("text")
        if text is None:
            raise ProtocolError("binary frames need vsn=2.0.0")
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ProtocolError(f"frame is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ProtocolError("a vsn=1.0.0 frame must be a JSON object")
        return self._frame(
            value.get("topic"), value.get("event"), value.get("payload"), value.get("ref"), value
        )

    @staticmethod
    def _frame(topic: Any, event: Any, payload: Any, ref: Any, raw: dict[str, Any]) -> Frame:
        if not isinstance(topic, str) or not isinstance(event, str):
            raise ProtocolError("a frame needs a string topic and event")
        if payload is None:
            payload = {}
        return Frame(topic, event, payload, _text(ref), _text(raw.get("join_ref")))

    def encode(self, frame: Frame) -> Wire:
        body = {"topic": frame.topic, "event": frame.event, "payload": frame.payload}
        body["ref"] = frame.ref
        return {"type": "websocket.send", "text": _dumps(body)}

    def encode_broadcast(self, topic: str, payload: dict[str, Any]) -> Wire:
        """A broadcast push: `payload` is `{type: "broadcast", event, payload[, meta]}`."""
        return self.encode(Frame(topic, "broadcast", payload))


class ArraySerializer(Serializer):
    """V2: JSON arrays in text frames, binary user broadcasts."""

    vsn = "2.0.0"

    def decode(self, message: Mapping[str, Any]) -> Frame:
        data = message.get("bytes")
        if data is not None:
            return self._decode_binary(data)
        try:
            value = json.loads(message.get("text") or "")
        except ValueError as exc:
            raise ProtocolError(f"frame is not JSON: {exc}") from None
        if not isinstance(value, list) or len(value) != 5:
            raise ProtocolError(
                "a vsn=2.0.0 text frame must be [join_ref, ref, topic, event, payload]"
            )
        join_ref, ref, topic, event, payload = value
        return self._frame(topic, event, payload, ref, {"join_ref": join_ref})

    def _decode_binary(self, data: bytes) -> Frame:
        if len(data) < 7 or data[0] != _USER_BROADCAST_PUSH:
            raise ProtocolError("unsupported binary frame")
        sizes = data[1:6]
        encoding = data[6]
        offset = 7
        parts: list[str] = []
        try:
            for size in sizes:
                parts.append(data[offset : offset + size].decode("utf-8"))
                offset += size
            join_ref, ref, topic, event, metadata = parts
            body = data[offset:]
            payload: Any = json.loads(body) if encoding == _JSON_ENCODING else body.hex()
            meta = json.loads(metadata) if metadata else {}
        except ValueError as exc:
            raise ProtocolError(f"malformed broadcast frame: {exc}") from None
        inner = {**(meta if isinstance(meta, dict) else {}), "type": "broadcast", "event": event}
        inner["payload"] = payload
        return Frame(topic, "broadcast", inner, ref or None, join_ref or None)

    def encode(self, frame: Frame) -> Wire:
        body = [frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload]
        return {"type": "websocket.send", "text": _dumps(body)}

    def encode_broadcast(self, topic: str, payload: dict[str, Any]) -> Wire:
        event = payload.get("event")
        inner = payload.get("payload")
        meta = payload.get("meta")
        head = [topic.encode(), str(event).encode(), _dumps(meta).encode() if meta else b""]
        if not isinstance(event, str) or any(len(part) > 255 for part in head):
            return super().encode_broadcast(topic, payload)
        sizes = bytes([_USER_BROADCAST, *(len(part) for part in head), _JSON_ENCODING])
        return {"type": "websocket.send", "bytes": sizes + b"".join(head) + _dumps(inner).encode()}


SERIALIZERS: dict[str, Serializer] = {s.vsn: s for s in (Serializer(), ArraySerializer())}
