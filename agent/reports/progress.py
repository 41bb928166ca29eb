"""What long work is doing, shown on a terminal: a run's steps, a fleet's progress bar.

A 1200-baud pre-visit runs 30 s and an unanswered modem nearly three minutes; with no
output a person cannot tell a slow line from a hung one (issue 16 #6). The engine and the
runner only call a :data:`agent.playbook.ProgressHook`; how it looks is decided here.

Nothing is shown unless stdout *and* stderr are terminals and the caller did not ask for
``--json``: piped or machine-read output stays exactly what it was. Progress always goes to
stderr, so stdout keeps only the command's report.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from types import TracebackType
from typing import IO, TYPE_CHECKING

from agent.line.secrets import REDACTOR

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from agent.fleet import JobOutcome
    from agent.playbook import Progress


def shown(as_json: bool) -> bool:
    """Whether progress is shown: on a terminal (both streams) and not for ``--json``."""
    return not as_json and _isatty(sys.stdout) and _isatty(sys.stderr)


def _isatty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # a closed stream
        return False


class StepPrinter:
    """``pbxdiag run``'s hook: one stderr line per path tried and per step as it starts.

    Lines are short and plain (no cursor tricks): they stay readable in a scrollback and
    in a terminal recorder. A lock keeps lines whole if a hook is called from two threads.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()

    def __call__(self, event: Progress) -> None:
        text = f"  trying {event.name}" if event.kind == "path" else f"  > {event.name}"
        with self._lock:
            self._stream.write(REDACTOR.scrub(text)[:200] + "\n")
            self._stream.flush()


def outcome_kind(outcome: JobOutcome) -> str:
    """Which fleet count a site's outcome adds to: passed, failed or unreachable."""
    from agent.result import RunStatus

    if outcome.busy or (outcome.result is not None
                        and outcome.result.status is RunStatus.UNREACHABLE):
        return "unreachable"
    if outcome.result is not None and outcome.result.status is RunStatus.PASSED \
            and not outcome.error:
        return "passed"
    return "failed"


def totals_line(counts: Counter[str], total: int) -> str:
    """The fleet's last line: how many sites, and how each ended."""
    return (f"totals: {total} site{'s' * (total != 1)}: {counts['passed']} passed, "
            f"{counts['failed']} failed, {counts['unreachable']} unreachable")


class FleetBar:
    """``pbxdiag fleet``'s progress bar (rich) on stderr: done / failed / unreachable.

    Use as a context manager around the fleet; :meth:`done` for each finished site (its
    report line is printed above the bar, so the bar stays the last line), and the totals
    line when the fleet ends. Only built when :func:`shown` says so.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.counts: Counter[str] = Counter()
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> FleetBar:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(file=sys.stderr, highlight=False)
        self._bar = Progress(TextColumn("fleet"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("done · {task.fields[failed]} failed · "
                                        "{task.fields[unreachable]} unreachable"),
                             console=console, transient=False)
        self._task = self._bar.add_task("fleet", total=self.total, failed=0, unreachable=0)
        self._bar.start()
        return self

    def done(self, outcome: JobOutcome, line: str) -> None:
        """One site finished: its line above the bar, and the counts moved on."""
        self.counts[outcome_kind(outcome)] += 1
        if self._bar is None or self._task is None:
            return
        self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        self._bar.update(self._task, advance=1, failed=self.counts["failed"],
                         unreachable=self.counts["unreachable"])

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is None:
            return
        self._bar.stop()
        self._bar.console.print(totals_line(self.counts, self.total), markup=False,
                                highlight=False)
