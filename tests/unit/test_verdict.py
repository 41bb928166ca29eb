"""The exit-code table: each row, and that a worse outcome wins over a milder one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.result import ErrorCause, RunResult, RunStatus, StepResult, StepStatus
from agent.tickets.filing import Filing
from agent.verdict import run_exit_code, worst


def run(*steps: StepResult, status: RunStatus = RunStatus.PASSED,
        half_programmed: bool = False) -> RunResult:
    return RunResult(run_id="r", site="s", playbook="p", status=status,
                     started_at=datetime(2026, 12, 1, tzinfo=UTC), steps=list(steps),
                     half_programmed=half_programmed)


def step(status: StepStatus, action: str = "get", cause: ErrorCause | None = None) -> StepResult:
    return StepResult(name=f"{action}-{status}", status=status, action=action, cause=cause)


OK = step(StepStatus.OK)
FAILED = step(StepStatus.FAILED)


@pytest.mark.parametrize(("result", "code"), [
    (run(OK), 0),
    (run(OK, FAILED, status=RunStatus.FAILED), 1),
    (run(step(StepStatus.ERROR, cause=ErrorCause.INPUT), status=RunStatus.FAILED), 2),
    (run(step(StepStatus.ERROR, cause=ErrorCause.REPLY), status=RunStatus.FAILED), 3),
    (run(status=RunStatus.UNREACHABLE), 3),
    (run(OK, status=RunStatus.ERROR), 3),
    (run(step(StepStatus.FAILED, "set"), status=RunStatus.FAILED), 4),
    (run(step(StepStatus.ERROR, "set", ErrorCause.REPLY), status=RunStatus.FAILED), 4),
    # our own bad value for a setting, refused before anything was sent: bad input
    (run(step(StepStatus.ERROR, "set", ErrorCause.INPUT), status=RunStatus.FAILED), 2),
    # a programming run whose precondition check failed: the change was not made
    (run(FAILED, step(StepStatus.SKIPPED, "set"), status=RunStatus.FAILED), 4),
    (run(step(StepStatus.ERROR, cause=ErrorCause.INTERNAL), status=RunStatus.FAILED), 70),
    (run(step(StepStatus.ERROR, cause=ErrorCause.INTERNAL), half_programmed=True), 4),
    (run(step(StepStatus.ERROR, cause=ErrorCause.INPUT), FAILED, status=RunStatus.FAILED), 1),
])
def test_each_outcome_has_its_code(result: RunResult, code: int) -> None:
    assert run_exit_code(result, Filing()) == code


def test_a_fleet_reports_the_site_an_engineer_must_see_to_first() -> None:
    assert worst({0, 1, 3}) == 3
    assert worst({0, 1, 2, 3}) == 2
    assert worst({1, 70, 2}) == 70
    assert worst({70, 4, 0}) == 4
    assert worst(set()) == 0
