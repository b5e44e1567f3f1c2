from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from halo_supabase.email.charsets import decode_bytes, normalise_charset


def test_declared_subsets_decode_with_their_supersets() -> None:
    assert decode_bytes(b"\x80 5", "iso-8859-1") == ("€ 5", "cp1252", False)
    assert decode_bytes("①".encode("cp932"), "Shift_JIS") == ("①", "cp932", False)
    assert decode_bytes("镕".encode("gbk"), "gb2312")[0] == "镕"


def test_invalid_bytes_for_the_declared_charset_fall_back() -> None:
    assert decode_bytes("é".encode(), "us-ascii") == ("é", "utf-8", True)
    assert decode_bytes(b"caf\xe9", "utf-8") == ("café", "cp1252", True)


def test_unknown_or_transform_labels_are_treated_as_undeclared_but_reported() -> None:
    assert normalise_charset("base64") is None
    assert normalise_charset("x-klingon") is None
    assert normalise_charset("utf\x008") is None
    assert decode_bytes(b"ok", "base64") == ("ok", "utf-8", True)
    assert decode_bytes(b"ok", "unknown-8bit") == ("ok", "utf-8", False)


def test_undeclared_8bit_is_a_guess() -> None:
    assert decode_bytes("ü".encode(), None) == ("ü", "utf-8", False)
    assert decode_bytes(b"\xfc", None) == ("ü", "cp1252", True)


@given(
    st.binary(max_size=200),
    st.one_of(
        st.none(),
        st.sampled_from(["utf-8", "iso-2022-jp", "koi8-r", "utf-7", "gb2312", "zlib", "x", ""]),
        st.text(max_size=20),
    ),
)
def test_decoding_never_raises(data: bytes, label: str | None) -> None:
    text, used, _ = decode_bytes(data, label)
    assert isinstance(text, str) and used
