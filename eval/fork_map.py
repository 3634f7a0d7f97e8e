"""Independent pieces of work run side by side in forked child processes (the command lines' use
of the machine's cores).

Only for a process that runs no threads of its own, like `python -m eval.multisports`: a
fork copies the calling thread alone, so a lock held by another thread (torch's, OpenCV's pools)
stays held forever in the child. The library functions therefore default to one process.
"""

import os
import pickle
import signal
import sys

__all__ = ["fork_map", "usable_cpus", "ChildTraceback"]


class ChildTraceback(Exception):
    """The traceback of an exception raised in a child, attached as the `__cause__` of that
    exception when the parent re-raises it."""


def usable_cpus():
    """CPUs this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fork_map(function, items):
    """`[function(item) for item in items]`, the first item in this process and every other in a
    forked child at the same time. Results come back pickled; an exception raised in a child is
    re-raised here (its type and message kept, its traceback attached). Off Linux all items run
    here, one after another: Windows has no fork, and on macOS system libraries (Accelerate, which
    numpy may use) are not safe to use in a forked child."""
    items = list(items)
    if len(items) < 2 or not sys.platform.startswith("linux"):
        return [function(item) for item in items]
    children = []
    try:
        for item in items[1:]:
            children.append(_start(function, item, [reader for _, reader in children]))
        results = [function(items[0])]
        while children:
            results.append(_collect(*children.pop(0)))
        return results
    finally:
        for pid, reader in children:  # left only when this process failed first
            os.close(reader)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _start(function, item, siblings):
    """Forks a child that computes `function(item)` and writes the pickled outcome to a pipe;
    returns (child pid, read end). `siblings`: read ends of earlier children, closed in this one
    so that only the parent holds them."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writer)
        return pid, reader
    for inherited in (reader, *siblings):
        os.close(inherited)
    try:
        try:
            payload = pickle.dumps((True, function(item)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as error:  # noqa: BLE001 - every outcome goes to the parent, which re-raises it
            payload = _pickled_error(error)
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)  # no atexit handlers, no flushing of the parent's copied stdio buffers


def _pickled_error(error):
    import traceback  # only on this path: it is not on the command lines' start-up path

    text = traceback.format_exc()
    try:
        return pickle.dumps((False, error, text))
    except Exception:  # noqa: BLE001 - whatever stops the pickling, the error travels as its text
        return pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}"), text))


def _collect(pid, reader):
    """The result of the child `pid`, read from `reader`; re-raises the child's exception."""
    try:
        with os.fdopen(reader, "rb") as pipe:
            payload = pipe.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if not payload:
        raise RuntimeError(f"a worker process ended without a result (wait status {status})")
    outcome = pickle.loads(payload)  # written by our own child above
    if outcome[0]:
        return outcome[1]
    _, error, text = outcome
    raise error from ChildTraceback(text)
