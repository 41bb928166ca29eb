"""Shell completion (issue 19): the scripts `pbxdiag completion bash|zsh` print, sourced in
a real bash and a real zsh, driven as the shell drives them on TAB, calling the real
`pbxdiag` entry point back — subcommands, options, site ids from the inventory in force,
playbooks from the playbooks folder; and a TAB never dials a PBX nor prints a traceback."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: where the pbxdiag entry point is

SITES = """\
sites:
  acme-bolton: {customer: Acme Ltd, name: Bolton, vendor: panasonic,
                paths: ["tcp://127.0.0.1:PORT"]}
  acme-wigan: {customer: Acme Ltd, name: Wigan, vendor: panasonic,
               paths: ["tcp://127.0.0.1:PORT"]}
  zeta-leeds: {customer: Zeta plc, name: Leeds, vendor: toshiba,
               paths: ["tcp://127.0.0.1:PORT"]}
"""

# COMP_WORDS as bash splits a line (no quoting in these lines), then the function
# `complete -p` names, called as bash calls it: (command, word, previous word).
BASH_DRIVER = """\
source <(pbxdiag completion bash) || exit 9
spec=$(complete -p pbxdiag) || exit 8
function=${spec##*-F }; function=${function%% *}
COMP_LINE=$LINE; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
"$function" pbxdiag "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "${COMPREPLY[@]}"
"""


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("PBXDIAG_", "_ARC", "COMP_"))}
    return {**base, "PATH": f"{BIN}{os.pathsep}{base.get('PATH', '')}",
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
            **extra}


def bash_complete(tmp_path: Path, line: str, *, cwd: Path | None = None,
                  **env: str) -> list[str]:
    run = subprocess.run(["bash", "--norc", "--noprofile", "-c", BASH_DRIVER],
                         env=environment(tmp_path, LINE=line, **env), cwd=cwd or tmp_path,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    return [word.rstrip() for word in run.stdout.splitlines() if word.strip()]


def write_inventory(path: Path, port: int = 9) -> Path:
    path.write_text(SITES.replace("PORT", str(port)))
    return path


def test_the_bash_script_registers_a_completion_function(tmp_path: Path) -> None:
    run = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                          "source <(pbxdiag completion bash) && complete -p pbxdiag"],
                         env=environment(tmp_path), capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("complete ") and " -F " in run.stdout
    assert run.stdout.rstrip().endswith(" pbxdiag")


def test_subcommands_and_their_actions_complete(tmp_path: Path) -> None:
    commands = bash_complete(tmp_path, "pbxdiag ")
    for command in ("run", "fleet", "schedule", "tickets", "inventory", "playbook", "sites",
                    "config", "completion", "help"):
        assert command in commands
    assert bash_complete(tmp_path, "pbxdiag ti") == ["tickets"]
    assert set(bash_complete(tmp_path, "pbxdiag inventory ")) == {"schema", "validate"}
    assert set(bash_complete(tmp_path, "pbxdiag completion ")) == {"bash", "zsh"}
    assert "exit-codes" in bash_complete(tmp_path, "pbxdiag help ")


def test_options_complete(tmp_path: Path) -> None:
    options = bash_complete(tmp_path, "pbxdiag run --")
    for option in ("--site", "--inventory", "--apply", "--check", "--json", "--var", "--db"):
        assert option in options
    assert bash_complete(tmp_path, "pbxdiag run --ap") == ["--apply"]
    assert "--version" in bash_complete(tmp_path, "pbxdiag --")


def test_site_ids_come_from_the_inventory_on_the_line(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "sites.yaml")
    line = f"pbxdiag run x.yaml --inventory {inventory} --site "
    assert bash_complete(tmp_path, line) == ["acme-bolton", "acme-wigan", "zeta-leeds"]
    assert bash_complete(tmp_path, line + "acme-") == ["acme-bolton", "acme-wigan"]
    # a positional site id, the inventory given before it
    assert bash_complete(tmp_path, f"pbxdiag sites keyscan --inventory {inventory} z"
                         ) == ["zeta-leeds"]


def test_site_ids_come_from_the_environment_then_config_yaml(tmp_path: Path) -> None:
    from_env = write_inventory(tmp_path / "env.yaml")
    assert bash_complete(tmp_path, "pbxdiag run x.yaml --site acme-b",
                         PBXDIAG_INVENTORY=str(from_env)) == ["acme-bolton"]
    assert bash_complete(tmp_path, "pbxdiag run x.yaml --site acme-b") == []  # none in force
    config = tmp_path / "cfg" / "pbxdiag" / "config.yaml"
    config.parent.mkdir(parents=True)
    write_inventory(config.parent / "sites.yaml")
    config.write_text("inventory: sites.yaml\n")
    assert bash_complete(tmp_path, "pbxdiag tickets list --site z") == ["zeta-leeds"]


def test_a_comma_separated_sites_list_completes_its_last_id(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "sites.yaml")
    line = f"pbxdiag fleet x.yaml --inventory {inventory} --sites acme-wigan,"
    assert bash_complete(tmp_path, line) == ["acme-wigan,acme-bolton", "acme-wigan,zeta-leeds"]


def test_playbooks_complete_from_the_playbooks_folder(tmp_path: Path) -> None:
    shipped = sorted(path.name for path in (REPO / "playbooks").glob("*.yaml"))
    assert "health-check.yaml" in shipped
    from_repo = bash_complete(tmp_path, "pbxdiag run playbooks/", cwd=REPO)
    assert from_repo == [f"playbooks/{name}" for name in shipped]
    assert bash_complete(tmp_path, "pbxdiag fleet playbooks/hea", cwd=REPO) == [
        "playbooks/health-check.yaml"]
    # elsewhere: the user's own YAML files and folders, and the shipped ones by full path
    (tmp_path / "mine.yaml").write_text("name: mine\nsteps: []\n")
    (tmp_path / "notes.txt").write_text("not a playbook\n")
    (tmp_path / "books").mkdir()
    found = bash_complete(tmp_path, "pbxdiag run ")
    assert "mine.yaml" in found and "books/" in found and "notes.txt" not in found
    assert str(REPO / "playbooks" / "health-check.yaml") in found


def test_simulator_scenarios_complete_by_name(tmp_path: Path) -> None:
    shipped = sorted(path.stem for path in (REPO / "simulators" / "scenarios").glob("*.yaml"))
    assert bash_complete(tmp_path, "pbxdiag simulate panasonic-") == [
        name for name in shipped if name.startswith("panasonic-")]
    assert bash_complete(tmp_path, "pbxdiag simulate panasonic-dead") == [
        "panasonic-dead-trunk-card"]


@pytest.mark.parametrize("inventory_text", [
    "sites: [unclosed\n",                                  # not YAML
    "sites:\n  a: {customer: A}\n",                         # not the schema
    "\x00\x01binary",                                      # not text
])
def test_a_broken_inventory_completes_nothing_and_prints_nothing(
        tmp_path: Path, inventory_text: str) -> None:
    inventory = tmp_path / "sites.yaml"
    inventory.write_text(inventory_text)
    line = f"pbxdiag run x.yaml --inventory {inventory} --site "
    assert bash_complete(tmp_path, line) == []  # bash_complete asserts stderr is empty
    missing = f"pbxdiag run x.yaml --inventory {tmp_path / 'nope.yaml'} --site "
    assert bash_complete(tmp_path, missing) == []
    broken_config = tmp_path / "cfg" / "pbxdiag" / "config.yaml"
    broken_config.parent.mkdir(parents=True, exist_ok=True)
    broken_config.write_text("inventory: [\n")
    assert bash_complete(tmp_path, "pbxdiag run x.yaml --site ") == []


def direct_complete(tmp_path: Path, line: str) -> subprocess.CompletedProcess[str]:
    """What the sourced script runs, with its tempfile channel and stderr kept visible."""
    answer = tmp_path / "answer"
    env = environment(tmp_path, _ARGCOMPLETE="1", _ARGCOMPLETE_SHELL="bash",
                      COMP_LINE=line, COMP_POINT=str(len(line)),
                      _ARGCOMPLETE_STDOUT_FILENAME=str(answer), IFS="\013")
    run = subprocess.run(["pbxdiag"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    run.stdout = answer.read_text() if answer.exists() else ""
    return run


def test_completing_a_whole_command_line_never_dials_the_pbx(tmp_path: Path) -> None:
    with socket.socket() as pbx:
        pbx.bind(("127.0.0.1", 0))
        pbx.listen(4)
        pbx.setblocking(False)
        inventory = write_inventory(tmp_path / "sites.yaml", port=pbx.getsockname()[1])
        health = REPO / "playbooks" / "health-check.yaml"
        for line in (f"pbxdiag run {health} --inventory {inventory} --site acme-bolton ",
                     f"pbxdiag run {health} --inventory {inventory} --site acme-",
                     f"pbxdiag fleet {health} --inventory {inventory} ",
                     f"pbxdiag sites keyscan acme-bolton --inventory {inventory} --yes ",
                     "pbxdiag demo "):
            run = direct_complete(tmp_path, line)
            assert run.returncode == 0, (line, run.stderr)
            assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
        assert "acme-bolton" in direct_complete(
            tmp_path, f"pbxdiag run {health} --inventory {inventory} --site acme-").stdout
        with pytest.raises(BlockingIOError):
            pbx.accept()  # nobody connected
    assert not (tmp_path / "data").exists()  # no run folder, no register, no log
    assert not list(tmp_path.glob("demo-output*"))


def test_the_zsh_script_loads_registers_and_completes(tmp_path: Path) -> None:
    """zsh -f: compinit, source the script, then call the function as the completion
    system would (BUFFER/CURSOR/words), with _describe reporting what it was offered."""
    zsh = shutil.which("zsh")
    assert zsh is not None, "zsh is needed (.ci/run installs it)"
    inventory = write_inventory(tmp_path / "sites.yaml")

    def offered(line: str) -> list[str]:
        words = " ".join(shlex.quote(word) for word in line.split(" "))
        script = f"""
autoload -Uz compinit && compinit -u -d {shlex.quote(str(tmp_path / 'zcompdump'))}
source <(pbxdiag completion zsh) || exit 9
[[ $_comps[pbxdiag] == _python_argcomplete ]] || exit 8
_describe() {{ print -rl -- "${{(@P)2}}" }}
BUFFER={shlex.quote(line)}; CURSOR=${{#BUFFER}}; words=({words})
_python_argcomplete
"""
        run = subprocess.run([zsh, "-f", "-c", script], env=environment(tmp_path),
                             cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             check=False)
        assert run.returncode == 0, run.stderr
        return [entry.split(":", 1)[0].replace("\\", "") for entry in run.stdout.splitlines()]

    assert {"run", "fleet", "tickets", "help"} <= set(offered("pbxdiag "))
    assert "--inventory" in offered("pbxdiag run --")
    assert offered(f"pbxdiag run x.yaml --inventory {inventory} --site acme-") == [
        "acme-bolton", "acme-wigan"]
