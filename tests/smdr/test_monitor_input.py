"""The desk's own mistakes in ``smdr_link`` and on the command line: exit 2, located."""

from __future__ import annotations

from tests.smdr.conftest import Bench


def test_a_link_without_a_password_is_bad_input_at_its_line(bench: Bench) -> None:
    bench.inventory.write_text(
        "sites:\n  bolton:\n    customer: Acme\n    vendor: panasonic\n"
        "    paths: [\"tcp://127.0.0.1:1\"]\n    smdr_link: {url: \"tcp://127.0.0.1:2300\"}\n")
    done = bench.pbxdiag("smdr", "monitor", "--inventory", str(bench.inventory), "--db",
                         str(bench.db))
    assert done.returncode == 2
    assert f"{bench.inventory}:6:" in done.stderr
    assert "needs password_env or password_file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_scheme_and_an_unmonitored_site(bench: Bench) -> None:
    bench.inventory.write_text(
        "sites:\n  bolton:\n    customer: Acme\n    vendor: panasonic\n"
        "    paths: [\"tcp://127.0.0.1:1\"]\n    smdr_link: {url: \"ssh://pbx:22\"}\n"
        "  leeds:\n    customer: Acme\n    vendor: toshiba\n    paths: [\"tcp://127.0.0.1:1\"]\n")
    done = bench.pbxdiag("smdr", "monitor", "--inventory", str(bench.inventory))
    assert done.returncode == 2 and f"{bench.inventory}:6:" in done.stderr
    bench.inventory.write_text(
        "sites:\n  leeds:\n    customer: Acme\n    vendor: toshiba\n"
        "    paths: [\"tcp://127.0.0.1:1\"]\n")
    done = bench.pbxdiag("smdr", "monitor", "--inventory", str(bench.inventory),
                         "--sites", "leeds")
    assert done.returncode == 2 and "has no smdr_link" in done.stderr


def test_single_client_sites_are_left_alone(bench: Bench) -> None:
    bench.inventory.write_text(
        "sites:\n  bolton:\n    customer: Acme\n    vendor: panasonic\n"
        "    paths: [\"tcp://127.0.0.1:1\"]\n"
        "    smdr_link: {url: \"tcp://127.0.0.1:2300\", login: none, single_client: true}\n")
    done = bench.pbxdiag("smdr", "monitor", "--inventory", str(bench.inventory), "--db",
                         str(bench.db))
    assert done.returncode == 2
    assert "bolton: left alone (single SMDR client" in done.stderr
    assert "no site to monitor" in done.stderr


def test_calls_since_must_be_a_date_or_an_age(bench: Bench) -> None:
    done = bench.pbxdiag("smdr", "calls", "--site", "bolton", "--db", str(bench.db),
                         "--since", "yesterday")
    assert done.returncode == 2 and "--since" in done.stderr
