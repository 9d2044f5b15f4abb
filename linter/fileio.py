"""Small file helpers shared by the CLI and the baseline: atomic writes and tolerant
reads of source text."""
from __future__ import annotations

import os
import tempfile
import tokenize
from pathlib import Path
from typing import List


def write_text_atomic(path: Path, text: str) -> None:
    """Write text (UTF-8, newlines as given) to path; see write_bytes_atomic."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write data to path so readers see the old file or the new one, never half, and
    keep the file's mode (a new file gets the usual default).

    The temporary file lives in the same directory, because os.replace is atomic only
    within one filesystem. Raises OSError.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; give the file the mode it had, or the usual default.
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def read_source_lines(path: Path) -> List[str]:
    """The lines of a Python file, decoded per PEP 263; [] when it cannot be read."""
    try:
        with tokenize.open(path) as handle:
            return handle.read().splitlines()
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
