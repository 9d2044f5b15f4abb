"""Running deeply recursive work without overflowing the C stack."""
from __future__ import annotations

import sys
import threading
from typing import Callable, List, Optional, Tuple, TypeVar

T = TypeVar("T")

# libcst's code generator and our converter recurse per nesting level (elif chains,
# nested calls); the parse thread's stack has room for far more than CPython's 1000.
RECURSION_LIMIT = 20000
# Virtual size of that thread's stack; pages are committed only when touched.
STACK_BYTES = 256 * 1024 * 1024

# Set in a thread that call_on_large_stack started: nested calls run in place. A thread
# per call cost 7.7% of the per-file stage when every file got its own (thread start,
# stack mapping, two handovers of the GIL), so callers wrap whole batches in one call.
_current = threading.local()


def call_on_large_stack(work: Callable[[], T], recursion_limit: int = RECURSION_LIMIT) -> T:
    """work() run in a fresh thread with a STACK_BYTES stack and at least
    recursion_limit, returning its value or raising its exception here. Deeply nested
    input (long elif chains, deep class hierarchies) then meets a RecursionError or
    succeeds, never a C stack overflow that kills the process. When the platform refuses
    such a thread, work() runs on this one, with the recursion limit left as it is.
    Called from within such a thread, work() runs in place (its stack is already large)."""
    if getattr(_current, "deep", False):
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, recursion_limit))
        try:
            return work()
        finally:
            sys.setrecursionlimit(old_limit)
    outcome: List[Tuple[bool, object]] = []

    def run(limit: int) -> None:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, limit))
        _current.deep = limit > 0
        try:
            outcome.append((True, work()))
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            outcome.append((False, error))
        finally:
            _current.deep = False
            sys.setrecursionlimit(old_limit)

    thread: Optional[threading.Thread] = None
    try:
        previous = threading.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):
        previous = None
    if previous is not None:
        try:
            thread = threading.Thread(target=run, args=(recursion_limit,),
                                      name="nilcheck-deep-stack", daemon=True)
            thread.start()
        except RuntimeError:  # cannot start a thread (resource limits)
            thread = None
        finally:
            threading.stack_size(previous)
    if thread is None:
        run(0)
    else:
        thread.join()
    succeeded, value = outcome[0]
    if not succeeded:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]
