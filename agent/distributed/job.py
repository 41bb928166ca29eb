"""One job's message on the broker: ids, options and where to start — never a secret.

Anyone who can read the broker can read its messages, so a message names the site (the
worker reads the inventory and resolves the login from its own environment or files),
the playbook by path and content hash (a worker on another host with another version of
the file refuses the job instead of running something else), the run id assigned at
submission (what makes a re-run after a lost worker file nothing twice), the fleet id,
the run options, and — after another pool's paths failed — the attempts made so far.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from agent.result import PathAttempt

MAX_ATTEMPTS: Final = 64
MAX_PLAYBOOK_BYTES: Final = 4 * 1024 * 1024


class BadMessage(ValueError):
    """A message that is not one of ours (another version, or tampered with)."""


def playbook_hash(path: Path) -> str:
    """sha256 of the playbook file's bytes (what the worker checks it runs the same)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_PLAYBOOK_BYTES + 1)
    if len(data) > MAX_PLAYBOOK_BYTES:
        raise BadMessage(f"{path}: a playbook over {MAX_PLAYBOOK_BYTES} bytes")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class JobSpec:
    site_id: str
    playbook: str
    playbook_sha256: str
    run_id: str
    fleet_id: str
    apply: bool = False
    tags: tuple[str, ...] = ()
    extra_vars: dict[str, Any] = field(default_factory=dict)
    line_wait: float = 60.0
    #: The first path this hop tries (an index into the site's paths).
    start: int = 0
    attempts: tuple[PathAttempt, ...] = ()
    #: Seconds of the site's reach_timeout left for this hop (None: all of it).
    reach_left: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"v": 1, "site_id": self.site_id, "playbook": self.playbook,
                "playbook_sha256": self.playbook_sha256, "run_id": self.run_id,
                "fleet_id": self.fleet_id, "apply": self.apply, "tags": list(self.tags),
                "extra_vars": self.extra_vars, "line_wait": self.line_wait,
                "start": self.start, "reach_left": self.reach_left,
                "attempts": [{"url": a.url, "error": a.error, "reached": a.reached,
                              "pbx_silent": a.pbx_silent} for a in self.attempts]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSpec:
        try:
            if data.get("v") != 1:
                raise BadMessage(f"message version {data.get('v')!r}, expected 1")
            attempts = data.get("attempts") or []
            if len(attempts) > MAX_ATTEMPTS:
                raise BadMessage(f"over {MAX_ATTEMPTS} path attempts")
            return cls(site_id=str(data["site_id"]), playbook=str(data["playbook"]),
                       playbook_sha256=str(data["playbook_sha256"]),
                       run_id=str(data["run_id"]), fleet_id=str(data["fleet_id"]),
                       apply=bool(data.get("apply", False)),
                       tags=tuple(str(t) for t in data.get("tags") or ()),
                       extra_vars=dict(data.get("extra_vars") or {}),
                       line_wait=float(data.get("line_wait", 60.0)),
                       start=int(data.get("start", 0)),
                       reach_left=None if data.get("reach_left") is None
                       else float(data["reach_left"]),
                       attempts=tuple(PathAttempt(url=str(a["url"]), error=str(a["error"]),
                                                  reached=bool(a["reached"]),
                                                  pbx_silent=bool(a["pbx_silent"]))
                                      for a in attempts))
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, BadMessage):
                raise
            raise BadMessage(f"not a pbxdiag job message: {type(err).__name__}: {err}") from None
