"""Header values: RFC 2047 words, raw 8-bit bytes, address lists and Message-ID lists.

Rules (the TypeScript port follows them): folding is removed; raw 8-bit bytes are read as UTF-8,
else Windows-1252; encoded words are decoded one at a time, so one broken word does not spoil its
neighbours; whitespace between adjacent encoded words is dropped (RFC 2047 6.2), and adjacent
words in the same charset are joined as bytes before decoding, because some mailers split a
multi-byte character across two words. Base64 words with invalid characters or padding are
decoded leniently and reported as `bad-encoded-word`.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import getaddresses

from halo_supabase.email.charsets import decode_bytes
from halo_supabase.email.message import Address

__all__ = [
    "address_list",
    "decode_header_value",
    "one_line",
    "parse_message_ids",
    "safe_content_type",
]

_MSG_ID = re.compile(r"<([^<>\s]+)>")
_LOOSE_MSG_ID = re.compile(r"<([^<>]+)>")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]*")
# Line breaks (everything str.splitlines() splits on) and other control characters: what we write
# into a header must never start a new one.
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][\w.+-]*/[a-z0-9][\w.+-]*$")
_RAW_BYTES = re.compile("[\udc80-\udcff]+")


def _recover_8bit(value: str) -> tuple[str, bool]:
    """Undo BytesParser's surrogateescape of raw 8-bit header bytes; True if there were any.

    Each run of raw bytes is decoded on its own (a UTF-8 character's bytes are always one run),
    so text around it is left as it was.
    """
    recovered = _RAW_BYTES.sub(
        lambda run: decode_bytes(run.group().encode("ascii", "surrogateescape"), None)[0], value
    )
    return recovered, recovered != value


def _decode_word(encoding: str, payload: str) -> tuple[bytes, bool]:
    """The bytes of one RFC 2047 encoded word's payload; True if it had to be repaired."""
    if encoding.lower() == "q":
        return binascii.a2b_qp(
            payload.replace("_", " ").encode("ascii", "replace"), header=True
        ), False
    data = payload.encode("ascii", "replace")
    padded = data + b"=" * (-len(data) % 4)
    try:
        return base64.b64decode(padded, validate=True), padded != data
    except (binascii.Error, ValueError):
        # Drop the invalid characters and any dangling sixth bit group: most of the text survives.
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        cleaned = cleaned[: len(cleaned) - (len(cleaned) % 4 == 1)]
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4)), True


def decode_header_value(value: str) -> tuple[str, list[str]]:
    """Unfold and decode one raw header value (see the module rules); (text, defects)."""
    defects: list[str] = []
    value, had_8bit = _recover_8bit(_FOLD.sub(" ", value))
    if had_8bit:
        defects.append("8bit-header")
    pieces: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            text, _, fell_back = decode_bytes(b"".join(pending), pending_charset)
            if fell_back:
                defects.append("bad-encoded-word")
            pieces.append(text)
            pending.clear()
        pending_charset = None

    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between.strip() or not pending:
            flush()
            pieces.append(between)
        charset = match.group(1).partition("*")[0]  # RFC 2231 language suffix
        data, repaired = _decode_word(match.group(2), match.group(3))
        if repaired:
            defects.append("bad-encoded-word")
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        pending.append(data)
        pending_charset = charset
        position = match.end()
    flush()
    pieces.append(value[position:])
    return "".join(pieces).strip(), defects


def parse_message_ids(value: str | None) -> tuple[str, ...]:
    """The ids in a Message-ID / In-Reply-To / References value, in order, without brackets.

    A value without any `<...>` but with one bare token (some clients omit the brackets) yields it.
    """
    if not value:
        return ()
    found = _MSG_ID.findall(value) or [
        # Some old Exchange versions fold or space inside the brackets; the id is the text without it.
        "".join(loose.split())
        for loose in _LOOSE_MSG_ID.findall(value)
    ]
    if found:
        return tuple(dict.fromkeys(i for i in found if i))
    bare = value.strip().split()
    return (bare[0],) if len(bare) == 1 and "@" in bare[0] else ()


def address_list(raw_value: str, defects: list[str]) -> tuple[Address, ...]:
    """The addresses of one raw address header. Split on the raw value (an encoded display name
    may decode to text containing commas), then decode each display name; repairs go to
    `defects`. Domains are lower-cased, local parts kept as written."""
    value, had_8bit = _recover_8bit(_FOLD.sub(" ", raw_value))
    if had_8bit:
        defects.append("8bit-header")
    result: list[Address] = []
    for name, addr in getaddresses([value]):
        addr = addr.strip()
        if "@" not in addr:
            continue
        local, _, domain = addr.rpartition("@")
        decoded_name, name_defects = decode_header_value(name)
        defects.extend(name_defects)
        result.append(Address(addr=f"{local}@{domain.lower()}", name=decoded_name))
    return tuple(result)


def one_line(text: str) -> str:
    """`text` for writing into a header: control characters and line breaks become single spaces."""
    return " ".join(_BREAKS.sub(" ", text).split())


def safe_content_type(value: str) -> tuple[str, str]:
    """(maintype, subtype) of a content type we are given, application/octet-stream if malformed."""
    cleaned = value.strip().lower()
    if not _CONTENT_TYPE.match(cleaned):
        cleaned = "application/octet-stream"
    maintype, _, subtype = cleaned.partition("/")
    return maintype, subtype
