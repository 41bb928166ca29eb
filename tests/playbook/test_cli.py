"""``pbxdiag playbook validate|schema`` and the ``run`` options, without a PBX."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.commands.run import parse_vars
from agent.errors import InputError
from agent.line.secrets import Secret
from agent.paths import SHIPPED_PLAYBOOKS
from agent.playbook import (
    AnswerType,
    AskStep,
    TerminalAsker,
    compile_template,
    load_answers,
    normalise_answer,
    parse_answer_options,
    schema,
)

BROKEN = Path(__file__).parent / "broken"
SHIPPED = sorted(SHIPPED_PLAYBOOKS.glob("*.yaml"))


def test_every_shipped_playbook_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    names = {path.name for path in SHIPPED}
    assert {"health-check.yaml", "front-line-triage.yaml", "pre-visit.yaml",
            "set-time-service.yaml", "set-clock.yaml", "rename-extension.yaml",
            "busy-out-trunk.yaml", "restore-trunk.yaml", "set-call-forward.yaml"} <= names
    assert main(["playbook", "validate", *map(str, SHIPPED)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok (") == len(SHIPPED)


def test_validate_lists_every_problem_as_file_line_column(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncolour: red\nsteps:\n  - name: a\n    get: alarm\n"
                   "  - name: b\n    get: cards\n    retries: 2\n")
    good = SHIPPED_PLAYBOOKS / "health-check.yaml"
    assert main(["playbook", "validate", str(good), str(bad),
                 str(BROKEN / "unknown_key.yaml")]) == 2
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert errors[0].startswith(f"{bad}:2:1: unknown key \"colour\"")
    assert errors[1].startswith(f"{bad}:5:10: unknown getter \"alarm\"")
    assert errors[2].startswith(f'{bad}:8:5: "retries" in step 2 ("b") needs "until" too')
    assert errors[3].startswith(f"{BROKEN / 'unknown_key.yaml'}:5:5: unknown key \"expects\"")
    assert errors[-1] == "2 of 3 playbooks invalid"
    assert "health-check.yaml: ok" in captured.out
    assert "Traceback" not in captured.err


def test_schema_command_prints_the_published_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()


def test_run_refuses_an_unknown_tag_before_dialling(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("sites:\n  acme:\n    customer: Acme\n    vendor: panasonic\n"
                         "    paths: ['ssh://x@127.0.0.1:1']\n")
    code = main(["run", str(SHIPPED_PLAYBOOKS / "health-check.yaml"), "--site", "acme",
                 "--inventory", str(inventory), "--db", str(tmp_path / "t.db"),
                 "--output", str(tmp_path / "out"), "--tags", "smdr,alrams"])
    assert code == 2
    assert "unknown tag alrams (tags in this playbook: alarms, cards" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "t.db").exists()


def test_run_refuses_check_and_apply_together(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", "x.yaml", "--site", "s", "--inventory", "i", "--check", "--apply"])
    assert caught.value.code == 2


def test_vars_are_typed_sparingly() -> None:
    assert parse_vars(["n=3", "f=0.5", "b=true", "z=null", "country=NO", "t=2026-01-01",
                       "s=a=b"]) == {"n": 3, "f": 0.5, "b": True, "z": None, "country": "NO",
                                     "t": "2026-01-01", "s": "a=b"}
    with pytest.raises(InputError, match="write it as key=value"):
        parse_vars(["novalue"])


def test_answer_options_and_file(tmp_path: Path) -> None:
    assert parse_answer_options(["power_cut=no", "note=a = b"]) == {"power_cut": "no",
                                                                    "note": "a = b"}
    with pytest.raises(InputError):
        parse_answer_options(["=x"])
    good = tmp_path / "answers.yaml"
    good.write_text("power_cut: no\ncontact_number: '01204368634'\n")
    assert load_answers(good) == {"power_cut": False, "contact_number": "01204368634"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("power_cut: no\nextensions: [201, 202]\n")
    with pytest.raises(InputError) as caught:
        load_answers(bad)
    assert caught.value.located().startswith(f"{bad}:2:13: answer 'extensions' must be a "
                                             "single value")


def ask(kind: AnswerType, choices: tuple[str, ...] = ()) -> AskStep:
    return AskStep(name="q", key="k", question=compile_template("Q"), type=kind,
                   choices=choices)


@pytest.mark.parametrize(("kind", "raw", "value"), [
    (AnswerType.YES_NO, "Y", True), (AnswerType.YES_NO, False, False),
    (AnswerType.YES_NO, " no ", False), (AnswerType.TEXT, 201, "201"),
    (AnswerType.TEXT, "  the exact words  ", "the exact words"),
])
def test_answers_are_normalised_per_type(kind: AnswerType, raw: object, value: object) -> None:
    assert normalise_answer(ask(kind), raw) == (value, None)


def test_choice_and_secret_answers() -> None:
    assert normalise_answer(ask(AnswerType.CHOICE, ("fixed", "worse")), "WORSE") == ("worse", None)
    secret, problem = normalise_answer(ask(AnswerType.SECRET), "4321")
    assert problem is None and isinstance(secret, Secret) and secret.reveal() == "4321"
    assert normalise_answer(ask(AnswerType.TEXT), True)[1] == \
        "expected text, got a boolean (quote it in an answers file)"


def test_terminal_asker_reads_lines_and_hides_secrets() -> None:
    stdin, stdout = io.StringIO("yes\n"), io.StringIO()
    typed: list[str] = []
    asker = TerminalAsker(stdin, stdout, secret_reader=lambda p: typed.append(p) or "9999")
    assert asker.ask("Power cut? [yes/no] ", secret=False) == "yes"
    assert asker.ask("New PIN ", secret=True) == "9999"
    assert asker.ask("More? ", secret=False) is None  # end of input
    asker.say("answer yes or no")
    assert stdout.getvalue() == "Power cut? [yes/no] More?   answer yes or no\n"
    assert typed == ["New PIN "]


def test_answers_file_then_answer_options_win(tmp_path: Path) -> None:
    from agent.cli import build_parser
    from agent.commands.run import run_options

    answers = tmp_path / "answers.yaml"
    answers.write_text("power_cut: no\nsurge: yes\n")
    args = build_parser().parse_args([
        "run", "pb.yaml", "--site", "s", "--inventory", "i", "--answers", str(answers),
        "--answer", "power_cut=yes", "--tags", "a,b", "--tags", "c", "--skip-tags", "d",
        "--apply"])
    options = run_options(args)
    assert options.answers == {"power_cut": "yes", "surge": True}
    assert options.tags == {"a", "b", "c"} and options.skip_tags == {"d"}
    assert options.apply is True

