"""YAML file → validated :class:`Playbook`, or a ``PlaybookError`` pointing at the line.

The steps, each in its own module: compose the YAML with positions
(:mod:`~agent.playbook.source`), check the plain data against the published schema and
reword each error at its node (:mod:`~agent.playbook.schema_errors`), then build the
model with the semantic checks the schema cannot express
(:mod:`~agent.playbook.building`). A bad file never gives a traceback: every problem,
YAML syntax included, becomes a located ``PlaybookError`` — in the file it is in, which
for a problem inside an included playbook is that file.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.errors import PlaybookError
from agent.playbook.building import build_playbook
from agent.playbook.includes import Includes
from agent.playbook.model import Playbook
from agent.playbook.schema import validator
from agent.playbook.schema_errors import schema_problems
from agent.playbook.source import compose, decode, raise_if


def load_playbook(path: str | os.PathLike[str]) -> Playbook:
    """Read, validate and compile a playbook file (and every file it includes)."""
    shown = os.fspath(path)
    return _load(shown, Includes(root=Path(shown).resolve().parent, chain=(), load=_load))


def parse_playbook(text: str, *, path: str | None = None) -> Playbook:
    """Validate and compile playbook text (``path`` labels the errors and anchors includes)."""
    base = Path(path).resolve().parent if path else Path.cwd()
    chain = (Path(path).resolve(),) if path else ()
    return _parse(text, path, Includes(root=base, chain=chain, load=_load))


def _load(shown: str, includes: Includes) -> Playbook:
    try:
        raw = Path(shown).read_bytes()
    except OSError as exc:
        raise PlaybookError(f"cannot read playbook: {exc.strerror or exc}", path=shown) from None
    return _parse(decode(raw, shown), shown, includes.below(Path(shown).resolve()))


def _parse(text: str, path: str | None, includes: Includes) -> Playbook:
    try:
        doc = compose(text, path)
        raise_if(schema_problems(doc, validator()), path)
        return build_playbook(doc, includes)
    except RecursionError:
        raise PlaybookError("the playbook nests too deeply (or has a recursive YAML anchor)",
                            path=path, line=1, column=1) from None
