"""The statement renderer: the Markdown the bundles use, and nothing from a bundle reaching the page raw."""

from pathlib import Path

import pytest
from django.conf import settings

from huashen.practice.markdown import render_markdown, without_title


def test_the_statement_title_line_is_left_to_the_page() -> None:
    assert without_title("# Title\n\nBody\n## Part") == "\nBody\n## Part"
    assert without_title("Body first\n# Later") == "Body first\n# Later"
    assert without_title("## Not a title") == "## Not a title"


def test_headings_shift_one_level_down() -> None:
    assert render_markdown("# Top\n## Sub") == "<h2>Top</h2>\n<h3>Sub</h3>"


def test_paragraphs_lists_and_inline_markup() -> None:
    html = render_markdown(
        "Some *em* and **strong** with `code`\nwrapped.\n\n- one\n  more\n- two\n\n1. first\n2. second"
    )
    assert html == (
        "<p>Some <em>em</em> and <strong>strong</strong> with <code>code</code> wrapped.</p>\n"
        "<ul><li>one more</li><li>two</li></ul>\n"
        "<ol><li>first</li><li>second</li></ol>"
    )


def test_emphasis_may_wrap_code_and_code_is_never_markup() -> None:
    assert render_markdown('**never `"cuda"`** and `**x**`') == (
        "<p><strong>never <code>&quot;cuda&quot;</code></strong> and <code>**x**</code></p>"
    )


def test_tables_and_fenced_code() -> None:
    html = render_markdown("| a | b |\n|---|:-:|\n| `x` | ✓ |\n\n```python\nif a < b:\n    pass\n```")
    assert "<thead><tr><th>a</th><th>b</th></tr></thead>" in html
    assert "<tbody><tr><td><code>x</code></td><td>✓</td></tr></tbody>" in html
    assert '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>' in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "# <b>heading</b>",
        "| <i>x</i> |\n|---|\n| <svg onload=alert(1)> |",
        "- <a href='javascript:x'>item</a>",
        "> <iframe src=x>",
    ],
)
def test_html_and_script_urls_never_reach_the_page(source: str) -> None:
    html = render_markdown(source)
    for dangerous in (
        "<script",
        "<img",
        "<svg",
        "<iframe",
        "<i>",
        "<b>",
        'href="javascript',
        "href='javascript",
    ):
        assert dangerous not in html
    assert "&lt;" in html or "javascript:alert" in html


def test_only_http_links_become_links() -> None:
    assert render_markdown("[docs](https://pytorch.org/docs?a=1&b=2)") == (
        '<p><a href="https://pytorch.org/docs?a=1&amp;b=2" rel="noopener noreferrer nofollow">docs</a></p>'
    )


def test_every_statement_and_hint_in_the_curriculum_renders() -> None:
    root = Path(settings.EXERCISES_DIR)
    files = sorted(root.glob("*/*/statement.*.md")) + sorted(root.glob("*/*/hints.*.md"))
    assert files, "no bundles found"
    for path in files:
        html = render_markdown(path.read_text(encoding="utf-8"))
        assert html.startswith("<"), path
        assert "<script" not in html
        assert "```" not in html, f"{path}: a code fence was left unrendered"
