"""Output for people: colour only on a terminal and never with NO_COLOR; a progress line only on a TTY."""

import os
import sys
from typing import TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "dim": "2", "bold": "1"}


class Terminal:
    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.is_tty = self.stream.isatty()
        if colour is None:
            colour = self.is_tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        self.colour = colour
        self._progress_shown = False

    def paint(self, text: str, style: str) -> str:
        if not self.colour or not text:
            return text
        return f"\033[{_CODES[style]}m{text}\033[0m"

    def line(self, text: str = "", style: str | None = None) -> None:
        self.clear_progress()
        self.stream.write((self.paint(text, style) if style else text) + "\n")
        self.stream.flush()

    def write(self, text: str, style: str | None = None) -> None:
        """Raw program output (no newline added): a job's stdout arrives in arbitrary pieces."""
        self.clear_progress()
        self.stream.write(self.paint(text, style) if style else text)
        self.stream.flush()

    def progress(self, text: str) -> None:
        """One line rewritten in place on a terminal; elsewhere nothing (logs must not fill with it)."""
        if not self.is_tty:
            return
        self.stream.write("\r\033[2K" + self.paint(text, "dim"))
        self.stream.flush()
        self._progress_shown = True

    def clear_progress(self) -> None:
        if self._progress_shown:
            self.stream.write("\r\033[2K")
            self._progress_shown = False


def error(text: str) -> None:
    colour = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    sys.stderr.write((f"\033[31m{text}\033[0m" if colour else text) + "\n")
