"""One site's SMDR items into the register: re-reads dropped, new items stored, alarms filed.

The order is what makes a SIGKILL harmless: items are stored (with the committed
position) in one transaction *before* anything is filed from them, and an alarm line is
marked filed only after its ticket change committed. Killed between the two, the next
start files the unmarked lines — with the same run id, so the register adds nothing
twice. Killed before the store, nothing of the batch is kept and the PBX's buffer,
re-read on the next connection, brings it back (``align`` then drops what *was* kept).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from agent.inventory import Site
from agent.smdr.alarms import file_alarm
from agent.smdr.align import TAIL, Aligner
from agent.smdr.masking import mask_item
from agent.smdr.reader import Item, StreamReader
from agent.tickets.register import Register
from agent.tickets.storage.smdr import NewItem, SmdrLog

log = structlog.get_logger(__name__)


class SiteIngest:
    """The site's current connection: its reader, its aligner, and where items go."""

    def __init__(self, site: Site, smdr_log: SmdrLog, register: Register, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.site = site
        self._log = smdr_log
        self._register = register
        self._clock = clock
        self._reader: StreamReader | None = None
        self._aligner: Aligner[Item] | None = None
        self.connection = 0
        self.stored = 0
        self._replay_over = False

    def _mask(self, item: Item) -> Item:
        link = self.site.smdr_link
        return mask_item(item) if link is not None and link.mask_dialled else item

    def prune(self) -> None:
        """Call records past the site's retention go (at each connection and heartbeat)."""
        link = self.site.smdr_link
        if link is not None:
            gone = self._log.prune(self.site.id,
                                   before=self._clock() - timedelta(days=link.retention_days))
            if gone:
                log.info("smdr.pruned", site=self.site.id, records=gone,
                         retention_days=link.retention_days)

    def begin(self) -> None:
        """A connection is streaming: number it and read the tail it is matched against."""
        self.prune()
        self.connection, _ = self._log.begin_connection(self.site.id, now=self._clock())
        self._replay_over = False
        self._reader = StreamReader(self.site.vendor, _options(self.site))
        self._aligner = Aligner(self._log.tail(self.site.id, TAIL), key=lambda i: i.raw)
        self.file_pending()

    def lines(self, lines: list[str], *, quiet: bool = False) -> int:
        """Feed complete lines (``quiet``: the line fell quiet); returns items stored."""
        if self._reader is None or self._aligner is None:
            return 0
        new: list[Item] = []
        for item in self._reader.feed(lines, final=quiet):
            new += self._aligner.offer(self._mask(item))
        if quiet:
            new += self._aligner.settle()
        if not new:
            if quiet:
                self._replayed()
            return 0
        stored = self._log.append(self.site.id, [NewItem(i.kind, i.raw, i.at, i.data)
                                                 for i in new],
                                  connection=self.connection, now=self._clock())
        self.stored += len(stored)
        log.info("smdr.stored", site=self.site.id, items=len(stored),
                 position=stored[-1].pos, connection=self.connection,
                 reread=self._aligner.reread)
        if any(s.kind == "alarm" for s in stored):
            self.file_pending()
        if quiet:
            self._replayed()
        return len(stored)

    def _replayed(self) -> None:
        """The line fell quiet: the PBX's buffer replay is over, and with it the chance
        that a 510 in it was the PBX noting the monitor's own reconnect."""
        if not self._replay_over:
            self._replay_over = True
            self._log.take_excuse(self.site.id, self.connection)

    def end(self) -> None:
        """The connection ended: lines it held are stored when they are known to be new;
        a match still undecided is dropped — so far it equals what is stored, and the
        next connection re-reads it from the PBX's buffer if it was more."""
        if self._reader is not None and self._aligner is not None:
            new: list[Item] = []
            for item in self._reader.feed([], final=True):
                new += self._aligner.offer(self._mask(item))
            if new and self._aligner.decided:
                self._log.append(self.site.id, [NewItem(i.kind, i.raw, i.at, i.data)
                                                for i in new],
                                 connection=self.connection, now=self._clock())
        self._reader = None
        self._aligner = None

    def file_pending(self) -> None:
        """File every stored alarm line not yet filed (the last run's too, after a kill)."""
        for item in self._log.unfiled_alarms(self.site.id):
            how = file_alarm(self._register, self._log, self.site, item, now=self._clock())
            log.info("smdr.alarm", site=self.site.id, position=item.pos, code=item.data.get("code"),
                     filed=how)

    @property
    def layout(self) -> str:
        return self._reader.layout if self._reader is not None else ""


def _options(site: Site) -> Any:
    """The layout the site pins (``smdr:`` in the inventory, read defensively: that key
    is added by another change), as ``SmdrOptions``."""
    from drivers.smdr import SmdrOptions

    pinned = getattr(site, "smdr", None)
    if isinstance(pinned, SmdrOptions):
        return pinned
    if isinstance(pinned, dict):
        return SmdrOptions(layout=pinned.get("layout"), date_order=pinned.get("date_order"),
                           time=pinned.get("time"))
    return SmdrOptions()
