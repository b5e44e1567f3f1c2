"""Split a reply's text into what the person wrote, the quoted history and the signature.

For display only: the worker always stores the full text too. The rules, applied to the text
top-down (the first match wins, everything from there on is the quote):

1. An attribution line ("On <date>, <name> wrote:", and its forms in de, fr, es, it, nl, pt, sv,
   ja; Gmail may wrap it over up to three lines).
2. An "-----Original Message-----" separator, in the same languages.
3. An Outlook header block: a "From:" line followed within four lines by a "Sent:"/"Date:" line
   (localised; "*From:*" as Outlook renders bold in plain text); a "____" rule just above it
   belongs to the quote.
4. A trailing block of ">" lines (with blank lines) running to the end of the text.

Then, in what is left, the signature starts at the last RFC 3676 delimiter ("-- ", also "--"
since many clients trim the space), or at a mobile footer ("Sent from my iPhone" and its
translations) among the last three non-empty lines. If nothing would remain, the full text is
shown: an empty reply is worse than an unstripped one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["StrippedText", "strip_quotes"]

_WROTE = (
    r"(wrote|schrieb|a écrit|escribió|escribio|ha scritto|schreef|escreveu|skrev|kirjoitti"
    r"|napisał|написал\(а\)|написал|пишет|のメール|のメッセージ)"  # noqa: RUF001 (Cyrillic is meant)
)
# Latin-script clients end the line with the verb and a colon ("... wrote:") or put the name
# between the verb and the colon ("Am ... schrieb Jane <j@x.de>:"). The line must carry a date (a
# digit) or an address, which keeps "As John wrote:" in prose safe.
_ATTRIBUTION_LINE = re.compile(
    rf"^(?=.*(\d|@)).{{0,300}}{_WROTE}\s*:\s*$"
    rf"|^(?=.*\d)(on|am|le|el|il|op|em|den|på|w dniu)\b.{{0,300}}\b{_WROTE}\b.{{0,200}}:\s*$"
    # Gmail ja: "2024年6月3日(月) 10:00 山田太郎 <taro@example.jp>:"
    r"|^\d{4}年\d{1,2}月\d{1,2}日.{0,200}:\s*$",
    re.IGNORECASE,
)
# Where a wrapped attribution can begin: a lead-in word or a date. Without this, a signature line
# just above an attribution would be glued to it and cut with the quote.
_ATTRIBUTION_START = re.compile(r"^(on|am|le|el|il|op|em|den|på|w dniu)\b|^\d", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine"
    r"|mensaje original|messaggio originale|oorspronkelijk bericht|origineel bericht"
    r"|mensagem original|ursprungligt meddelande|originalmeddelande|元のメッセージ)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(
    r"^\s*\*?(from|von|de|da|van|från|fra|差出人|送信者)\s*:\s*\*?\s*\S", re.IGNORECASE
)
_SENT_LINE = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoyé|enviado el|enviado|enviada em|enviada|inviato"
    r"|data|verzonden|skickat|送信日時|日付)\s*:", re.IGNORECASE,
)  # fmt: skip
_RULE = re.compile(r"^\s*_{8,}\s*$")
_SIG_DELIMITER = re.compile(r"^--\s?$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(sent from my \w+|sent from (outlook|mail|yahoo mail)\b.*|get outlook for \w+.*"
    r"|sent from my (iphone|ipad|android|galaxy|samsung).*|von meinem \w+ gesendet"
    r"|gesendet von meinem \w+|envoyé de mon \w+|envoyé depuis mon \w+|enviado desde mi \w+"
    r"|inviato da(l mio)? \w+|verzonden (vanaf|met) mijn \w+|verstuurd vanaf mijn \w+"
    r"|enviado do meu \w+|skickat från min \w+|iphoneから送信|\w+から送信)\s*\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class StrippedText:
    """`text` is what to show; `quote` and `signature` are what was cut, in order."""

    text: str
    quote: str
    signature: str


def _attribution_at(lines: list[str], i: int) -> bool:
    if _ATTRIBUTION_LINE.match(lines[i].strip()):
        return True
    if not _ATTRIBUTION_START.match(lines[i].strip()):
        return False
    for span in (2, 3):
        window = [line.strip() for line in lines[i : i + span]]
        if len(window) < span or any(not line or line.startswith(">") for line in window):
            return False
        if _ATTRIBUTION_LINE.match(" ".join(window)):
            return True
    return False


def _outlook_block_at(lines: list[str], i: int) -> bool:
    if not _FROM_LINE.match(lines[i]):
        return False
    return any(_SENT_LINE.match(line) for line in lines[i + 1 : i + 5])


def _trailing_quote_start(lines: list[str]) -> int | None:
    start = None
    for i in range(len(lines) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped.startswith(">"):
            start = i
        elif stripped:
            break
    return start


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith(">"):
            continue
        if _attribution_at(lines, i) or _ORIGINAL.match(line):
            return i
        if _outlook_block_at(lines, i):
            above = i - 1
            while above >= 0 and not lines[above].strip():
                above -= 1
            return above if above >= 0 and _RULE.match(lines[above]) else i
    return _trailing_quote_start(lines)


def _signature_start(lines: list[str]) -> int | None:
    delimiters = [i for i, line in enumerate(lines) if _SIG_DELIMITER.match(line)]
    if delimiters:
        return delimiters[-1]
    non_empty = [i for i, line in enumerate(lines) if line.strip()]
    for i in non_empty[-3:]:
        if _MOBILE_FOOTER.match(lines[i]):
            return i
    return None


def strip_quotes(text: str) -> StrippedText:
    """Split `text` (a plain-text body) into the new content, the quote and the signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _quote_start(lines)
    visible, quote = (lines, []) if cut is None else (lines[:cut], lines[cut:])
    sig_at = _signature_start(visible)
    signature: list[str] = []
    if sig_at is not None:
        visible, signature = visible[:sig_at], visible[sig_at:]
    shown = "\n".join(visible).strip()
    if not shown:
        return StrippedText(text=text.strip(), quote="", signature="")
    return StrippedText(
        text=shown,
        quote="\n".join(quote).strip("\n"),
        signature="\n".join(signature).strip("\n"),
    )
