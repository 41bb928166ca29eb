"""The board's security over real HTTP: ``pbxdiag serve`` in a subprocess, httpx as client."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from agent.tickets.register import Register
from tests.board.conftest import (
    PASSWORDS,
    SECRET,
    Server,
    csrf_of,
    pbxdiag,
    start_server,
)


def audit(server: Server, ref: str) -> list[tuple[str, str, str]]:
    with Register(server.db) as reg:
        return [(a.who, a.action, a.detail) for a in reg.audit(ref)]


def state(server: Server, ref: str) -> str:
    with Register(server.db) as reg:
        return reg.get(ref).state


def test_nothing_is_visible_without_logging_in(server: Server) -> None:
    ref = server.seeded.xss
    with server.client() as client:
        for path in ("/", f"/tickets/{ref}", "/?priority=P1"):
            response = client.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == "/login"
        assert ref not in client.get("/", follow_redirects=True).text
        assert client.get("/board/rows").status_code == 401
        for path in ("/api/tickets", f"/api/tickets/{ref}"):
            response = client.get(path)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert ref not in response.text
        posted = client.post(f"/tickets/{ref}/note", data={"text": "x"})
        assert posted.status_code == 303 and posted.headers["location"] == "/login"
    assert not [a for a in audit(server, ref) if a[1] == "note"]


def test_session_cookie_is_httponly_and_samesite_and_the_page_has_a_csp(server: Server) -> None:
    with server.client() as client:
        page = client.get("/login")
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" not in cookie  # plain HTTP on loopback: a Secure cookie never returns
        csp = page.headers["content-security-policy"]
        assert "script-src 'nonce-" in csp and "unsafe-inline" not in csp
        assert page.headers["x-frame-options"] == "DENY"


def test_a_wrong_password_is_refused_and_logins_are_rate_limited(server: Server) -> None:
    with server.client() as client:
        csrf = csrf_of(client.get("/login").text)
        for _ in range(5):
            wrong = client.post("/login", data={"csrf": csrf, "name": "victim",
                                                "password": "guess-guess"})
            assert wrong.status_code == 401
        right = client.post("/login", data={"csrf": csrf, "name": "victim",
                                            "password": PASSWORDS["victim"]})
        assert right.status_code == 429
        assert "Too many failed logins" in right.text
    # another user from the same address is not locked out by victim's attacker
    with server.login("dora"):
        pass


def test_logins_failures_and_logouts_are_logged_without_the_password(server: Server) -> None:
    log = server.workdir / "board.log"
    with server.client() as client:
        csrf = csrf_of(client.get("/login").text)
        client.post("/login", data={"csrf": csrf, "name": "dora", "password": "not-hers-1"})
    with server.login("dora") as client:
        csrf = csrf_of(client.get("/").text)
        assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    events = [json.loads(line) for line in log.read_text().splitlines()]
    mine = [(e["event"], e.get("user")) for e in events if e.get("user") == "dora"]
    assert ("board login failed", "dora") in mine
    assert mine[-2:] == [("board login", "dora"), ("board logout", "dora")]
    assert all(e["client"] == "127.0.0.1" for e in events if e.get("user") == "dora")
    assert "not-hers-1" not in log.read_text() and PASSWORDS["dora"] not in log.read_text()


def test_a_login_without_its_csrf_token_is_refused(server: Server) -> None:
    with server.client() as client:
        client.get("/login")
        response = client.post("/login", data={"name": "erin", "password": PASSWORDS["erin"]})
        assert response.status_code == 403
        assert client.get("/").status_code == 303


def test_a_form_without_its_csrf_token_is_refused(server: Server) -> None:
    ref = server.seeded.holiday
    with server.login("erin") as client:
        before = audit(server, ref)
        for data in ({"text": "no token"}, {"text": "wrong token", "csrf": "forged"}):
            response = client.post(f"/tickets/{ref}/note", data=data)
            assert response.status_code == 403
            assert "security token" in response.text
        assert client.post(f"/tickets/{ref}/resolve",
                           data={"how": "remote"}).status_code == 403
        assert audit(server, ref) == before
        assert state(server, ref) == "logged"


def test_a_chunked_form_is_read_with_the_same_size_limit(server: Server) -> None:
    """No Content-Length to refuse up front: the body is counted as it arrives."""
    from agent.board.app import MAX_FORM_BYTES

    ref = server.seeded.holiday
    with server.login("erin") as client:
        csrf = csrf_of(client.get(f"/tickets/{ref}").text)
        headers = {"content-type": "application/x-www-form-urlencoded"}

        def chunked(text: str) -> Iterator[bytes]:  # a generator: httpx sends it chunked
            body = f"csrf={csrf}&text={text}".encode()
            for start in range(0, len(body), 4096):
                yield body[start:start + 4096]

        huge = client.post(f"/tickets/{ref}/note", headers=headers,
                           content=chunked("x" * (MAX_FORM_BYTES + 1)))
        assert huge.status_code == 403  # an empty form: no token
        small = client.post(f"/tickets/{ref}/note", headers=headers,
                            content=chunked("sent+in+chunks"))
        assert small.status_code == 303
    notes = [a[2] for a in audit(server, ref) if a[1] == "note"]
    assert notes == ["sent in chunks"]


def test_a_desk_user_may_note_but_not_resolve_or_change_status(server: Server) -> None:
    ref = server.seeded.holiday
    with server.login("dora") as client:
        page = client.get(f"/tickets/{ref}")
        assert 'id="resolve-form"' not in page.text and 'id="note-form"' in page.text
        csrf = csrf_of(page.text)
        for action, data in (("resolve", {"how": "remote"}),
                             ("status", {"state": "remote_diagnosis"}),
                             ("book-visit", {"date": "2026-12-31", "engineer": "Eve"}),
                             ("escalate", {})):
            response = client.post(f"/tickets/{ref}/{action}", data={**data, "csrf": csrf})
            assert response.status_code == 403, action
        assert state(server, ref) == "logged"
        note = client.post(f"/tickets/{ref}/note", data={"csrf": csrf, "text": "rang Bolt"})
        assert note.status_code == 303
    assert ("dora", "note", "rang Bolt") in audit(server, ref)


def test_an_engineer_resolves_through_the_register_with_their_name(server: Server) -> None:
    ref = server.seeded.gold
    with server.login("erin") as client:
        csrf = csrf_of(client.get(f"/tickets/{ref}").text)
        # the lifecycle's own refusal comes back as the CLI words it
        bad = client.post(f"/tickets/{ref}/status", data={"csrf": csrf, "state": "closed"})
        assert bad.status_code == 400 and "cannot go from logged to closed" in bad.text
        # cancelling is an admin's decision
        assert client.post(f"/tickets/{ref}/status",
                           data={"csrf": csrf, "state": "cancelled"}).status_code == 403
        done = client.post(f"/tickets/{ref}/resolve",
                           data={"csrf": csrf, "how": "remote", "note": "reset card"})
        assert done.status_code == 303
        assert ref not in client.get("/").text  # no longer open: off the board
    assert state(server, ref) == "resolved_remotely"
    trail = audit(server, ref)
    assert ("erin", "state_changed") in [(who, action) for who, action, _ in trail]
    assert all(who in ("pbxdiag", "erin") for who, _, _ in trail)


def test_api_with_session_and_with_a_revocable_bearer_token(server: Server) -> None:
    with server.login("dora") as client:
        listed = client.get("/api/tickets").json()["tickets"]
        dues = [t["next_deadline"]["at"] for t in listed if t["next_deadline"]]
        assert dues == sorted(dues, key=datetime.fromisoformat)
        one = client.get(f"/api/tickets/{server.seeded.xss}").json()
        assert one["ticket"]["ref"] == server.seeded.xss
        assert client.get("/api/tickets/FR-1999-000001").status_code == 404
    made = pbxdiag("users", "token", "erin", "--users", str(server.users))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    with server.client() as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/tickets", headers=auth).status_code == 200
        assert client.get("/api/tickets",
                          headers={"Authorization": f"Bearer {token}x"}).status_code == 401
        assert client.get("/", headers=auth).status_code == 303  # tokens are for the API
        token_id = token.split("_")[1]
        assert token not in server.users.read_text()  # only its hash is kept
        revoked = pbxdiag("users", "token", "--revoke", token_id, "--users", str(server.users))
        assert revoked.returncode == 0, revoked.stderr
        assert client.get("/api/tickets", headers=auth).status_code == 401


def test_pbx_and_customer_text_is_escaped_and_no_inventory_secret_is_shown(
        server: Server) -> None:
    with server.login("adam") as client:
        board = client.get("/").text
        ticket = client.get(f"/tickets/{server.seeded.xss}").text
        api = client.get("/api/tickets").text + client.get(f"/api/tickets/{server.seeded.xss}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ticket
    assert "<script>alert" not in ticket and "<b>bold</b>" not in ticket
    assert "customer &lt;Ltd&gt;" in board
    # the inventory's window shows (escaped); its credentials never do
    assert "Maintenance: <strong>acme-leeds</strong>" in board
    assert "swapping the &lt;b&gt;EXT&lt;/b&gt; card" in board
    for text in (board, ticket, api):
        assert SECRET not in text and "INSTALLERX" not in text and "leeds.pw" not in text


def test_users_cli_refuses_bad_input_with_exit_2(tmp_path: Path) -> None:
    users = str(tmp_path / "u.yaml")
    short = pbxdiag("users", "add", "bob", "--role", "desk", "--password-stdin",
                    "--users", users, stdin="short\n")
    assert short.returncode == 2 and "password needs" in short.stderr
    bad = pbxdiag("users", "add", "../bob", "--role", "desk", "--password-stdin",
                  "--users", users, stdin="long-enough-1\n")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    nobody = pbxdiag("users", "token", "ghost", "--users", users)
    assert nobody.returncode == 2 and "no board user 'ghost'" in nobody.stderr


def test_serve_refuses_bad_options_before_listening(tmp_path: Path) -> None:
    for args, message in ((["--bind", "nowhere"], "--bind"),
                          (["--certfile", str(tmp_path / "c.pem")], "go together")):
        done = pbxdiag("serve", "--db", str(tmp_path / "t.db"), *args)
        assert done.returncode == 2 and message in done.stderr


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


def test_under_tls_the_session_cookie_is_secure(server: Server, tmp_path: Path) -> None:
    certfile, keyfile = _self_signed(tmp_path)
    url, process = start_server(tmp_path, server.db, server.users,
                                "--certfile", str(certfile), "--keyfile", str(keyfile))
    try:
        with httpx.Client(base_url=url, verify=False, timeout=10) as client:
            cookie = client.get("/login").headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("path", ["/tickets/FR-1999-000001"])
def test_an_unknown_ticket_is_a_404_page(server: Server, path: str) -> None:
    with server.login("dora") as client:
        response = client.get(path)
    assert response.status_code == 404 and "No ticket" in response.text


def test_filters_and_the_refresh_fragment(server: Server) -> None:
    with server.login("dora") as client:
        only_p1 = client.get("/?priority=P1").text
        fragment = client.get("/board/rows?contract=gold").text
    assert server.seeded.recent in only_p1 and server.seeded.xss not in only_p1
    assert 'data-rows="/board/rows?priority=P1&amp;page=1"' in only_p1
    assert "5 open; page 1 of 1" not in only_p1 and "1 open; page 1 of 1" in only_p1
    assert "<html" not in fragment
    with server.login("dora") as client:
        by_eve = client.get("/?engineer=eve").text
    assert server.seeded.xss not in by_eve  # nobody booked to visit that one
    assert server.seeded.recent not in fragment


def test_an_engineer_puts_the_site_in_maintenance_and_a_desk_user_may_not(
        server: Server) -> None:
    ref = server.seeded.xss
    with server.login("dora") as client:
        csrf = csrf_of(client.get(f"/tickets/{ref}").text)
        assert client.post(f"/tickets/{ref}/maintenance", data={
            "csrf": csrf, "until": "2h", "reason": "card swap"}).status_code == 403
    with server.login("erin") as client:
        csrf = csrf_of(client.get(f"/tickets/{ref}").text)
        bad = client.post(f"/tickets/{ref}/maintenance",
                          data={"csrf": csrf, "until": "soon", "reason": "card swap"})
        assert bad.status_code == 400 and "not a duration" in bad.text
        done = client.post(f"/tickets/{ref}/maintenance",
                           data={"csrf": csrf, "until": "2h", "reason": "card <swap>"})
        assert done.status_code == 303
        assert "Maintenance: <strong>xss-site</strong>" in client.get("/").text
    with Register(server.db) as reg:
        (window,) = reg.maintenance_windows(site_id="xss-site")
    assert (window.set_by, window.reason) == ("erin", "card <swap>")


def test_the_stats_page_counts_per_contract_and_week(server: Server) -> None:
    with server.client() as client:
        assert client.get("/stats").status_code == 303
    with server.login("dora") as client:
        page = client.get("/stats").text
        since = client.get("/stats?since=2026-08-01").text
    assert "<td>gold</td>" in page and "<td>standard</td>" in page
    assert "2026-04-20" in page  # the Monday of the Friday 17:25 ticket's week
    assert "2026-04-20" not in since and "2026-08-31" in since


def test_only_an_admin_manages_users_and_tokens_on_the_board(server: Server) -> None:
    with server.login("erin") as client:
        assert client.get("/admin").status_code == 403
        csrf = csrf_of(client.get("/").text)
        assert client.post("/admin/add", data={"csrf": csrf, "name": "mallory", "role":
                                               "admin", "password": "x" * 12}).status_code == 403
    with server.login("adam") as client:
        page = client.get("/admin")
        assert page.status_code == 200 and "$argon2" not in page.text
        csrf = csrf_of(page.text)
        assert client.post("/admin/add", data={"name": "newbie", "role": "desk",
                                               "password": "newbie-pass-1"}).status_code == 403
        added = client.post("/admin/add", data={"csrf": csrf, "name": "newbie",
                                                "role": "desk", "password": "newbie-pass-1"})
        assert added.status_code == 303
        made = client.post("/admin/token", data={"csrf": csrf, "name": "newbie"})
        token = made.text.split('id="new-token">')[1].split("<")[0]
        bearer = {"Authorization": f"Bearer {token}"}
        with server.client() as anonymous:
            assert anonymous.get("/api/tickets", headers=bearer).status_code == 200
            revoked = client.post("/admin/revoke", data={"csrf": csrf,
                                                         "token": token.split("_")[1]})
            assert revoked.status_code == 303
            assert anonymous.get("/api/tickets", headers=bearer).status_code == 401
    assert "mallory" not in server.users.read_text()
    listed = pbxdiag("users", "list", "--users", str(server.users))
    assert "newbie" in listed.stdout and "desk" in listed.stdout
    PASSWORDS["newbie"] = "newbie-pass-1"
    try:
        with server.login("newbie") as client:
            assert client.get("/").status_code == 200
    finally:
        del PASSWORDS["newbie"]


def test_the_sites_page_shows_each_sites_last_run_and_the_runs_in_progress(
        server: Server) -> None:
    from datetime import UTC, datetime, timedelta

    from agent.tickets.storage.runs import RunLog

    now = datetime.now(UTC)
    with RunLog(server.db) as log:
        log.started(run_id="r-old", site_id="mill-<b>x</b>", playbook="Health check",
                    at=now - timedelta(days=1))
        log.finished(run_id="r-old", at=now - timedelta(days=1), status="failed",
                     exit_code=1, path="modem:///dev/ttyS0?number=599")
        log.started(run_id="r-now", site_id="mill-<b>x</b>", playbook="Pre-visit", at=now,
                    fleet_id="fleet-nightly")
        log.started(run_id="r-two", site_id="quay", playbook="Health check", at=now,
                    fleet_id="fleet-nightly")
    with server.client() as anonymous:
        assert anonymous.get("/sites").status_code == 303  # login first
    with server.login("dora") as client:
        page = client.get("/sites").text
    assert "fleet-nightly</td><td>2 runs not finished" in page
    assert "mill-&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page  # escaped
    assert "Pre-visit" in page and "running" in page  # the last run is the one going on
    assert "✗" in page  # yesterday's failed run in the history strip


def test_only_an_admin_merges_a_duplicate_and_both_trails_say_so(server: Server) -> None:
    from datetime import UTC, datetime

    from agent.tickets.sla import Contract

    from .conftest import classification

    now = datetime.now(UTC)
    with Register(server.db) as reg:
        refs = [reg.record_fault(
            site_id="dup-site", customer="Dup Ltd",
            classification=classification("P3", sig, evidence=(f"{sig} down",),
                                          summary=f"{sig} fault"),
            contract=Contract(name="standard"), run_id=f"run-dup-{sig}", now=now,
            playbook="health-check").ticket.ref for sig in ("old-sig", "new-sig")]
    duplicate, kept = refs
    with server.login("erin") as client:
        page = client.get(f"/tickets/{duplicate}").text
        assert 'id="merge-form"' not in page  # an engineer does not merge
        refused = client.post(f"/tickets/{duplicate}/merge",
                              data={"csrf": csrf_of(page), "into": kept})
        assert refused.status_code == 403
    with server.login("adam") as client:
        page = client.get(f"/tickets/{duplicate}").text
        assert 'id="merge-form"' in page
        done = client.post(f"/tickets/{duplicate}/merge",
                           data={"csrf": csrf_of(page), "into": kept})
        assert done.status_code == 303
    assert state(server, duplicate) == "cancelled" and state(server, kept) == "logged"
    assert ("adam", "merged_into", kept) in audit(server, duplicate)
    assert any(who == "adam" and action == "merged_from" and detail.startswith(duplicate)
               for who, action, detail in audit(server, kept))


def test_a_ticket_links_its_sites_pre_visit_pack_and_backup_diff(server: Server) -> None:
    from agent.backups import history_for

    data = server.workdir / "data"
    (data / "packs").mkdir(parents=True, exist_ok=True)
    (data / "packs" / "acme-bolton-pre-visit.html").write_text("<html>the pack</html>")
    history = history_for(data, "acme-bolton")
    history.store('004 201 = "Reception"\n', source="backup step", vendor="panasonic")
    history.store('004 201 = "Front Desk"\n', source="backup step", vendor="panasonic")
    with server.client() as anonymous:
        assert anonymous.get("/sites/acme-bolton/pack").status_code == 303  # login first
    with server.login("dora") as client:
        page = client.get(f"/tickets/{server.seeded.friday}").text  # acme-bolton's ticket
        assert 'id="pack-link"' in page and 'id="backup-diff-link"' in page
        pack = client.get("/sites/acme-bolton/pack")
        assert pack.status_code == 200 and pack.text == "<html>the pack</html>"
        assert "attachment" in pack.headers["content-disposition"]
        diff = client.get("/sites/acme-bolton/backups").text
        assert '-004 201 = "Reception"' in diff and '+004 201 = "Front Desk"' in diff
        other = client.get(f"/tickets/{server.seeded.holiday}").text  # bolt-mill: none
        assert 'id="pack-link"' not in other
        assert client.get("/sites/bolt-mill/pack").status_code == 404
        assert client.get("/sites/..%2F..%2Fetc/pack").status_code == 404
