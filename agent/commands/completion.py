"""``pbxdiag completion bash|zsh``: the shell completion script, and the completers it calls.

Completion is argcomplete's: the script the shell sources calls ``pbxdiag`` itself with
``_ARGCOMPLETE`` set, and :func:`complete_if_asked` answers from the very parser that parses
the command line — so a new command or option completes without anyone editing a script.
Site ids come from the inventory in force (``--inventory`` on the line, else
``PBXDIAG_INVENTORY`` or config.yaml, as the command itself would resolve it) and playbooks
from the playbooks folder. Completing reads files only: it never dials a PBX, never runs a
handler, and a broken inventory or config completes nothing rather than printing a
traceback into the user's prompt.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agent.errors import EXIT_OK

SHELLS = ("bash", "zsh")
#: Bounds what one TAB may cost: a playbooks folder or an inventory is read, never a tree.
MAX_CANDIDATES = 500

Completer = Callable[..., list[str]]


def register(commands: Any) -> None:
    completion = commands.add_parser(
        "completion", help="print the shell completion script (bash or zsh)",
        description="Print a completion script: eval \"$(pbxdiag completion bash)\" in "
                    "~/.bashrc, or pbxdiag completion zsh > ~/.zfunc/_pbxdiag "
                    "(docs/cli.md).")
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    completion.set_defaults(handler=_completion)


def _completion(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    print(shellcode(["pbxdiag"], shell=args.shell), end="")
    return EXIT_OK


def complete_if_asked(parser: argparse.ArgumentParser) -> None:
    """When the shell asks (``_ARGCOMPLETE`` set), print the candidates and exit; else
    return at once without importing argcomplete."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    attach_completers(parser)
    argcomplete.autocomplete(parser, always_complete_options=False)


def attach_completers(parser: argparse.ArgumentParser) -> None:
    """Give the arguments that name a site or a playbook their completer, by ``dest``:
    every command spells them the same way, so one rule covers today's and tomorrow's."""
    by_dest: dict[str, Completer] = {"site": site_ids, "sites": site_list,
                                     "playbook": playbooks, "scenario": scenarios}
    for action in _actions(parser):
        completer = by_dest.get(action.dest)
        if completer is not None:
            action.completer = completer  # type: ignore[attr-defined]


def _actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)
        else:
            yield action


def site_ids(prefix: str, parsed_args: argparse.Namespace | None = None,
             **_: Any) -> list[str]:
    """The site ids of the inventory in force that start with ``prefix``."""
    return [site for site in _sites(parsed_args) if site.startswith(prefix)]


def site_list(prefix: str, parsed_args: argparse.Namespace | None = None,
              **_: Any) -> list[str]:
    """``--sites a,b,<TAB>``: the last id of a comma-separated list, after those typed."""
    done, _comma, last = prefix.rpartition(",")
    head = f"{done}," if done else ""
    typed = set(done.split(",")) if done else set()
    return [head + site for site in _sites(parsed_args)
            if site.startswith(last) and site not in typed]


def _sites(parsed_args: argparse.Namespace | None) -> list[str]:
    """Never raises: any problem with the config or the inventory completes nothing."""
    try:
        from agent.config import resolve
        from agent.inventory import load_inventory

        given = getattr(parsed_args, "inventory", None)
        path = resolve("inventory", Path(given) if given is not None else None).value
        if not isinstance(path, Path):
            return []
        return sorted(load_inventory(path).sites)[:MAX_CANDIDATES]
    except Exception:  # completion must stay silent: the command itself reports it
        return []


def playbooks(prefix: str, **_: Any) -> list[str]:
    """Playbook files: the YAML files and folders at ``prefix`` (a user's own playbooks),
    and the playbooks shipped in the repository's ``playbooks/`` folder, shown relative to
    the current folder when they are under it (``playbooks/health-check.yaml``)."""
    try:
        return _playbooks(prefix)
    except Exception:  # an unreadable folder completes nothing, silently
        return []


def scenarios(prefix: str, **_: Any) -> list[str]:
    """``pbxdiag simulate <TAB>``: the shipped scenarios by name, and YAML files here."""
    try:
        from agent.paths import PROJECT_ROOT

        # read as files, not imported: only the simulate and demo commands load simulators
        shipped = sorted(PROJECT_ROOT.joinpath("simulators", "scenarios").glob("*.yaml"))
        names = [path.stem for path in shipped[:MAX_CANDIDATES] if path.stem.startswith(prefix)]
        return (names + _yaml_files(prefix))[:MAX_CANDIDATES]
    except Exception:  # completion stays silent
        return []


def _playbooks(prefix: str) -> list[str]:
    from agent.paths import SHIPPED_PLAYBOOKS

    found = _yaml_files(prefix)
    for shipped in sorted(SHIPPED_PLAYBOOKS.glob("*.yaml"))[:MAX_CANDIDATES]:
        found.append(_shown(shipped))
        found.append(shipped.stem)  # run and fleet take a shipped playbook by its name
    unique = dict.fromkeys(item for item in found if item.startswith(prefix))
    return list(unique)[:MAX_CANDIDATES]


def _yaml_files(prefix: str) -> list[str]:
    """The YAML files and the folders in the folder ``prefix`` names, as typed."""
    folder, slash, _name = prefix.rpartition("/")
    base = Path(os.path.expanduser(folder or slash)) if slash else Path()
    found: list[str] = []
    for entry in _listing(base):
        shown = f"{folder}/{entry.name}" if slash else entry.name
        if entry.is_dir():
            found.append(f"{shown}/")
        elif entry.suffix in (".yaml", ".yml"):
            found.append(shown)
    return [item for item in found if item.startswith(prefix)]


def _listing(base: Path) -> list[Path]:
    if not base.is_dir():
        return []
    entries: list[Path] = []
    for entry in base.iterdir():
        if len(entries) >= MAX_CANDIDATES:
            break
        if not entry.name.startswith("."):
            entries.append(entry)
    return sorted(entries)


def _shown(path: Path) -> str:
    """A shipped playbook as the user would type it from here."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
