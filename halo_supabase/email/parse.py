"""Raw MIME bytes -> :class:`ParsedEmail`, with the standard library and without ever raising.

Parsing uses `BytesParser(policy=policy.default)` for the structure, but reads header values from
`raw_items()` and decodes them with headers.py: policy.default's header objects can raise on
malformed input, and they turn 8-bit header bytes into replacement characters where the text can
usually be recovered. Every repair is recorded in `ParsedEmail.defects`.

Which part is the body: the first text/plain and the first text/html reached through
`get_body()`'s rules (multipart/alternative, related, mixed). Every other leaf is an attachment,
including inline images; a `message/rfc822` part is kept whole (it is not walked into), so a
forwarded or bounced original stays one attachment.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterator
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any

from halo_supabase.email.charsets import decode_bytes
from halo_supabase.email.headers import address_list, decode_header_value, parse_message_ids
from halo_supabase.email.html_text import html_to_text
from halo_supabase.email.message import Address, Attachment, BodyCharset, ParsedEmail

__all__ = ["SYNTHETIC_ID_DOMAIN", "parse_email"]

# RFC 2606 reserves .invalid: a synthetic id can never collide with a real sender's.
SYNTHETIC_ID_DOMAIN = "synthetic.halo.invalid"
_ADDRESS_HEADERS = ("from", "sender", "reply-to", "to", "cc")
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


def _disposition(part: Message) -> str | None:
    """get_content_disposition that never raises (the stdlib's parameter parser can, on a
    truncated parameter list)."""
    try:
        return part.get_content_disposition()
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
    try:
        declared = part.get_param("charset")
    except Exception:  # same parameter parser as above
        declared = None
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
    """Stable across redeliveries: hashes what the sender wrote (From, To, Date, Subject, body), not
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
            addresses[lower] = address_list(str(raw_value), defects)

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
        disposition = _disposition(leaf)
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
        if _disposition(msg) == "attachment":
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
