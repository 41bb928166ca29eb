"""Per-site backup history: plain text files and a JSON-lines index, under the data dir.

Plain files rather than a git repository: a revision is one readable file an engineer can
copy to a USB stick in a plant room, the index says which run took it, and nothing but
the standard library is needed. A backup that programs the same as the site's latest (the
clock aside) is not stored again — a weekly pre-visit of an unchanged PBX adds nothing —
so every revision is a change.

Layout: ``<data>/backups/<site>/index.jsonl`` and ``<data>/backups/<site>/r<N>.txt``.
Writers take an ``flock`` on ``<site>/.lock``: a fleet run and a console session on the
same site append one after the other, never both as the same revision number.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.backups.compare import backup_format
from agent.errors import InputError

#: A PBX's programming dump is a few thousand lines; anything far bigger is not a backup.
MAX_BACKUP_BYTES = 8 * 1024 * 1024
#: Revisions read from one index (years of weekly backups fit many times over).
MAX_REVISIONS = 100_000
_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Revision:
    """One stored backup: its number (1, 2, ...), when and by which run it was taken."""

    number: int
    taken_at: datetime
    sha256: str  # of the settings, the clock left out: equal digests, same programming
    lines: int
    source: str  # "backup step", "before --apply", "console", ...
    run_id: str | None = None
    playbook: str | None = None
    vendor: str | None = None  # the driver that took it (its format decides the diff)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["taken_at"] = self.taken_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Revision:
        return cls(number=int(data["number"]), taken_at=datetime.fromisoformat(data["taken_at"]),
                   sha256=str(data["sha256"]), lines=int(data["lines"]),
                   source=str(data.get("source", "")), run_id=data.get("run_id"),
                   playbook=data.get("playbook"), vendor=data.get("vendor"))


class BackupHistory:
    """The backups of one site, oldest first."""

    def __init__(self, root: Path, site_id: str) -> None:
        if not _SITE_ID.fullmatch(site_id):
            raise InputError(f"site id {site_id!r} cannot name a backup folder")
        self.site_id = site_id
        self.folder = root / "backups" / site_id
        self._index = self.folder / "index.jsonl"

    # --- reading -------------------------------------------------------------------------

    def revisions(self) -> list[Revision]:
        if not self._index.exists():
            return []
        found: list[Revision] = []
        with self._index.open(encoding="utf-8") as index:
            for number, line in enumerate(index, start=1):
                if number > MAX_REVISIONS:
                    break
                if line.strip():
                    found.append(Revision.from_json(json.loads(line)))
        return found

    def latest(self) -> Revision | None:
        revisions = self.revisions()
        return revisions[-1] if revisions else None

    def resolve(self, spec: str) -> Revision:
        """A revision by number (``3``), from the end (``-1`` the latest, ``-2`` the one
        before) or ``latest``; a revision that does not exist is bad input."""
        revisions = self.revisions()
        if not revisions:
            raise InputError(f"site {self.site_id!r} has no backups yet (run a playbook with "
                             "a backup step, e.g. playbooks/pre-visit.yaml)")
        text = spec.strip().lower().removeprefix("r")
        if text == "latest":
            return revisions[-1]
        try:
            number = int(text)
        except ValueError:
            raise InputError(f"revision {spec!r}: give a number (1, 2, ...), -1 for the "
                             "latest, or 'latest'") from None
        if number < 0 and -number <= len(revisions):
            return revisions[number]
        for revision in revisions:
            if revision.number == number:
                return revision
        raise InputError(f"site {self.site_id!r} has no backup revision {spec!r} "
                         f"(revisions 1–{revisions[-1].number})")

    def text(self, revision: Revision) -> str:
        path = self._file(revision.number)
        if path.stat().st_size > MAX_BACKUP_BYTES:
            raise InputError(f"{path}: larger than {MAX_BACKUP_BYTES} bytes: not a backup")
        return path.read_text(encoding="utf-8")

    # --- writing -------------------------------------------------------------------------

    def store(self, text: str, *, source: str, run_id: str | None = None,
              playbook: str | None = None, vendor: str | None = None,
              taken_at: datetime | None = None) -> tuple[Revision, bool]:
        """Keep ``text`` as the next revision; (revision, True) when stored, or (the latest,
        False) when it is the same text as the latest."""
        data = text.encode("utf-8")
        if len(data) > MAX_BACKUP_BYTES:
            raise ValueError(f"backup of {len(data)} bytes is over {MAX_BACKUP_BYTES}")
        digest = settings_digest(text, vendor)
        with self._locked():
            latest = self.latest()
            if latest is not None and latest.sha256 == digest:
                return latest, False
            revision = Revision(number=(latest.number + 1) if latest else 1,
                                taken_at=taken_at or datetime.now(UTC), sha256=digest,
                                lines=len(text.splitlines()), source=source, run_id=run_id,
                                playbook=playbook, vendor=vendor)
            _write_atomically(self._file(revision.number), data)
            with self._index.open("a", encoding="utf-8") as index:
                index.write(json.dumps(revision.to_json(), sort_keys=True) + "\n")
                index.flush()
                os.fsync(index.fileno())
            return revision, True

    def _file(self, number: int) -> Path:
        return self.folder / f"r{number}.txt"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def history_for(data_dir: Path, site_id: str) -> BackupHistory:
    return BackupHistory(data_dir, site_id)


#: The run facts that hold a backup, in the order they were taken, with their source.
RUN_BACKUP_FACTS = (("backup_before_changes", "before --apply"), ("backup", "backup step"))


def store_run_backups(data_dir: Path, result: Any) -> list[Revision]:
    """Store the backups a run took (the one before ``--apply`` first); returns the
    revisions newly stored. ``result`` is a RunResult (typed loosely: any object with
    ``site``, ``run_id``, ``playbook`` and ``facts``)."""
    history = history_for(data_dir, result.site)
    stored: list[Revision] = []
    for fact, source in RUN_BACKUP_FACTS:
        text = result.facts.get(fact)
        if not isinstance(text, str) or not text.strip():
            continue
        revision, new = history.store(text, source=source, run_id=result.run_id,
                                      playbook=result.playbook, vendor=result.vendor)
        if new:
            stored.append(revision)
    return stored


def settings_digest(text: str, vendor: str | None) -> str:
    """A digest of what a backup programs: the clock line (which differs in every backup
    of an unchanged PBX) is left out, so two such backups are one revision."""
    if vendor is None:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    settings = backup_format(vendor).settings(text)
    canonical = "\n".join(f"{address}\t{value}" for address, value in sorted(settings.items()))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
