"""HTML to text, normalisation and the dedup text."""

from __future__ import annotations

import pyarrow as pa

from spark_jobs.transforms.text import dedup_key_text, html_to_text, normalize

FAQ_PAGE = """<html><head><title>Shipping</title><style>p {color: red}</style></head>
<body><nav><a href="/">Home</a> | <a href="/faq">FAQ</a></nav>
<h2>How long does delivery take?</h2>
<p>Standard delivery takes 3&ndash;5 days.<br>Express: next day &amp; tracked.</p>
<ul><li>EU &gt; 5 days</li><li>US</li></ul>
<script type="text/javascript">var tracking = "<p>not text</p>";</script>
<!-- hidden comment -->
<footer>&copy; 2026 Shop Inc.</footer></body></html>"""


def test_html_to_text_drops_noise_elements_and_keeps_text_in_lines():
    (text,) = html_to_text(pa.array([FAQ_PAGE])).to_pylist()
    assert text.splitlines() == [
        "How long does delivery take?",
        "Standard delivery takes 3\u20135 days.",
        "Express: next day & tracked.",
        "EU > 5 days",
        "US",
    ]
    for noise in ("Home", "color", "tracking", "hidden comment", "2026 Shop", "Shipping"):
        assert noise not in text


def test_html_to_text_leaves_plain_rows_untouched_and_keeps_nulls():
    rows = ["a < b and c > d", "no markup here", None, "Tom &amp; Jerry", "<b>bold</b> move"]
    assert html_to_text(pa.array(rows)).to_pylist() == [
        "a < b and c > d",
        "no markup here",
        None,
        "Tom & Jerry",
        "bold move",
    ]


def test_html_to_text_handles_unclosed_script_and_uppercase_tags():
    rows = ["<P>First</P><DIV>Second</DIV><SCRIPT>alert(1)"]
    assert html_to_text(pa.array(rows)).to_pylist() == ["First\nSecond"]


def test_normalize_applies_nfkc_and_collapses_every_kind_of_whitespace():
    rows = [
        "\ufb01le \uff26\uff55\uff4c\uff4c\u00a0width",  # ligature, full-width letters, no-break space
        "  tabs\tand\nnew\r\nlines  ",
        "em\u2003space and\u3000ideographic",
        "already clean",
        None,
        "",
    ]
    assert normalize(pa.array(rows)).to_pylist() == [
        "file Full width",
        "tabs and new lines",
        "em space and ideographic",
        "already clean",
        None,
        "",
    ]


def test_normalize_accepts_chunked_and_large_string_input():
    chunked = pa.chunked_array([pa.array(["a  b"], pa.large_string()), pa.array([" c "], pa.large_string())])
    result = normalize(chunked)
    assert result.type == pa.string()
    assert result.to_pylist() == ["a b", "c"]


def test_dedup_key_text_is_equal_for_texts_that_differ_only_in_case_width_and_spacing():
    keys = dedup_key_text(pa.array(["Hello  WORLD\n", "hello world", "\uff28ello World", "Grüße ÄÖÜ", None]))
    assert keys.to_pylist() == ["hello world", "hello world", "hello world", "grüße äöü", None]
