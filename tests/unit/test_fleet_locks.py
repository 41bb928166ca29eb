"""One session per PBX and per modem line, whatever the fleet's concurrency."""

from __future__ import annotations

import threading

from agent.fleet import LineLocks
from agent.inventory import Site


def site(site_id: str, *paths: str) -> Site:
    return Site(id=site_id, customer="c", name="", vendor="panasonic", paths=paths)


def test_keys_name_the_pbx_and_each_modem_line_in_a_fixed_order() -> None:
    locks = LineLocks()
    assert locks.keys_for(site("b", "ssh://x@h:22", "modem:///dev/ttyUSB0?number=1")) == [
        "modem:/dev/ttyUSB0", "site:b"]


def test_two_sites_sharing_a_modem_take_turns() -> None:
    locks = LineLocks()
    first = site("a", "modem:///dev/ttyUSB0?number=1")
    second = site("b", "ssh://x@h:22", "modem:///dev/ttyUSB0?number=2")
    other = site("c", "modem:///dev/ttyUSB1?number=3")
    entered = {name: threading.Event() for name in ("second", "other")}

    def use(target: Site, name: str) -> None:
        with locks.holding(target):
            entered[name].set()

    with locks.holding(first):
        waiting = threading.Thread(target=use, args=(second, "second"))
        free = threading.Thread(target=use, args=(other, "other"))
        waiting.start()
        free.start()
        assert entered["other"].wait(5)  # another modem line is not held up
        assert not entered["second"].wait(0.2)  # the shared line is
    assert entered["second"].wait(5)
    waiting.join(5)
    free.join(5)
