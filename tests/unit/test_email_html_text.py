from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from halo_supabase.email.html_text import html_to_text


def test_blocks_lists_and_breaks_become_lines() -> None:
    html = "<p>Hello&nbsp;there<br>second</p><ul><li>one</li><li>two</li></ul><div>end</div>"
    assert html_to_text(html) == "Hello there\nsecond\n\n- one\n- two\n\nend"


def test_blockquotes_are_quoted_so_quote_stripping_sees_them() -> None:
    text = html_to_text("<div>Thanks!</div><blockquote><p>old text</p></blockquote>")
    assert text.splitlines()[0] == "Thanks!"
    assert "> old text" in text.splitlines()


def test_scripts_styles_and_head_are_dropped() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script>ok</body>"
    )
    assert html_to_text(html) == "ok"


def test_preformatted_text_keeps_its_spacing() -> None:
    assert html_to_text("<pre>a\n   b</pre>") == "a\n   b"


def test_image_alt_text_is_kept() -> None:
    assert html_to_text('<p>see <img src="cid:x" alt="chart"></p>') == "see [chart]"


@given(st.text(max_size=500))
def test_never_raises_on_arbitrary_markup(html: str) -> None:
    assert isinstance(html_to_text(html), str)
