"""A plain-text rendering of HTML mail, for HTML-only messages and for quote stripping.

Deliberately small (stdlib `html.parser`): block elements become line breaks, list items get a
"- ", `<blockquote>` content is prefixed with "> " so that quotes.py treats it like any quoted
text, and scripts, styles and the head are dropped. It is a reading aid, not a layout engine.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BLOCK = {
    "address", "article", "aside", "div", "dl", "dt", "dd", "fieldset", "figure", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tr", "ul",
}  # fmt: skip
# Blocks that end with a blank line, as they read in a mail client.
_PARAGRAPHS = {"p", "pre", "table", "ul", "ol"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0

    def _flush(self, *, force: bool = False) -> None:
        """End the current line; empty lines only when forced (a `<br>`)."""
        text = "".join(self.current)
        self.current = []
        if not self.pre_depth:
            text = text.strip()
        if text or force:
            self.lines.append(("> " * self.quote_depth + text).rstrip())

    def _paragraph(self) -> None:
        """End the line and leave one blank line, as a paragraph or quote boundary does."""
        self._flush()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(("> " * self.quote_depth).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag == "br":
            self._flush(force=True)
        elif tag == "blockquote":
            self._paragraph()
            self.quote_depth += 1
        elif tag in _BLOCK:
            self._flush()
            if tag == "li":
                self.current.append("- ")
            elif tag == "pre":
                self.pre_depth += 1
        elif tag in {"td", "th"}:
            self.current.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<br/>` and `<img/>` arrive here; treat them as their open form (they have no content).
        if tag not in _SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self._flush()
            self.quote_depth = max(0, self.quote_depth - 1)
            self._paragraph()
        elif tag in _PARAGRAPHS:
            self._flush()
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            self._paragraph()
        elif tag in _BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            lines = data.split("\n")
            for line in lines[:-1]:
                self.current.append(line)
                self._flush(force=True)
            self.current.append(lines[-1])
        else:
            self.current.append(_SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """Render `html` as readable plain text; never raises on malformed markup."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):
        # html.parser raises on a few pathological inputs (e.g. broken marked sections); keep
        # what was collected so far rather than losing the body.
        pass
    collector._flush()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(collector.lines)).strip("\n")
