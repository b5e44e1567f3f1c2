"""Split a SQL script into statements, remembering the line each one starts on.

The splitter understands what can hide a semicolon: quoted strings (standard, ``E''`` escape
strings), quoted identifiers, dollar-quoted bodies, line and nested block comments, and
SQL-standard ``BEGIN ATOMIC … END`` function bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Statement", "line_of_position", "split_statements"]

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9$]*")


@dataclass(frozen=True)
class Statement:
    text: str
    line: int  # 1-based line of the statement's first character in the script


def _skip_block_comment(sql: str, i: int) -> int:
    depth = 0
    n = len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_quoted(sql: str, i: int, quote: str, backslash_escapes: bool) -> int:
    """`i` is just past the opening quote; returns the index just past the closing one."""
    n = len(sql)
    while i < n:
        c = sql[i]
        if backslash_escapes and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def split_statements(sql: str) -> list[Statement]:
    """The statements of `sql`, stripped, without empty ones; comments inside are kept."""
    statements: list[Statement] = []
    n = len(sql)
    start = 0
    i = 0
    atomic_depth = 0  # > 0 inside BEGIN ATOMIC; counts CASE … END pairs too
    previous_word = ""

    def flush(end: int) -> None:
        chunk = sql[start:end]
        stripped = chunk.strip()
        if stripped and not _only_comments(stripped):
            offset = start + (len(chunk) - len(chunk.lstrip()))
            statements.append(Statement(stripped, sql.count("\n", 0, offset) + 1))

    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline == -1 else newline + 1
        elif c == "/" and sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif c == "'":
            escape = i > 0 and sql[i - 1] in "eE" and (i < 2 or not sql[i - 2].isalnum())
            i = _skip_quoted(sql, i + 1, "'", escape)
        elif c == '"':
            i = _skip_quoted(sql, i + 1, '"', False)
        elif (
            c == "$"
            and (tag := _DOLLAR_TAG.match(sql, i))
            and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_"))
        ):
            close = sql.find(tag.group(0), tag.end())
            i = n if close == -1 else close + len(tag.group(0))
        elif c.isalpha() or c == "_":
            word_match = _WORD.match(sql, i)
            assert word_match is not None
            word = word_match.group(0).lower()
            if (word == "atomic" and previous_word == "begin") or (atomic_depth and word == "case"):
                atomic_depth += 1
            elif atomic_depth and word == "end":
                atomic_depth -= 1
            previous_word = word
            i = word_match.end()
        elif c == ";" and atomic_depth == 0:
            flush(i)
            start = i + 1
            i += 1
        else:
            if not c.isspace():
                previous_word = ""
            i += 1
    flush(n)
    return statements


def _only_comments(text: str) -> bool:
    without = re.sub(r"--[^\n]*", "", text)
    without = re.sub(r"/\*.*?\*/", "", without, flags=re.S)
    return not without.strip()


def line_of_position(statement: Statement, position: int | None) -> int:
    """The script line of a 1-based character `position` inside `statement` (PostgreSQL's
    error position), or the statement's first line when there is none."""
    if not position:
        return statement.line
    return statement.line + statement.text.count("\n", 0, position - 1)
