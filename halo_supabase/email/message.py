"""The parsed form of one email: what the worker stores, classifies, strips and threads.

Everything here is plain data (frozen dataclasses) so that a message can be logged by its id,
compared in tests and serialised without dragging the stdlib `email` objects along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Address", "Attachment", "BodyCharset", "ParsedEmail"]


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: `addr` is lower-cased in the domain only (local parts may be case-sensitive)."""

    addr: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.addr.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.addr.rpartition("@")[0]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A non-body MIME part, kept byte for byte.

    `inline` parts have a Content-ID that the HTML body references as `cid:`; the worker stores them
    like attachments and rewrites the references when it renders the message.
    """

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class BodyCharset:
    """How one body part was decoded: `declared` by the sender, `used` by us, and whether we had to
    fall back (unknown charset, or bytes invalid in the declared one)."""

    declared: str | None
    used: str
    fallback: bool


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """One inbound message after parsing; never raised for, whatever the input bytes were.

    `text` is the plain body (or the HTML rendered to text when the mail had no plain part, then
    `text_from_html` is true). `defects` names every repair made, as short kebab-case words, so a
    message that rendered oddly can be explained without reading its body.
    """

    message_id: str
    message_id_synthetic: bool
    subject: str
    from_: Address | None
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    text: str = field(repr=False)
    html: str | None = field(repr=False)
    text_from_html: bool
    attachments: tuple[Attachment, ...]
    content_type: str
    charsets: tuple[BodyCharset, ...]
    defects: tuple[str, ...]
    raw_size: int

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), decoded; None when absent."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        """Every value of header `name`, in message order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]
