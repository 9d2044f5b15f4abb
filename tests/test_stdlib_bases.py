"""Standard-library base classes are known by what they give their instances, so a
project class deriving from one can still have a field that does not exist yet."""
from __future__ import annotations

from nilcheck.linter.stdlib_bases import stdlib_attributes


def test_c_and_python_bases_list_class_and_instance_attributes():
    raw = stdlib_attributes("io.RawIOBase")
    assert raw is not None and "read" in raw and "closed" in raw and "buffer_size" not in raw
    thread = stdlib_attributes("threading.Thread")
    # Python classes: what their methods assign on self counts too.
    assert thread is not None and {"_target", "name", "daemon"} <= thread


def test_unknown_or_unsafe_bases_stay_unknown():
    assert stdlib_attributes("somelib.Base") is None  # not the standard library
    assert stdlib_attributes("antigravity.Thing") is None  # imported, it opens a browser
    assert stdlib_attributes("threading.current_thread") is None  # not a class
    assert stdlib_attributes("io.NoSuchClass") is None


def test_a_project_module_shadowing_a_standard_one_is_never_imported(tmp_path, monkeypatch):
    # The scanned project's own `sched.py` in the working directory would be found
    # first on sys.path: nilcheck must not import (run) it.
    import sys as _sys

    (tmp_path / "sched.py").write_text("raise SystemExit('scanned code ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(_sys.modules, "sched", raising=False)
    stdlib_attributes.cache_clear()
    try:
        assert stdlib_attributes("sched.scheduler") is None
    finally:
        stdlib_attributes.cache_clear()
