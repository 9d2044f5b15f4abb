"""A one-line progress counter on stderr (`[ 123/885] parsing`) for long scans.

Shown only to a person watching: stderr is a terminal, CI is not set, and --quiet was
not given. It appears once a scan has run for a moment (a warm or small scan stays
silent), redraws at most ten times a second, and erases itself when parsing is done,
so the report that follows starts on a clean line.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable, Optional, TextIO

import click

# A scan that finishes sooner than this never shows the counter.
_DELAY_SECONDS = 0.5
_REDRAW_SECONDS = 0.1


class ProgressLine:
    """Callable as progress(done, total), the engine's progress callback."""

    def __init__(self, label: str = "parsing", stream: Optional[TextIO] = None,
                 clock: Callable[[], float] = time.monotonic,
                 delay: float = _DELAY_SECONDS) -> None:
        self._label = label
        self._stream = stream
        self._clock = clock
        self._started = clock()
        self._delay = delay
        self._drawn_at: Optional[float] = None
        self._width = 0
        self._broken = False

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if done >= total:
            self._erase()
            return
        if now - self._started < self._delay:
            return
        if self._drawn_at is not None and now - self._drawn_at < _REDRAW_SECONDS:
            return
        digits = len(str(total))
        text = f"[{done:>{digits}}/{total}] {self._label}"
        self._write("\r" + text.ljust(self._width))
        self._width = len(text)
        self._drawn_at = now

    def _erase(self) -> None:
        if self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    def _write(self, text: str) -> None:
        if self._broken:
            return
        try:
            click.echo(text, file=self._stream or sys.stderr, nl=False)  # echo flushes
        except (OSError, ValueError):  # stderr closed or gone: the scan goes on silently
            self._broken = True


def progress_for_terminal(quiet: bool = False,
                          stream: Optional[TextIO] = None) -> Optional[ProgressLine]:
    """A ProgressLine when a person is watching stderr, else None (no output at all)."""
    stream = stream or sys.stderr
    if quiet or os.environ.get("CI") or not _is_tty(stream):
        return None
    return ProgressLine(stream=stream)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
