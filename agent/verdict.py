"""A finished run's exit code: the one table (README, docs/reliability.md), in one place.

``pbxdiag run`` and every site of ``pbxdiag fleet`` take their code from here, so a
script reads the same number for the same outcome whichever command it called:

- 4: a programming change failed (refused, not verified, or a check it depends on
  failed with no fault behind it), or may have left the PBX half-programmed;
- 70: pbxdiag itself failed inside a step (the result is recorded all the same);
- 1: a fault was diagnosed (a ticket opened, upgraded or an occurrence added), or a
  check failed on what the PBX said;
- 3: the PBX was not reached, the line was lost or unusable, or its replies could not
  be read: nothing diagnosed;
- 2: a mistake of ours that only showed during the run (an expression, a var);
- 0: every check passed.

The order of the list is the order of precedence.
"""

from __future__ import annotations

from agent.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECKS_FAILED,
    EXIT_HALF_PROGRAMMED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNREACHABLE,
)
from agent.result import ErrorCause, RunResult, RunStatus, StepStatus
from agent.tickets.filing import Filing


def run_exit_code(result: RunResult, filing: Filing | None) -> int:
    """The exit code of one finished (recorded) run; see the module docstring."""
    causes = {s.cause for s in result.steps if s.status is StepStatus.ERROR}
    checks_failed = any(s.status is StepStatus.FAILED for s in result.steps)
    rules = (
        (EXIT_HALF_PROGRAMMED,
         result.half_programmed or any(s.failed_change for s in result.steps)),
        (EXIT_INTERNAL, ErrorCause.INTERNAL in causes),
        # A fault diagnosed: filed, or found during a maintenance window (not filed).
        (EXIT_CHECKS_FAILED, filing is not None and bool(filing.faults or filing.found)),
        (EXIT_UNREACHABLE, result.status in (RunStatus.UNREACHABLE, RunStatus.ERROR)),
        # A programming run's checks are its preconditions and its verification: one
        # failing with no fault behind it means the change could not be made as asked.
        (EXIT_HALF_PROGRAMMED, checks_failed and result.programming),
        (EXIT_CHECKS_FAILED, checks_failed),
        (EXIT_UNREACHABLE, bool(causes - {ErrorCause.INPUT})),
        (EXIT_BAD_INPUT, bool(causes)),
    )
    return next((code for code, applies in rules if applies), EXIT_OK)


#: Worst first, for a fleet: the site an engineer must see to first.
SEVERITY = (EXIT_HALF_PROGRAMMED, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_UNREACHABLE,
            EXIT_CHECKS_FAILED, EXIT_OK)


def worst(codes: set[int]) -> int:
    return next((code for code in SEVERITY if code in codes), EXIT_OK)
