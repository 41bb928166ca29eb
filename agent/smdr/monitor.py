"""``pbxdiag smdr monitor``: a collector thread per site, until SIGTERM (or Ctrl-C).

The main thread only waits: for the stop event, which the SIGTERM/SIGINT handler sets
(a handler that only sets an event is safe at any moment — it never interrupts a
transaction half-way). Each collector then leaves its read within ``READ_SLICE``, the
threads are joined with a deadline, the register is closed and the process exits 0.
A SIGKILL skips all of that; ``ingest`` is ordered so that costs nothing (docs/smdr.md).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Final

import structlog

from agent.errors import InputError
from agent.inventory import Inventory, Site
from agent.smdr.collector import Collector
from agent.smdr.confirm import Confirmer, SignalWatch
from agent.smdr.ingest import SiteIngest
from agent.tickets.register import Register
from agent.tickets.storage.location import RegisterLocation
from agent.tickets.storage.smdr import SmdrLog

log = structlog.get_logger(__name__)

JOIN_DEADLINE: Final = 10.0  # seconds for every collector to finish after a stop
MAX_SITES: Final = 1000  # collector threads one monitor runs
HEARTBEAT: Final = 300.0  # seconds between "still collecting" log lines
SIGNAL_EVERY: Final = 60.0  # seconds between checks of the sites' signals


@dataclass(frozen=True, slots=True)
class Selection:
    """The sites to collect from, and those left alone with why."""

    sites: tuple[Site, ...]
    skipped: tuple[tuple[str, str], ...]


def select_sites(inventory: Inventory, wanted: Sequence[str] | None) -> Selection:
    """The sites with an SMDR link (of ``wanted``, if given); bad input is raised."""
    names = list(wanted) if wanted else sorted(inventory.sites)
    chosen: list[Site] = []
    skipped: list[tuple[str, str]] = []
    for name in names:
        site = inventory.site(name)
        link = site.smdr_link
        if link is None:
            if wanted:
                raise InputError(f"--sites: site {name!r} has no smdr_link in the inventory")
            continue
        site.check()  # only the sites collected from: another site's problem is its own
        if link.single_client:
            skipped.append((name, "single SMDR client, used by the customer's call logger"))
            continue
        chosen.append(site)
    if len(chosen) > MAX_SITES:
        raise InputError(f"--sites: at most {MAX_SITES} sites per monitor ({len(chosen)} "
                         "have an smdr_link): run several monitors with --sites")
    return Selection(tuple(chosen), tuple(skipped))


def run_monitor(sites: Iterable[Site], db: RegisterLocation, *, stop: threading.Event | None = None,
                confirmer: Confirmer | None = None, signal_every: float = SIGNAL_EVERY,
                clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Collect until stopped; returns the exit code (0 on a clean stop).

    With a ``confirmer`` the main thread also checks every site's signals each
    ``signal_every`` seconds; a site's checks (and the confirming run they may start) run
    in one thread per site at a time, so a long run never delays the other sites.
    ``clock`` (UTC now) is the signals' clock, injected by tests."""
    stop = stop or threading.Event()
    previous = _install_handlers(stop)
    try:
        with SmdrLog(db) as smdr_log, Register(db) as register:
            threads = []
            watches: list[SignalWatch] = []
            started = clock()
            for site in sites:
                assert site.smdr_link is not None
                collector = Collector(site, site.smdr_link,
                                      SiteIngest(site, smdr_log, register), stop)
                thread = threading.Thread(target=collector.run, name=f"smdr-{site.id}",
                                          daemon=True)
                thread.start()
                threads.append(thread)
                if confirmer is not None:
                    watches.append(SignalWatch(site, smdr_log, started, confirmer.confirm))
            log.info("smdr.monitor_started", sites=len(threads), db=str(db),
                     signals=confirmer is not None)
            checking: dict[str, threading.Thread] = {}
            alive_at = time.monotonic()
            while not stop.wait(signal_every if watches else HEARTBEAT):
                _check_signals(watches, checking, clock)
                if time.monotonic() - alive_at >= HEARTBEAT or not watches:
                    alive_at = time.monotonic()
                    log.info("smdr.monitor_alive", sites=len(threads),
                             collecting=sum(t.is_alive() for t in threads))
            log.info("smdr.monitor_stopping")
            for thread in [*threads, *checking.values()]:
                thread.join(JOIN_DEADLINE / max(len(threads), 1) + 1.0)
            left = [t.name for t in threads if t.is_alive()]
            if left:
                log.warning("smdr.monitor_threads_left", threads=left)
        log.info("smdr.monitor_stopped")
        return 0
    finally:
        _restore_handlers(previous)


def _check_signals(watches: list[SignalWatch], checking: dict[str, threading.Thread],
                   clock: Callable[[], datetime]) -> None:
    """Start each site's signal check unless its last one (and its run) is still going."""
    for watch in watches:
        busy = checking.get(watch.site.id)
        if busy is not None and busy.is_alive():
            continue
        thread = threading.Thread(target=_check_one, args=(watch, clock()), daemon=True,
                                  name=f"smdr-signals-{watch.site.id}")
        checking[watch.site.id] = thread
        thread.start()


def _check_one(watch: SignalWatch, now: datetime) -> None:
    try:
        watch.check(now)
    except Exception as err:  # a check that fails must not end the site's monitoring
        log.error("smdr.signal_check_failed", site=watch.site.id,
                  error=f"{type(err).__name__}: {err}")


_Handler = signal.Handlers | int | None | object


def _install_handlers(stop: threading.Event) -> dict[int, _Handler]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, _Handler] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_handlers(previous: dict[int, _Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]
