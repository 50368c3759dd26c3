"""Rendering without a database (huashen.web.rendering): terminal text and code diffs."""

from huashen.web.rendering import code_diff, terminal_text


def test_terminal_text_keeps_what_a_terminal_shows() -> None:
    assert terminal_text("\x1b[31mred\x1b[0m\nepoch 1/3\repoch 3/3\r\n") == "red\nepoch 3/3\n"


def test_a_code_diff_gives_unified_lines_and_side_by_side_rows() -> None:
    unified, rows = code_diff("a\nb\nc\n", "a\nB\nc\nd\n", left_name="#1", right_name="#2")
    kinds = [line.kind for line in unified]
    assert kinds[:3] == ["file", "file", "hunk"] and "removed" in kinds and "added" in kinds
    assert [(row.kind, row.left, row.right) for row in rows] == [
        ("equal", "a", "a"), ("replace", "b", "B"), ("equal", "c", "c"), ("insert", "", "d"),
    ]  # fmt: skip
    assert rows[-1].left_number is None and rows[-1].right_number == 4
