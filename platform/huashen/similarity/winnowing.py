"""Fingerprints of Python source by winnowing over normalised tokens (Schleimer, Wilkerson and Aiken,
"Winnowing: local algorithms for document fingerprinting", SIGMOD 2003) — copydetect's method, with
hashes that mean the same in every process.

The source is read by Pygments' Python lexer (never parsed or run) and written back as a compact string
in which every name is `V`, every function name `F`, every class name `O`, every decorator `D` and every string `S`, with
comments and whitespace dropped: renaming, re-commenting and re-indenting change nothing. Every run of
`K` characters of that string is hashed (BLAKE2b, 8 bytes: Python's own `hash()` is salted per process,
so fingerprints stored by one process could never be compared by another), and robust winnowing keeps
the smallest hash of each window of `WINDOW` consecutive ones: any match of at least
`K + WINDOW - 1` characters shares at least one kept hash. Hashes found in the boilerplate (the trial's
starter code and the code blocks of its statement and hints) are dropped.

copydetect 0.5.0 itself was measured and left out: it hashes k-grams with the builtin `hash()` (a
fingerprint computed in one process matches nothing computed in another, so nothing can be stored or
compared incrementally), and importing it imports matplotlib.pyplot, tqdm and jinja2 (0.4 s).
"""

import hashlib
import itertools
import re
from dataclasses import dataclass

from pygments import token
from pygments.lexers.python import PythonLexer

K = 25
WINDOW = 6
# Below this many fingerprints a file is mostly boilerplate or tiny: any score would be noise.
MIN_FINGERPRINTS = 8
# The pages show pairs from this score by default; independently written solutions stay below it.
DEFAULT_THRESHOLD = 0.5
ALGORITHM = 1  # bump when K, WINDOW or the normalisation change: stored fingerprints are then recomputed

# `self`, `cls` and decorators (`@app.get` is one token) are names a student can rename too.
_NAMES = {token.Name, token.Name.Variable, token.Name.Attribute, token.Name.Other, token.Name.Builtin.Pseudo}
_FENCE = re.compile(r"^```[^\n`]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Normalised:
    """The compact token string and, for each of its characters, the span of source it stands for."""

    text: str
    starts: list[int]
    ends: list[int]
    # Where each definition or top-level statement begins in `text`: k-grams never cross one, so
    # reordering functions, methods or statements changes no fingerprint.
    breaks: list[int]


@dataclass(frozen=True)
class Fingerprint:
    hashes: frozenset[int]
    # Each kept hash with the start of its k-gram in the normalised text, for highlighting.
    positions: tuple[tuple[int, int], ...]
    normalised: Normalised


def normalise(code: str) -> Normalised:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    breaks: list[int] = [0]
    depth = 0
    lexer = PythonLexer(stripnl=False, ensurenl=False, tabsize=0)
    previous_string = False
    for start, kind, value in lexer.get_tokens_unprocessed(code):
        end = start + len(value)
        if kind in token.Comment or kind in token.Text or not value.strip():
            continue
        # A statement starts on a new line outside brackets; a definition wherever it stands.
        starts_statement = depth == 0 and (start == 0 or code[start - 1] == "\n")
        if kind in token.Operator or kind in token.Punctuation:
            depth = max(0, depth + sum(value.count(c) for c in "([{") - sum(value.count(c) for c in ")]}"))
        if (
            starts_statement
            or (kind in token.Keyword and value in ("def", "class"))
            or kind in token.Name.Decorator
        ) and breaks[-1] != len(chars):
            breaks.append(len(chars))
        if kind in token.Literal.String:
            # One `S` for a whole string, however the lexer splits it (prefix, quotes, escapes).
            if previous_string:
                ends[-1] = end
                continue
            previous_string = True
            chars.append("S")
            starts.append(start)
            ends.append(end)
            continue
        previous_string = False
        if kind in _NAMES:
            symbol = "V"
        elif kind in token.Name.Decorator:
            symbol = "D"
        elif kind in token.Name.Function:
            symbol = "F"
        elif kind in token.Name.Class:
            symbol = "O"
        else:
            # Kept as written (keywords, operators, numbers): each character stands for its whole token,
            # so a highlighted region starts and ends on token boundaries.
            for char in value:
                chars.append(char)
                starts.append(start)
                ends.append(end)
            continue
        chars.append(symbol)
        starts.append(start)
        ends.append(end)
    return _without_trailing_commas(Normalised("".join(chars), starts, ends, breaks))


def _without_trailing_commas(normalised: Normalised) -> Normalised:
    """A formatter adds or drops the comma before a closing bracket: it is not evidence either way."""
    text = normalised.text
    drop = {i for i in range(len(text) - 1) if text[i] == "," and text[i + 1] in ")]}"}
    if not drop:
        return normalised
    keep = [i for i in range(len(text)) if i not in drop]
    renumber = {old: new for new, old in enumerate(keep)}
    breaks = sorted({renumber.get(b, len(keep)) for b in normalised.breaks if b < len(text)} | {0})
    return Normalised(
        "".join(text[i] for i in keep),
        [normalised.starts[i] for i in keep],
        [normalised.ends[i] for i in keep],
        [b for b in breaks if b < len(keep)] or [0],
    )


def _kgram_hashes(normalised: Normalised) -> list[tuple[int, int]]:
    """(hash, start) of every k-gram that lies within one segment; segments shorter than K give none."""
    text = normalised.text
    bounds = [*normalised.breaks, len(text)]
    kgrams: list[tuple[int, int]] = []
    for begin, end in itertools.pairwise(bounds):
        kgrams.extend((_hash(text[i : i + K].encode()), i) for i in range(begin, end - K + 1))
    return kgrams


def _hash(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") >> 1


def _winnow(kgrams: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Robust winnowing: the rightmost smallest hash of each window, each selection recorded once."""
    if not kgrams:
        return []
    selected: list[tuple[int, int]] = []
    last = -1
    for left in range(max(len(kgrams) - WINDOW, 0) + 1):
        window_min = left
        for i in range(left + 1, min(left + WINDOW, len(kgrams))):
            if kgrams[i][0] <= kgrams[window_min][0]:
                window_min = i
        if window_min != last:
            selected.append(kgrams[window_min])
            last = window_min
    return selected


def boilerplate_code(*, starter: str, texts: list[str]) -> list[str]:
    """The starter and every fenced code block of the given Markdown texts (statements, hints)."""
    blocks = [starter]
    for text in texts:
        blocks.extend(match.group(1) for match in _FENCE.finditer(text or ""))
    return blocks


def boilerplate_hashes(blocks: list[str]) -> frozenset[int]:
    """Every k-gram hash of the blocks, not only the winnowed ones: a student's window may pick another."""
    hashes: set[int] = set()
    for block in blocks:
        hashes.update(h for h, _ in _kgram_hashes(normalise(block)))
    return frozenset(hashes)


def fingerprint(code: str, *, boilerplate: frozenset[int] = frozenset()) -> Fingerprint:
    normalised = normalise(code)
    kept = [(h, i) for h, i in _winnow(_kgram_hashes(normalised)) if h not in boilerplate]
    return Fingerprint(frozenset(h for h, _ in kept), tuple(kept), normalised)


def similarity(first: frozenset[int] | set[int], second: frozenset[int] | set[int]) -> tuple[float, float]:
    """The share of each side's fingerprints found in the other (0 for a side with too few)."""
    if len(first) < MIN_FINGERPRINTS or len(second) < MIN_FINGERPRINTS:
        return 0.0, 0.0
    shared = len(first & second)
    return shared / len(first), shared / len(second)


def matching_spans(mine: Fingerprint, theirs: frozenset[int]) -> list[tuple[int, int]]:
    """Source spans (start, end) of `mine` covered by k-grams whose hash `theirs` holds, merged."""
    spans: list[tuple[int, int]] = []
    normalised = mine.normalised
    for h, index in sorted(mine.positions, key=lambda item: item[1]):
        if h not in theirs:
            continue
        start = normalised.starts[index]
        end = normalised.ends[min(index + K, len(normalised.ends)) - 1]
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans
