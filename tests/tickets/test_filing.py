"""file_run: a finished RunResult meets the register (and its outbox) in one change."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from agent.contracts import contract_for
from agent.inventory import Site
from agent.result import RunResult, RunStatus, StepStatus
from agent.tickets.filing import Filing, file_run
from agent.tickets.model import Outcome
from agent.tickets.register import Register

from . import builders as b

SITE = Site(id="acme-bolton", customer="Acme Ltd", name="Bolton", vendor="panasonic",
            paths=("ssh://INSTALLER@127.0.0.1:2222",), contract="gold",
            contract_terms={"major_response_hours": 2,
                            "calendar": {"nation": "scotland", "start": "08:30"}})


def transcript(tmp_path: Path) -> Path:
    path = tmp_path / "transcript.jsonl"
    records = [{"transcript": 1, "started": b.RUN_AT.isoformat()},
               {"t": 0.5, "dir": "in", "data": "CO\r\n 1  1  03  01  LCOT FLT\r\nTDE200>"},
               {"t": 2.5, "dir": "in", "data": "EXT\r\n201 1 01 01 DPT Reception IDLE\r\n"}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def filed(reg: Register, result: RunResult) -> Outcome:
    outcome = file_run(reg, SITE, result).outcome
    assert outcome is not None
    return outcome


def test_a_failed_run_opens_a_ticket_with_answers_excerpt_and_cover(
        db: Path | str, tmp_path: Path) -> None:
    result = b.dead_trunk_card_with({"power_cut": "yes", "contact": "Jo, 01204 000000"})
    result.transcript = str(transcript(tmp_path))
    result.steps[2].started_at = b.RUN_AT + timedelta(seconds=0.4)
    result.steps[2].duration_s = 0.3
    with Register(db) as reg:
        filing = file_run(reg, SITE, result)
        assert filing.outcome is not None and filing.outcome.opened
        t = filing.outcome.ticket
        assert (t.priority, t.rule, t.contract) == ("P2", "all-trunks-down", "gold")
        assert t.non_covered == "possible non-covered cause: caller reports a power cut"
        assert t.answers == {"power_cut": "yes", "contact": "Jo, 01204 000000"}
        assert t.excerpt == "CO\n 1  1  03  01  LCOT FLT\nTDE200>"
        assert t.transcript == result.transcript
        assert t.response_due - t.opened_at == timedelta(hours=2)  # the gold contract
        assert t.calendar.startswith("Mon–Fri 08:30–17:30 Europe/London, Scotland")
        assert [m.event for m in reg.outbox(ref=t.ref)] == ["opened", "opened"]
        assert not filed(reg, result).opened


def test_a_passed_run_records_an_all_clear_and_queues_it(db: Path | str, tmp_path: Path) -> None:
    with Register(db) as reg:
        ref = filed(reg, b.dead_trunk_card()).ticket.ref
        healthy = b.healthy()
        healthy.run_id = "run-2"
        filing = file_run(reg, SITE, healthy, now=b.RUN_AT + timedelta(hours=1))
        assert [t.ref for t in filing.cleared] == [ref]
        assert [m.event for m in reg.outbox(ref=ref, channel="webhook")] == ["opened",
                                                                             "all_clear"]


def test_an_unreachable_pbx_files_nothing(db: Path | str, tmp_path: Path) -> None:
    with Register(db) as reg:
        filing = file_run(reg, SITE, b.pbx_dead())
        assert (filing.classification, filing.outcome, reg.list_tickets()) == (None, None, [])


def test_contract_for_reads_the_inventory_terms() -> None:
    contract = contract_for(SITE)
    assert (contract.name, contract.major_response_hours, contract.calendar.nation) == (
        "gold", 2, "scotland")


def test_a_change_only_run_neither_opens_nor_clears(db: Path | str, tmp_path: Path) -> None:
    with Register(db) as reg:
        ref = filed(reg, b.dead_trunk_card()).ticket.ref
        change = b.healthy()
        change.run_id = "run-change"
        change.steps = [b.step("Rename extension 201", StepStatus.CHANGED, action="set")]
        assert file_run(reg, SITE, change) == Filing()
        failed_change = b.healthy()
        failed_change.run_id = "run-change-2"
        failed_change.status = RunStatus.FAILED
        failed_change.steps = [b.step("Rename extension 201", action="set")]
        assert file_run(reg, SITE, failed_change) == Filing()
        assert [o.kind for o in reg.occurrences(ref)] == ["fault"]
