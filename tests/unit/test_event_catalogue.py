"""The event catalogue (docs/realtime-events.md), the typed client's event models and the names the
SQL emits are one set: a trigger that emits an undocumented event fails here.

Names are read from supabase/schemas/*.sql: the name argument of each `halo.emit_event(…)` and
`realtime.send(…)` call, when it is a literal, a `case` of literals, or a variable the function
assigns one of those. Emitters that build names at run time are listed in `DYNAMIC_EMITTERS`, the
one place to extend; a call that is neither fails the test with its function's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from halo_supabase.client.events import EVENT_MODELS

REPO = Path(__file__).resolve().parent.parent.parent
SCHEMAS = REPO / "supabase" / "schemas"
CATALOGUE = REPO / "docs" / "realtime-events.md"

_FUNCTION = re.compile(r"create (?:or replace )?function ([\w.]+)\(", re.IGNORECASE)
_CALL = re.compile(r"(?<!function )\b(halo\.emit_event|realtime\.send)\(", re.IGNORECASE)
_ROW_EVENT_TRIGGER = re.compile(
    r"after ((?:insert|update|delete|or|of|[\w, ])+?) on [\w.]+\s+for each row\s+"
    r"execute function halo\.emit_row_event\('(\w+)'",
    re.IGNORECASE,
)
_VERBS = {"insert": "created", "update": "updated", "delete": "deleted"}


def row_event_names(sql: str) -> set[str]:
    """`halo.emit_row_event('<entity>')` emits `<entity>.created/updated/deleted`, per its trigger."""
    return {
        f"{entity}.{_VERBS[op]}"
        for ops, entity in _ROW_EVENT_TRIGGER.findall(sql)
        for op in re.findall(r"\b(insert|update|delete)\b", ops.lower())
    }


# Functions whose event names are built at run time: what each can emit, from the whole schema.
DYNAMIC_EMITTERS: dict[str, Callable[[str], set[str]]] = {
    "halo.emit_row_event": row_event_names,
    # Re-sends each logged event under its own name (new.name): nothing new.
    "halo.broadcast_event": lambda _sql: set(),
}


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def _arguments(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose `(` is at `start`."""
    depth, quoted, current, parts = 0, False, "", []
    for char in text[start + 1 :]:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            if depth == 0:
                break
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    return [*parts, current.strip()]


def _literal_names(expression: str) -> set[str] | None:
    """The names a literal or a `case` of literals can take; None for anything else."""
    expression = expression.strip()
    if re.fullmatch(r"'[^']*'", expression):
        return {expression[1:-1]}
    if re.fullmatch(r"case\b.*\bend", expression, re.IGNORECASE | re.DOTALL):
        branches = re.findall(r"\b(?:then|else)\s+([^\s]+)", expression, re.IGNORECASE)
        if all(re.fullmatch(r"'[^']*'", branch) for branch in branches):
            return {branch[1:-1] for branch in branches}
    return None


def _resolve(expression: str, body: str) -> set[str] | None:
    names = _literal_names(expression)
    if names is None and re.fullmatch(r"\w+", expression):
        assignments = re.findall(rf"\b{expression}\s*:=\s*(.*?);", body, re.IGNORECASE | re.DOTALL)
        resolved = [_literal_names(value) for value in assignments]
        if assignments and all(r is not None for r in resolved):
            return set().union(*(r for r in resolved if r is not None))
    return names


def emitted_names(sql_files: dict[str, str]) -> set[str]:
    """Every event name the schema can emit or broadcast."""
    everything = "\n".join(sql_files.values())
    names: set[str] = set()
    unresolved: list[str] = []
    for file_name, sql in sql_files.items():
        sql = _without_comments(sql)
        starts = [(m.start(), m.group(1).lower()) for m in _FUNCTION.finditer(sql)]
        for index, (start, function) in enumerate(starts):
            end = starts[index + 1][0] if index + 1 < len(starts) else len(sql)
            body = sql[start:end]
            for call in _CALL.finditer(body):
                name_argument = _arguments(body, call.end() - 1)[1]
                found = _resolve(name_argument, body)
                if found is not None:
                    names |= found
                elif function in DYNAMIC_EMITTERS:
                    names |= DYNAMIC_EMITTERS[function](everything)
                else:
                    unresolved.append(f"{file_name}: {function} emits {name_argument!r}")
    assert not unresolved, (
        "event names built at run time; list what each can emit in DYNAMIC_EMITTERS: "
        + "; ".join(unresolved)
    )
    return names


def catalogue_names(markdown: str) -> tuple[set[str], set[str]]:
    """The names in the catalogue's event tables, and those of its "All names" paragraph."""
    tables: set[str] = set()
    in_event_table = False
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_event_table = False
        elif cells[0] == "event":
            in_event_table = True
        elif in_event_table and not set(cells[0]) <= {"-", " "}:
            tables |= set(re.findall(r"`([^`]+)`", cells[0]))
    listed = markdown.split("## All names", 1)[1]
    return tables, set(re.findall(r"`([^`]+)`", listed.split("\n\n")[1]))


def schema_sql() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(SCHEMAS.glob("*.sql"))}


def test_every_emitted_event_is_in_the_catalogue_and_has_a_model() -> None:
    emitted = emitted_names(schema_sql())
    tables, listed = catalogue_names(CATALOGUE.read_text())
    assert emitted - tables == set(), "emitted but not in docs/realtime-events.md"
    assert tables - emitted == set(), "in docs/realtime-events.md but emitted nowhere"
    assert listed == tables, "the 'All names' paragraph differs from the tables"
    assert set(EVENT_MODELS) == tables, "halo_supabase/client/events.py differs from the catalogue"


def test_row_events_follow_their_triggers() -> None:
    emitted = emitted_names(schema_sql())
    assert {"contact.created", "contact.updated", "mention.created"} <= emitted
    assert "contact.deleted" not in emitted  # contacts' trigger is on insert or update only
    assert {"custom_inbox.created", "custom_inbox.updated", "custom_inbox.deleted"} <= emitted


CONTROL_FUNCTION = """
create function halo.escalate_quietly() returns trigger language plpgsql as $$
declare
  event_name text;
begin
  event_name := case when new.urgent then 'ticket.escalated' else 'ticket.noted' end;
  perform halo.emit_event(new.workspace_id, event_name, new.id, null, '{}');
  perform realtime.send('{}', 'ticket.pinged', 'workspace:' || new.workspace_id, true);
  return null;
end
$$;
"""


def test_control_an_undocumented_event_is_caught() -> None:
    files = {**schema_sql(), "control.sql": CONTROL_FUNCTION}
    tables, _ = catalogue_names(CATALOGUE.read_text())
    assert emitted_names(files) - tables == {"ticket.escalated", "ticket.noted", "ticket.pinged"}


def test_control_a_name_built_at_run_time_must_be_declared() -> None:
    built = CONTROL_FUNCTION.replace("event_name, new.id", "'ticket.' || tg_op, new.id")
    with pytest.raises(AssertionError, match=r"halo\.escalate_quietly emits"):
        emitted_names({**schema_sql(), "control.sql": built})


def test_control_a_documented_event_without_a_model_is_caught() -> None:
    tables, _ = catalogue_names(CATALOGUE.read_text() + "\n| event |\n| --- |\n| `ticket.x` |\n")
    assert tables - set(EVENT_MODELS) == {"ticket.x"}
