"""Independent pieces of work run side by side in forked child processes (the command lines' use
of the machine's cores).

Only for a process that runs no threads of its own, like `python -m eval.multisports`: a
fork copies the calling thread alone, so a lock held by another thread (torch's, OpenCV's pools)
stays held forever in the child. The library functions therefore default to one process.
"""

import mmap
import os
import pickle
import signal
import struct
import sys
from itertools import accumulate

__all__ = ["fork_map", "usable_cpus", "ChildTraceback"]

_LENGTH = struct.Struct("<Q")
_ALIGNMENT = 64  # bytes: a cache line, more than any numpy dtype needs


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
            children.append(_start(function, item, [result for _, result in children]))
        results = [function(items[0])]
        while children:
            results.append(_collect(*children.pop(0)))
        return results
    finally:
        for pid, result in children:  # left only when this process failed first
            os.close(result)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _start(function, item, siblings):
    """Forks a child that computes `function(item)` and writes the pickled outcome to an anonymous
    in-memory file; returns (child pid, that file's descriptor). A file rather than a pipe: the
    child writes megabytes without waiting for this process to read them, chunk by chunk.
    `siblings`: result files of earlier children, closed in this one."""
    result = os.memfd_create("fork_map-result")
    pid = os.fork()
    if pid:
        return pid, result
    for inherited in siblings:
        os.close(inherited)
    try:
        try:
            _dump((True, function(item)), result)
        except BaseException as error:  # noqa: BLE001 - every outcome goes to the parent, which re-raises it
            _dump(_error_outcome(error), result)
    finally:
        os._exit(0)  # no atexit handlers, no flushing of the parent's copied stdio buffers


def _dump(outcome, result):
    """Writes `outcome` as the whole content of the file `result`: its pickle, with the large
    contiguous buffers (numpy arrays' data) out of band, each at an aligned offset after it, so
    that `_load` maps them rather than copies them. Layout: header length (8 bytes), header (the
    pickle and each buffer's (offset, size) from the data start), the buffers."""
    buffers = []
    body = pickle.dumps(outcome, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    offsets = list(accumulate((_aligned(view.nbytes) for view in views), initial=0))
    header = pickle.dumps((body, [(offset, view.nbytes) for offset, view in zip(offsets, views)]), protocol=5)
    data_start = _aligned(_LENGTH.size + len(header))
    os.ftruncate(result, 0)  # a failed earlier dump may have left part of its payload
    os.lseek(result, 0, os.SEEK_SET)
    with open(result, "wb", closefd=False) as file:
        file.write(_LENGTH.pack(len(header)) + header)
        for offset, view in zip(offsets, views):
            file.seek(data_start + offset)
            file.write(view)


def _load(result):
    """The outcome `_dump` wrote to the file `result`; its arrays map the file's pages (privately:
    they are writable, and a write copies only the page it touches)."""
    size = os.fstat(result).st_size
    pages = mmap.mmap(result, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    (length,) = _LENGTH.unpack_from(pages)
    body, spans = pickle.loads(pages[_LENGTH.size : _LENGTH.size + length])  # written by our own child
    data = memoryview(pages)[_aligned(_LENGTH.size + length) :]
    return pickle.loads(body, buffers=[data[offset : offset + size] for offset, size in spans])


def _aligned(size):
    return -(-size // _ALIGNMENT) * _ALIGNMENT


def _error_outcome(error):
    import traceback  # only on this path: it is not on the command lines' start-up path

    text = traceback.format_exc()
    try:
        pickle.dumps(error)
        return (False, error, text)
    except Exception:  # noqa: BLE001 - whatever stops the pickling, the error travels as its text
        return (False, RuntimeError(f"{type(error).__name__}: {error}"), text)


def _collect(pid, result):
    """The result of the child `pid`, read from its file `result`; re-raises the child's
    exception."""
    try:
        _, status = os.waitpid(pid, 0)
        if status != 0 or os.fstat(result).st_size == 0:
            raise RuntimeError(f"a worker process ended without a result (wait status {status})")
        outcome = _load(result)
    finally:
        os.close(result)
    if outcome[0]:
        return outcome[1]
    _, error, text = outcome
    raise error from ChildTraceback(text)
