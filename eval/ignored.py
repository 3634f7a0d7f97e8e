"""Input that is read but takes no part in a result, said out loud: a number nobody can trace
back to its input is the worst answer a benchmark tool can give.

Each kind of ignored input is counted and named in one warning (an `InputWarning`; the command
lines print it as `warning: <source>: ignoring <what>: <count> (first: <example>)`) and recorded
in the result's "ignored": {kind: {"count", "what", "first"}}, which `--json` carries.
"""

from eval.errors import warn_once

__all__ = ["ignoring_message", "note_ignored"]


def note_ignored(ignored, kind, source, count, what, first):
    """Records `count` items of `kind` in the dict `ignored` and warns once; nothing when the
    count is 0. source: the input named first in the line (a file or "pred", "gt"); what: what
    the items are, plural ("rows on frames without gt"); first: one of them, as text."""
    if count:
        ignored[kind] = {"count": int(count), "what": what, "first": str(first)}
        warn_once(ignoring_message(source, what, count, first))


def ignoring_message(source, what, count, first) -> str:
    """The warning's text, `<source>: ignoring <what>: <count> (first: <first>)`; also for
    the data pipeline's warnings, which have no result to record their counts in."""
    return f"{source}: ignoring {what}: {count} (first: {first})"
