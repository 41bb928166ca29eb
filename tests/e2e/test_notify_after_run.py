"""A run that opens a ticket mails the support team at once (real SMTP server)."""

from __future__ import annotations

from pathlib import Path

from tests.tickets.servers import smtp_server

from .conftest import Site

NOTIFICATIONS = """\
notifications:
  email:
    host: 127.0.0.1
    port: {port}
    from: pbxdiag@21plus.example
    to: [support@21plus.example]
    starttls: false
    timeout: 10
"""


def test_new_fault_is_mailed_during_the_run(faulty_site: Site, tmp_path: Path) -> None:
    with smtp_server() as mailbox:
        faulty_site.inventory.write_text(faulty_site.inventory.read_text()
                                         + NOTIFICATIONS.format(port=mailbox.port))
        run = faulty_site.run_health_check()
    assert run.returncode == 1, run.stderr
    assert "notified:  1 sent" in run.stdout
    (mail,) = mailbox.messages
    assert "P2 Major System Failure" in str(mail["Subject"])
    assert "Acme Ltd, Bolton" in str(mail["Subject"])
    assert str(mail["Message-ID"]).startswith("<FR-")
