"""Trial statements and hints as HTML: the small Markdown subset the bundles use, rendered safely.

Everything from a bundle is escaped first; only the tags this module writes reach the page, so a
statement can never carry script, event handlers or raw HTML. Supported: ATX headings (shifted one level
down, the page owns <h1>), paragraphs, fenced code blocks, bullet and numbered lists (one level, with
continuation lines), block quotes, horizontal rules, pipe tables, and inline `code`, **bold**, *italic*
and [links](https://…) (http and https only).
"""

import re
from html import escape

from django.utils.safestring import SafeString, mark_safe

_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def without_title(text: str) -> str:
    """The statement without its leading `# Title` line: the page shows the title as its own heading."""
    lines = text.lstrip("\n").split("\n", 1)
    if lines and re.match(r"^#\s", lines[0]):
        return lines[1] if len(lines) > 1 else ""
    return text


def render_markdown(text: str) -> SafeString:
    lines = text.replace("\r\n", "\n").split("\n")
    html: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if fence := _FENCE.match(line):
            i = _code_block(lines, i, fence.group(1), fence.group(2), html)
        elif heading := _HEADING.match(line):
            level = min(len(heading.group(1)) + 1, 6)
            html.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            i += 1
        elif _RULE.match(line):
            html.append("<hr>")
            i += 1
        elif line.lstrip().startswith("|") and i + 1 < len(lines) and _TABLE_SEPARATOR.match(lines[i + 1]):
            i = _table(lines, i, html)
        elif _BULLET.match(line) or _NUMBERED.match(line):
            i = _list(lines, i, html)
        elif _QUOTE.match(line):
            quoted = []
            while i < len(lines) and (match := _QUOTE.match(lines[i])):
                quoted.append(match.group(1))
                i += 1
            html.append(f"<blockquote>{render_markdown(chr(10).join(quoted))}</blockquote>")
        else:
            paragraph = []
            while i < len(lines) and lines[i].strip() and not _starts_block(lines, i):
                paragraph.append(lines[i].strip())
                i += 1
            html.append(f"<p>{inline(' '.join(paragraph))}</p>")
    return mark_safe("\n".join(html))  # noqa: S308 — every piece above is built from escaped text


def _starts_block(lines: list[str], i: int) -> bool:
    line = lines[i]
    return bool(
        _FENCE.match(line) or _HEADING.match(line) or _BULLET.match(line) or _NUMBERED.match(line)
        or _QUOTE.match(line) or _RULE.match(line)
    )  # fmt: skip


def _code_block(lines: list[str], i: int, marker: str, language: str, html: list[str]) -> int:
    body = []
    i += 1
    while i < len(lines) and not lines[i].strip().startswith(marker):
        body.append(lines[i])
        i += 1
    css = f' class="language-{escape(language)}"' if language else ""
    html.append(f"<pre><code{css}>{escape(chr(10).join(body))}</code></pre>")
    return i + 1


def _cells(line: str) -> list[str]:
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", stripped)]


def _table(lines: list[str], i: int, html: list[str]) -> int:
    header = _cells(lines[i])
    i += 2
    rows = []
    while i < len(lines) and lines[i].lstrip().startswith("|"):
        rows.append(_cells(lines[i]))
        i += 1
    head = "".join(f"<th>{inline(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in row[: len(header)]) + "</tr>" for row in rows
    )
    html.append(
        f'<div class="table-scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )
    return i


def _list(lines: list[str], i: int, html: list[str]) -> int:
    numbered = bool(_NUMBERED.match(lines[i])) and not _BULLET.match(lines[i])
    pattern = _NUMBERED if numbered else _BULLET
    items: list[list[str]] = []
    while i < len(lines):
        line = lines[i]
        if match := pattern.match(line):
            items.append([match.group(1)])
        elif line.strip() and line[:1].isspace() and items:
            items[-1].append(line.strip())  # a continuation line (or a nested item, shown flat)
        elif not line.strip() and i + 1 < len(lines) and pattern.match(lines[i + 1]):
            pass  # a loose list: a blank line between items
        else:
            break
        i += 1
    tag = "ol" if numbered else "ul"
    body = "".join(f"<li>{inline(' '.join(item))}</li>" for item in items)
    html.append(f"<{tag}>{body}</{tag}>")
    return i


def inline(text: str) -> str:
    """Escaped text with code spans, bold, italic and http(s) links.

    Code spans are set aside as numbered placeholders first, so emphasis may wrap them and nothing
    inside them is ever read as markup.
    """
    spans: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        spans.append(f"<code>{escape(match.group(2).strip())}</code>")
        return f"\x00{len(spans) - 1}\x00"

    escaped = escape(_CODE_SPAN.sub(set_aside, text.replace("\x00", "")))
    escaped = _LINK.sub(r'<a href="\2" rel="noopener noreferrer nofollow">\1</a>', escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
    return re.sub("\x00(\\d+)\x00", lambda match: spans[int(match.group(1))], escaped)
