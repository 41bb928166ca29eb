"""``include``: vars, tags and when pass down; cycles and escapes are load errors; a
problem inside an included file is reported at that file's own line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.errors import PlaybookError
from agent.playbook import IncludeStep, PlaybookInvalidError, RunOptions, load_playbook
from agent.playbook import run_playbook as run_it

from .fakes import FakePbx, new_run, statuses

CHECKS = """\
name: Checks
vars: {wanted: in_service, label: default}
steps:
  - name: Cards
    get: cards
    expect: ['all_match(result, status=wanted)', 'label == expected_label']
    tags: [cards]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_file(path: Path, fake: FakePbx, **options: Any) -> list[tuple[str, str]]:
    run = run_it(load_playbook(path), fake, new_run(), options=RunOptions(**options))
    return statuses(run)


def test_include_with_vars_runs_the_included_steps_in_place(tmp_path: Path) -> None:
    write(tmp_path, "lib/checks.yaml", CHECKS)
    main = write(tmp_path, "main.yaml", """\
name: Main
vars: {expected_label: "site Bolton", site: Bolton}
steps:
  - {name: First, get: alarms}
  - name: Health
    include: lib/checks.yaml
    vars: {label: "site {{ site }}"}
    tags: [health]
  - {name: Last, get: alarms}
""")
    playbook = load_playbook(main)
    include = playbook.steps[1]
    assert isinstance(include, IncludeStep) and include.playbook.name == "Checks"
    fake = FakePbx(getters={"alarms": [], "cards": [{"status": "in_service"}]})
    assert run_file(main, fake) == [("First", "ok"), ("Cards", "ok"), ("Last", "ok")]
    # the include's tags are inherited by its steps
    assert run_file(main, fake, tags=frozenset({"health"})) == [
        ("First", "skipped"), ("Cards", "ok"), ("Last", "skipped")]


def test_callers_vars_override_the_included_defaults(tmp_path: Path) -> None:
    write(tmp_path, "checks.yaml", CHECKS)
    main = write(tmp_path, "main.yaml", """\
name: Main
vars: {wanted: fault, expected_label: default}
steps:
  - {name: Health, include: checks.yaml}
""")
    fake = FakePbx(getters={"cards": [{"status": "fault"}]})
    assert run_file(main, fake) == [("Cards", "ok")]


def test_include_when_false_is_one_skipped_result(tmp_path: Path) -> None:
    write(tmp_path, "checks.yaml", CHECKS)
    main = write(tmp_path, "main.yaml",
                 "name: M\nsteps:\n  - {name: Health, include: checks.yaml, when: false}\n")
    assert run_file(main, FakePbx()) == [("Health", "skipped")]


def test_include_cycle_is_an_error_with_the_chain(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: A\nsteps:\n  - {name: To B, include: b.yaml}\n")
    write(tmp_path, "b.yaml", "name: B\nsteps:\n  - {name: Cards, get: cards}\n"
                              "  - {name: Back to A, include: a.yaml}\n")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(tmp_path / "a.yaml")
    error = caught.value
    assert error.message == "include cycle: a.yaml → b.yaml → a.yaml"
    assert error.path is not None and error.path.endswith("b.yaml")
    assert (error.line, error.column) == (4, 32)


def test_including_itself_is_a_cycle(tmp_path: Path) -> None:
    write(tmp_path, "self.yaml", "name: S\nsteps:\n  - {name: Me, include: self.yaml}\n")
    with pytest.raises(PlaybookError, match=r"include cycle: self\.yaml → self\.yaml"):
        load_playbook(tmp_path / "self.yaml")


def test_error_inside_an_included_file_is_reported_at_its_own_line(tmp_path: Path) -> None:
    write(tmp_path, "checks.yaml", "name: C\nsteps:\n  - name: Cards\n    get: cards\n"
                                   "    expect: ['all_match(result, status=)']\n")
    main = write(tmp_path, "main.yaml", "name: M\nsteps:\n"
                                        "  - {name: Health, include: checks.yaml}\n"
                                        "  - {name: Health, get: cards}\n")
    with pytest.raises(PlaybookInvalidError) as caught:
        load_playbook(main)
    located = [problem.located() for problem in caught.value.problems]
    assert located[0].startswith(f"{tmp_path / 'checks.yaml'}:5:14: invalid expression in "
                                 'item 1 of "expect" in step 1 ("Cards")')
    assert located[1] == f"{main}:4:12: " + 'duplicate step name "Health" (first used on ' \
        "line 3); step names must be unique"


@pytest.mark.parametrize(("written", "words"), [
    ("/etc/passwd.yaml", "outside the playbook folder"),
    ("../outside.yaml", "outside the playbook folder"),
    ("notes.txt", "is not a playbook file (.yaml or .yml)"),
    ("missing.yaml", "cannot read playbook"),
])
def test_includes_stay_inside_the_playbook_folder(tmp_path: Path, written: str,
                                                  words: str) -> None:
    write(tmp_path, "outside.yaml", "name: O\nsteps:\n  - {name: C, get: cards}\n")
    write(tmp_path, "notes.txt", "secret: 1\n")
    main = write(tmp_path, "pb/main.yaml", f"name: M\nsteps:\n  - name: I\n    include: "
                                           f"'{written}'\n")
    with pytest.raises(PlaybookError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_playbook(main)


def test_keys_that_do_not_fit_an_include_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "checks.yaml", CHECKS)
    main = write(tmp_path, "main.yaml", "name: M\nsteps:\n  - name: Health\n"
                                        "    include: checks.yaml\n    register: x\n")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(main)
    assert caught.value.message == ('"register" cannot be used with "include" in step 1 '
                                    '("Health"): put these keys on the included steps')
    assert (caught.value.line, caught.value.column) == (5, 5)


def test_answer_keys_and_tags_of_included_files_count(tmp_path: Path) -> None:
    write(tmp_path, "q.yaml", "name: Q\nsteps:\n  - name: Power\n    ask: {key: power_cut, "
                              "type: yes_no, question: Power cut}\n    tags: [questions]\n")
    main = write(tmp_path, "main.yaml", "name: M\nsteps:\n  - {name: Q, include: q.yaml}\n")
    playbook = load_playbook(main)
    assert playbook.ask_keys == {"power_cut"}
    assert playbook.tags == {"questions"}
    run = run_it(playbook, FakePbx(), new_run(),
                 options=RunOptions(answers={"power_cut": "yes"}))
    assert run.answers == {"power_cut": True}
