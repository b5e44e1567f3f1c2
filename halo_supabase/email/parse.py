"""Raw MIME bytes -> :class:`ParsedEmail`, with the standard library and without ever raising.

Parsing uses `BytesParser(policy=policy.default)` for the structure, but reads header values from
`raw_items()` and decodes them itself: policy.default's header objects can raise on malformed
input, and they turn 8-bit header bytes into replacement characters where we can usually recover
the text (UTF-8 first, then Windows-1252). Every repair is recorded in `ParsedEmail.defects`.

Which part is the body: the first text/plain and the first text/html reached through
`get_body()`'s rules (multipart/alternative, related, mixed). Every other leaf is an attachment,
including inline images; a `message/rfc822` part is kept whole (it is not walked into), so a
forwarded or bounced original stays one attachment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
from collections.abc import Iterator
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from halo_supabase.email.charsets import decode_bytes
from halo_supabase.email.html_text import html_to_text
from halo_supabase.email.message import Address, Attachment, BodyCharset, ParsedEmail

__all__ = ["SYNTHETIC_ID_DOMAIN", "decode_header_value", "parse_email", "parse_message_ids"]

# RFC 2606 reserves .invalid: a synthetic id can never collide with a real sender's.
SYNTHETIC_ID_DOMAIN = "synthetic.halo.invalid"
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_LOOSE_MSG_ID = re.compile(r"<([^<>]+)>")
_ADDRESS_HEADERS = ("from", "sender", "reply-to", "to", "cc")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
# Report parts are plain text to a person downloading them; mimetypes does not know them.
_REPORT_EXTENSIONS = dict.fromkeys(
    (
        "message/delivery-status",
        "message/global-delivery-status",
        "message/feedback-report",
        "text/rfc822-headers",
    ),
    ".txt",
)
_FOLD = re.compile(r"\r?\n[ \t]*")


class _ParsedPart(EmailMessage):
    """An EmailMessage that parses its Content-Type once.

    policy.default re-parses the header on every get_content_type() call, and the body search
    and attachment walk ask a dozen times per part: profiling showed it as the largest cost of
    parsing. Parts are never modified after parsing, so the first answer stays right; a
    changed default type (multipart/digest children) resets it.
    """

    _content_type: str | None = None

    def get_content_type(self) -> str:
        if self._content_type is None:
            self._content_type = super().get_content_type()
        return self._content_type

    def set_default_type(self, ctype: str) -> None:
        self._content_type = None
        super().set_default_type(ctype)

    def __setitem__(self, name: str, val: Any) -> None:
        self._content_type = None
        super().__setitem__(name, val)


def _parser() -> BytesParser:
    return BytesParser(_class=_ParsedPart, policy=policy.default)


def _recover_8bit(value: str) -> tuple[str, bool]:
    """Undo BytesParser's surrogateescape of raw 8-bit header bytes; True if there were any."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value, False
    raw = value.encode("ascii", errors="surrogateescape")
    text, _, _ = decode_bytes(raw, None)
    return text, True


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
    """Unfold and decode one raw header value (RFC 2047 words, raw 8-bit); (text, defects).

    Encoded words are decoded one by one, so one broken word does not spoil its neighbours;
    whitespace between adjacent encoded words is dropped (RFC 2047 6.2), and adjacent words in
    the same charset are joined as bytes before decoding, because some mailers split a
    multi-byte character across two words.
    """
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


def _addresses(raw_value: str, defects: list[str]) -> tuple[Address, ...]:
    """Split on the raw value (an encoded display name may decode to text containing commas),
    then decode each display name."""
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


def _iter_leaves(part: Message) -> Iterator[Message]:
    """Leaf parts in order; message/rfc822 and delivery-status parts count as leaves."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        payload = _payload(part)
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    yield from _iter_leaves(sub)
        return
    yield part


def _payload(part: Message, *, decode: bool = False) -> object:
    """get_payload that never raises (it can, on a charset label with a NUL byte, for one)."""
    try:
        return part.get_payload(decode=True) if decode else part.get_payload()
    except Exception:
        return None


def _serialise(part: Message) -> bytes:
    try:
        return part.as_bytes(policy=policy.compat32)
    except Exception:  # the generator refuses some malformed headers; write them as they came
        head = "".join(f"{key}: {value}\n" for key, value in part.raw_items())
        return head.encode("utf-8", "surrogateescape") + b"\n" + _part_bytes(part)


def _part_bytes(part: Message) -> bytes:
    if part.get_content_maintype() in {"message", "multipart"} and part.is_multipart():
        # message/rfc822, message/delivery-status: the parser made sub-messages; serialise
        # their content back (without this part's own headers).
        payload = _payload(part)
        subs = payload if isinstance(payload, list) else [payload]
        return b"\n".join(_serialise(sub) for sub in subs if isinstance(sub, Message))
    data = _payload(part, decode=True)
    if isinstance(data, bytes):
        return data
    payload = _payload(part)
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _part_text(part: Message, charsets: list[BodyCharset], defects: list[str]) -> str:
    declared = part.get_param("charset")
    declared_name = declared if isinstance(declared, str) else None
    text, used, fell_back = decode_bytes(_part_bytes(part), declared_name)
    charsets.append(BodyCharset(declared=declared_name, used=used, fallback=fell_back))
    if fell_back:
        defects.append("charset-fallback")
    return text.replace("\r\n", "\n")


def _filename(part: Message, index: int, defects: list[str]) -> str:
    try:
        name = part.get_filename()
    except Exception:  # malformed RFC 2231 parameters
        name = None
        defects.append("bad-filename")
    if name:
        decoded, name_defects = decode_header_value(name)
        defects.extend(name_defects)
        # A filename is shown and used for downloads; never let it carry a path.
        cleaned = decoded.replace("\\", "/").rpartition("/")[2].strip()
        if cleaned:
            return cleaned
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        return f"message-{index}.eml"
    extension = (
        _REPORT_EXTENSIONS.get(ctype)
        or mimetypes.guess_extension(ctype)
        or "." + (re.sub(r"[^a-z0-9]+", "", ctype.partition("/")[2]) or "bin")
    )
    return f"part-{index}{extension}"


def _synthetic_id(headers: list[tuple[str, str]], text: str) -> str:
    """Stable across redeliveries: hashes what the sender wrote (From, Date, Subject, body), not
    what relays add (Received, provider headers), so two copies of one mail dedupe."""
    wanted = {"from", "date", "subject", "to"}
    digest = hashlib.sha256()
    for key, value in headers:
        if key.lower() in wanted:
            digest.update(f"{key.lower()}:{value}\n".encode("utf-8", "surrogatepass"))
    digest.update(text.strip().encode("utf-8", "surrogatepass"))
    return f"{digest.hexdigest()[:40]}@{SYNTHETIC_ID_DOMAIN}"


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        defects.append("bad-date")
        return None


def _defect_name(defect: object) -> str:
    name = type(defect).__name__.removesuffix("Defect")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one message. Never raises: whatever is malformed is repaired and named in defects.

    The repairs above cover every failure the fixture corpus and the mutation tests found; should
    the stdlib still raise on some input, the message is kept as plain text with the defect
    `parser-error` rather than lost (the raw bytes are stored anyway).
    """
    try:
        return _parse(raw)
    except Exception:
        text = raw.decode("utf-8", "replace")
        return ParsedEmail(
            message_id=_synthetic_id([], text),
            message_id_synthetic=True,
            subject="",
            from_=None,
            sender=None,
            reply_to=(),
            to=(),
            cc=(),
            date=None,
            in_reply_to=(),
            references=(),
            headers=(),
            text=text,
            html=None,
            text_from_html=False,
            attachments=(),
            content_type="text/plain",
            charsets=(BodyCharset(declared=None, used="utf-8", fallback=True),),
            defects=("parser-error",),
            raw_size=len(raw),
        )


def _parse(raw: bytes) -> ParsedEmail:
    defects: list[str] = []
    try:
        msg: Message = _parser().parsebytes(raw)
    except Exception:  # the parser is very tolerant; this is a last resort
        defects.append("unparseable")
        msg = EmailMessage()
        msg.set_payload(raw.decode("utf-8", "replace"))
    headers: list[tuple[str, str]] = []
    addresses: dict[str, tuple[Address, ...]] = {}
    for key, raw_value in msg.raw_items():
        value, header_defects = decode_header_value(str(raw_value))
        defects.extend(header_defects)
        headers.append((key, value))
        lower = key.lower()
        if lower in _ADDRESS_HEADERS and lower not in addresses:
            addresses[lower] = _addresses(str(raw_value), defects)

    def first(name: str) -> str | None:
        return next((v for k, v in headers if k.lower() == name), None)

    structure = _with_guessed_boundary(msg, defects)
    charsets: list[BodyCharset] = []
    plain = _find_body(structure, "plain")
    html_part = _find_body(structure, "html")
    text = _part_text(plain, charsets, defects) if plain is not None else ""
    html = _part_text(html_part, charsets, defects) if html_part is not None else None
    text_from_html = plain is None and html is not None
    if text_from_html and html is not None:
        text = html_to_text(html)

    attachments: list[Attachment] = []
    for index, leaf in enumerate(_iter_leaves(structure), start=1):
        if leaf is plain or leaf is html_part:
            continue
        content_id = parse_message_ids(leaf.get("Content-ID", None) and str(leaf["Content-ID"]))
        disposition = leaf.get_content_disposition()
        data = _part_bytes(leaf)
        if not data and leaf.get_content_maintype() == "multipart":
            continue  # an empty multipart left behind by a missing boundary
        attachments.append(
            Attachment(
                filename=_filename(leaf, index, defects),
                content_type=leaf.get_content_type(),
                data=data,
                content_id=content_id[0] if content_id else None,
                inline=bool(content_id) and disposition != "attachment",
            )
        )

    # Collected last: decoding payloads (bad base64, for one) adds defects to the parts.
    for part in (msg, *structure.walk()) if structure is not msg else msg.walk():
        defects.extend(_defect_name(d) for d in part.defects)
    ids = parse_message_ids(first("message-id"))
    message_id = ids[0] if ids else _synthetic_id(headers, text)
    from_list = addresses.get("from", ())
    sender_list = addresses.get("sender", ())
    return ParsedEmail(
        message_id=message_id,
        message_id_synthetic=not ids,
        subject=first("subject") or "",
        from_=from_list[0] if from_list else None,
        sender=sender_list[0] if sender_list else None,
        reply_to=addresses.get("reply-to", ()),
        to=addresses.get("to", ()),
        cc=addresses.get("cc", ()),
        date=_date(first("date"), defects),
        in_reply_to=parse_message_ids(first("in-reply-to")),
        references=parse_message_ids(" ".join(v for k, v in headers if k.lower() == "references")),
        headers=tuple(headers),
        text=text,
        html=html,
        text_from_html=text_from_html,
        attachments=tuple(attachments),
        content_type=msg.get_content_type(),
        charsets=tuple(charsets),
        defects=tuple(dict.fromkeys(defects)),
        raw_size=len(raw),
    )


def _with_guessed_boundary(msg: Message, defects: list[str]) -> Message:
    """A multipart without a boundary parameter: take the boundary from the first "--" line of
    the body, as a reader would, and parse the body again with it. Else the message unchanged."""
    payload = _payload(msg)
    if (
        msg.get_content_maintype() != "multipart"
        or msg.is_multipart()
        or not isinstance(payload, str)
    ):
        return msg
    found = re.search(r"^--([^\s]{1,70}?)\s*$", payload, re.MULTILINE)
    if not found:
        return msg
    defects.append("boundary-guessed")
    header = f'Content-Type: {msg.get_content_type()}; boundary="{found.group(1)}"\n\n'
    body = payload.encode("utf-8", "surrogateescape")
    return _parser().parsebytes(header.encode() + body)


def _find_body(msg: Message, subtype: str) -> Message | None:
    """The text/<subtype> body part, or None. A part marked as attachment is never the body."""
    if not msg.is_multipart():
        # Also covers a multipart whose boundary is missing: its payload is then plain text.
        ctype = msg.get_content_type()
        if msg.get_content_disposition() == "attachment":
            return None
        if ctype == f"text/{subtype}" or (
            subtype == "plain" and msg.get_content_maintype() == "multipart"
        ):
            return msg
        return None
    try:
        body = msg.get_body(preferencelist=(subtype,)) if isinstance(msg, EmailMessage) else None
    except Exception:
        body = None
    if body is not None and body.get_content_type() == f"text/{subtype}":
        return body
    return None
