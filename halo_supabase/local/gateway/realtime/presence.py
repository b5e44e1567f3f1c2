"""Presence: who is tracked on a topic, as Phoenix.Presence reports it (state and diffs)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from halo_supabase.local.gateway.realtime.channel import Channel

__all__ = ["PresenceDiff", "PresenceRoom"]

PresenceDiff = dict[str, dict[str, dict[str, list[dict[str, Any]]]]]

_refs = itertools.count(1)


def _ref() -> str:
    return f"F{next(_refs):x}"


def _group(entries: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, meta in entries:
        grouped.setdefault(key, {"metas": []})["metas"].append(meta)
    return grouped


class PresenceRoom:
    """The tracked metas of one topic: one entry per tracking channel, grouped by presence key."""

    def __init__(self) -> None:
        self._entries: dict[Channel, tuple[str, dict[str, Any]]] = {}

    def __bool__(self) -> bool:
        return bool(self._entries)

    def state(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return _group(list(self._entries.values()))

    def track(self, channel: Channel, payload: dict[str, Any]) -> PresenceDiff | None:
        """Track or update; None when the same payload is tracked again (nothing changed)."""
        previous = self._entries.get(channel)
        key = channel.presence_key
        if previous is not None:
            old_key, old_meta = previous
            unchanged = {k: v for k, v in old_meta.items() if k not in ("phx_ref", "phx_ref_prev")}
            if old_key == key and unchanged == payload:
                return None
            meta = {**payload, "phx_ref": _ref(), "phx_ref_prev": old_meta["phx_ref"]}
            self._entries[channel] = (key, meta)
            return {"joins": _group([(key, meta)]), "leaves": _group([previous])}
        meta = {**payload, "phx_ref": _ref()}
        self._entries[channel] = (key, meta)
        return {"joins": _group([(key, meta)]), "leaves": {}}

    def untrack(self, channel: Channel) -> PresenceDiff | None:
        previous = self._entries.pop(channel, None)
        if previous is None:
            return None
        return {"joins": {}, "leaves": _group([previous])}
