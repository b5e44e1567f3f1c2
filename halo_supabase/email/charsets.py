"""Turn body and header bytes into text whatever charset the sender declared (or failed to).

Rules, in order (the TypeScript port must follow the same ones):

1. A declared charset is mapped to the superset real mail means by it: senders label Windows-1252
   text as ISO-8859-1, GBK as GB2312, CP932 as Shift_JIS; decoding with the superset never loses
   what the subset would have decoded (the WHATWG Encoding Standard does the same).
2. If the declared charset is unknown, or the bytes are invalid in it, try UTF-8 (the most common
   mislabel: 8-bit UTF-8 text sent as "us-ascii" decodes as UTF-8, not as mojibake), then Windows-1252 with replacement characters: every byte sequence decodes, and the
   result is recorded as a fallback.
3. No declared charset: UTF-8 when valid, else Windows-1252 (the RFC default, US-ASCII, is a subset
   of both).
"""

from __future__ import annotations

import codecs

__all__ = ["decode_bytes", "normalise_charset"]

# Declared name -> codec actually used. Keys are lower-case with "_" for "-".
_SUPERSETS = {
    "iso_8859_1": "cp1252",
    "latin1": "cp1252",
    "latin_1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x_gbk": "gb18030",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x_sjis": "cp932",
    "windows_31j": "cp932",
    "ks_c_5601_1987": "cp949",
    "euc_kr": "cp949",
    "iso_2022_jp": "iso2022_jp_ext",
    "big5": "big5hkscs",
    "tis_620": "cp874",
    "iso_8859_11": "cp874",
    "utf8": "utf-8",
    "unicode_1_1_utf_7": "utf-7",
}
# Labels that mean "no idea": decode as if nothing were declared.
_MEANINGLESS = {"unknown_8bit", "x_unknown", "unknown", "default", "8bit", "binary", ""}


def _key(declared: str) -> str:
    return declared.strip().strip('"').lower().replace("-", "_")


def normalise_charset(declared: str | None) -> str | None:
    """The codec name we decode a declared charset with; None if nothing usable was declared."""
    if declared is None:
        return None
    key = _key(declared)
    if key in _MEANINGLESS:
        return None
    name = _SUPERSETS.get(key, key)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it
        return None
    # codecs also knows bytes-to-bytes transforms ("base64", "zlib"); a header naming one is junk.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _declares_something(declared: str | None) -> bool:
    return declared is not None and _key(declared) not in _MEANINGLESS


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str, bool]:
    """Decode `data`: returns (text, codec used, whether we departed from what was declared).

    Decoding undeclared 8-bit bytes as Windows-1252 also counts as a fallback: it is a guess.
    """
    codec = normalise_charset(declared)
    if codec is not None:
        try:
            return data.decode(codec), codec, False
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", _declares_something(declared)
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252", True
