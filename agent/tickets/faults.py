"""From a run's findings to its faults: one per broken component, only from PBX evidence.

The rules (classify.py) each name what they saw and where; here findings about related
components (one contains the other) become one fault — the broadest component, the worst
priority, the first rule in rule order on a tie, the union of the evidence. A playbook's
``on_failure`` hint can raise the priority of the fault its check speaks about but never
adds a ticket of its own while the PBX's evidence explains the failure; when no evidence
rule fired, a failed check on PBX data is one fault per getter it read (``check /
trunks``), never per check name or per playbook.

A run with no PBX facts at all — nothing read, no front-line answers — has no fault,
whatever its steps say: our own errors and a bad line are not evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agent.result import RunResult, RunStatus, StepResult, StepStatus
from agent.tickets.classify import (
    EVIDENCE_RULES,
    FAULT_CLASSES,
    PRIORITY_RANK,
    PRIORITY_TITLES,
    Classification,
    Facts,
    Finding,
    alarm_line,
    hint_findings,
    non_covered_reason,
    step_line,
)
from agent.tickets.identity import (
    FIXED,
    GETTER_DOMAINS,
    SYSTEM,
    Component,
    contains,
    related,
    signature,
)


@dataclass(slots=True)
class _Group:
    findings: list[Finding] = field(default_factory=list)

    @property
    def component(self) -> Component:
        return min((f.component for f in self.findings), key=len)


def classify(run: RunResult) -> Classification | None:
    """The run's worst fault (what a one-line summary shows), or None."""
    faults = classify_all(run)
    return faults[0] if faults else None


def classify_all(run: RunResult) -> list[Classification]:
    """Every fault the run's evidence shows, worst first; empty when there is none.

    A passed run has no fault; a run that read nothing of the PBX was not diagnosed.
    """
    if run.pbx_dead:
        return [_pbx_dead(run)]
    if run.status == RunStatus.PASSED or not _has_pbx_facts(run):
        return []
    failed = [s for s in run.failed_steps if s.status is StepStatus.FAILED]
    facts = Facts.from_run(run)
    findings = [_placed(f) for rule in EVIDENCE_RULES for f in _as_list(rule(facts))]
    groups = _group(findings)
    hints = hint_findings(failed)
    if groups:
        _raise_by_hints(groups, hints, failed)
    elif not run.programming:
        # With no evidence rule fired, a failed check is a fault of its own — except in a
        # programming run: there the checks are the change's preconditions and its
        # verification, and a change that cannot be made is the engineer's to act on
        # (exit 4), not a customer's fault. The evidence rules still read its facts.
        groups = _check_groups(failed, hints)
    faults = [_build(g, facts, failed) for g in groups]
    return sorted(faults, key=lambda c: PRIORITY_RANK[c.priority])


def _pbx_dead(run: RunResult) -> Classification:
    """The one fault from no PBX facts: the line reached the site on every path and the
    PBX itself never answered (docs/tickets.md)."""
    evidence = tuple(f"{a.url}: {a.error} — the PBX sent nothing" for a in run.paths_tried)
    finding = Finding("P1", "pbx-dead", "the PBX does not answer on any line that reaches "
                      "the site", evidence, FIXED["pbx-dead"])
    return _build(_Group([finding]), Facts.from_run(run), [])


def _has_pbx_facts(run: RunResult) -> bool:
    """Anything the PBX (or the caller) told us: a getter's records, a front-line answer,
    or a check that *failed* on what the PBX answered. A step that errored is ours or
    the line's — never evidence."""
    return bool(run.facts) or bool(run.answers) or any(
        s.status is StepStatus.FAILED for s in run.steps)


def _as_list(result: Finding | tuple[Finding, ...] | None) -> tuple[Finding, ...]:
    if result is None:
        return ()
    return result if isinstance(result, tuple) else (result,)


def _placed(finding: Finding) -> Finding:
    if finding.component:
        return finding
    component = FIXED.get(finding.rule, SYSTEM)
    return Finding(finding.priority, finding.rule, finding.summary, finding.evidence, component)


def _group(findings: Sequence[Finding]) -> list[_Group]:
    """Findings joined while their components are related (containment either way)."""
    groups: list[_Group] = []
    for finding in findings:
        joined = [g for g in groups if any(related(finding.component, f.component)
                                           for f in g.findings)]
        merged = _Group([finding])
        for group in joined:
            merged.findings = group.findings + merged.findings
            groups.remove(group)
        groups.append(merged)
    return groups


def _domains(step: StepResult) -> frozenset[str]:
    return GETTER_DOMAINS.get(step.getter or "", frozenset())


def _raise_by_hints(groups: list[_Group], hints: Iterable[Finding],
                    failed: Sequence[StepResult]) -> None:
    """A hint joins the fault its check's getter speaks about, if there is one."""
    by_name = {f"hint:{s.name}": s for s in failed}
    for hint in hints:
        step = by_name.get(hint.rule)
        if step is not None and step.getter:
            targets = [g for g in groups if g.component[0] in _domains(step)][:1]
        else:  # a check that names no getter: the playbook's verdict on the whole run
            targets = [min(groups, key=lambda g: min(PRIORITY_RANK[f.priority]
                                                     for f in g.findings))]
        for group in targets:
            group.findings.append(Finding(hint.priority, hint.rule, hint.summary,
                                          hint.evidence, group.component))


def _check_groups(failed: Sequence[StepResult], hints: Sequence[Finding]) -> list[_Group]:
    """No evidence rule fired: failed checks on PBX data, one fault per getter read."""
    hint_for = {h.rule.removeprefix("hint:"): h for h in hints}
    by_key: dict[str, list[StepResult]] = {}
    for step in failed:  # a command's output is evidence too: keyed by its action
        by_key.setdefault(step.getter or step.action or "checks", []).append(step)
    groups = []
    for key, steps in by_key.items():
        component: Component = ("check", key)
        names = ", ".join(s.name for s in steps)
        noun = "check" if len(steps) == 1 else "checks"
        group = _Group([Finding("P3", "failed-check", f"{len(steps)} {noun} failed: {names}",
                                tuple(step_line(s) for s in steps), component)])
        for step in steps:
            hint = hint_for.get(step.name)
            if hint is not None:
                group.findings.insert(0, Finding(hint.priority, hint.rule, hint.summary,
                                                 hint.evidence, component))
        groups.append(group)
    return groups


def _build(group: _Group, facts: Facts, failed: Sequence[StepResult]) -> Classification:
    """Worst priority wins; on a tie the earlier rule (evidence before hint) names it."""
    ranked = sorted(group.findings, key=lambda f: PRIORITY_RANK[f.priority])
    winner = ranked[0]
    component = group.component
    evidence = [line for f in ranked for line in f.evidence]
    evidence += [alarm_line(a) for a in facts.alarms]
    evidence += [step_line(s) for s in failed
                 if component[0] in _domains(s) or contains(component, ("check", s.getter or ""))]
    return Classification(
        priority=winner.priority,
        title=PRIORITY_TITLES[winner.priority],
        fault_class=FAULT_CLASSES[winner.priority],
        rule=winner.rule,
        summary=winner.summary,
        evidence=tuple(dict.fromkeys(evidence)),
        signature=signature(component),
        non_covered=non_covered_reason(facts),
        fired=tuple(dict.fromkeys(f.rule for f in ranked)),
        component=component,
    )
