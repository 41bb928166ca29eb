"""`pbxdiag help TOPIC` and `pbxdiag help --man` (issue 19): the text comes from the docs/
pages, so every prose line, code line and heading of a topic's page is in its help, and the
man page covers every command and option and renders without a roff warning."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
TOPICS = {"inventory": ("inventory.md", None), "playbooks": ("playbooks.md", None),
          "tickets": ("tickets.md", None), "exit-codes": ("reliability.md", "Exit codes"),
          "scale": ("scale.md", None)}
MARKUP = re.compile(r"[`*\[\]|<>\\]")


def pbxdiag(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBXDIAG_")}
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def source_of(page: str, section: str | None) -> list[str]:
    lines = (REPO / "docs" / page).read_text().splitlines()
    if section is None:
        return lines
    start = lines.index(f"## {section}")
    end = next((at for at in range(start + 1, len(lines)) if re.match(r"#{1,2} ", lines[at])),
               len(lines))
    return lines[start:end]


def test_help_lists_the_topics() -> None:
    run = pbxdiag("help")
    assert run.returncode == 0, run.stderr
    for name, (page, _) in TOPICS.items():
        assert re.search(rf"^  {re.escape(name)} .*docs/{page}", run.stdout, re.MULTILINE)


@pytest.mark.parametrize("topic", list(TOPICS))
def test_each_topic_prints_its_docs_page(topic: str) -> None:
    page, section = TOPICS[topic]
    run = pbxdiag("help", topic)
    assert run.returncode == 0, run.stderr
    shown = run.stdout.splitlines()
    source = source_of(page, section)
    in_code = False
    checked = 0
    for line in source:
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif in_code:
            assert f"    {line}".rstrip() in shown, line
            checked += 1
        elif (heading := re.match(r"#+ (.*)", line)) and not MARKUP.search(heading.group(1)):
            assert any(shown_line.lower() == heading.group(1).lower() for shown_line in shown)
            checked += 1
        elif line.startswith("| ") and not re.match(r"^\|[\s:|-]+$", line):
            for cell in re.split(r"(?<!\\)\|", line)[1:-1]:
                plain = cell.strip().replace("`", "").replace("**", "").replace("\\|", "|")
                if "[" not in plain:
                    assert plain in run.stdout, line
            checked += 1
        elif line.strip() and not MARKUP.search(line):
            assert line in shown, line
            checked += 1
    assert checked >= 10
    assert "```" not in run.stdout and "<!--" not in run.stdout and "](" not in run.stdout
    if section is not None:  # only that section
        assert run.stdout.splitlines()[0].lower() == section.lower()
        assert "The matrix".upper() not in run.stdout


def test_an_unknown_topic_is_bad_input() -> None:
    run = pbxdiag("help", "nosuch")
    assert run.returncode == 2
    assert "exit-codes" in run.stderr and "Traceback" not in run.stderr


def test_the_readme_exit_codes_are_the_docs_ones() -> None:
    def rows(lines: list[str]) -> list[str]:
        return [line for line in lines if line.startswith("| `")]

    readme = (REPO / "README.md").read_text().splitlines()
    start = readme.index("Exit codes:")
    assert rows(readme[start:start + 20]) == rows(source_of("reliability.md", "Exit codes"))


def commands(parser: argparse.ArgumentParser, path: str = "pbxdiag") -> Iterator[
        tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{path} {name}")


def test_the_man_page_has_every_command_option_and_topic() -> None:
    run = pbxdiag("help", "--man")
    assert run.returncode == 0, run.stderr
    roff = run.stdout
    assert roff.startswith('.TH PBXDIAG "1" ')
    assert roff.isascii()
    sections = re.findall(r"^\.SH (.*)$", roff, re.MULTILINE)
    for expected in ("NAME", "SYNOPSIS", "DESCRIPTION", "INVENTORY", "PLAYBOOKS", "TICKETS",
                     "EXIT CODES"):
        assert expected in sections
    groff = shutil.which("groff")
    assert groff is not None, "groff is needed (.ci/run installs groff-base)"
    rendered = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-P", "-cbou"], input=roff,
                              capture_output=True, text=True, timeout=60, check=True)
    assert rendered.stderr == ""  # no roff warning: escaping and requests are right
    text = re.sub(r"\s+", " ", rendered.stdout.replace("\u2010\n", "").replace("-\n", "-"))
    for path, parser in commands(build_parser()):
        if path != "pbxdiag":
            assert f"'{path}'" in text, path
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # every command has -h; the page says so once, in SYNOPSIS
            for option in action.option_strings:
                assert option in text, (path, option)
    first = next(line for line in source_of("reliability.md", "Exit codes")
                 if line and not line.startswith(("#", "|")))
    assert " ".join(first.replace("`", "").split()) in text
    assert "every check passed" in text and "Panasonic" in text


@pytest.mark.skipif(shutil.which("man") is None, reason="man -l is checked where man exists; "
                    "groff renders the page above everywhere")
def test_man_renders_the_page(tmp_path: Path) -> None:
    page = tmp_path / "pbxdiag.1"
    page.write_text(pbxdiag("help", "--man").stdout)
    run = subprocess.run(["man", "-l", str(page)], env={**os.environ, "MANPAGER": "cat",
                                                        "PAGER": "cat", "MANWIDTH": "100"},
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert "PBXDIAG(1)" in run.stdout and "EXIT CODES" in run.stdout
