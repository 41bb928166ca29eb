"""`pbxdiag sites keyscan` against the simulator's SSH server (issue 19)."""

from __future__ import annotations

from .conftest import Site


def test_keyscan_records_the_key_only_when_confirmed_then_the_run_works(
        healthy_site: Site) -> None:
    known_hosts = healthy_site.workdir / "known_hosts"
    expected = healthy_site.endpoint.known_hosts_line().strip()
    known_hosts.unlink()
    refused = healthy_site.pbxdiag("sites", "keyscan", "acme-bolton", "--inventory",
                                   str(healthy_site.inventory))  # no terminal, no --yes
    assert refused.returncode == 2 and "not confirmed" in refused.stderr
    assert not known_hosts.exists()
    assert healthy_site.run_health_check().returncode == 3  # unknown key: not trusted

    done = healthy_site.pbxdiag("sites", "keyscan", "acme-bolton", "--inventory",
                                str(healthy_site.inventory), "--yes")
    assert done.returncode == 0, done.stderr
    assert "SHA256:" in done.stdout and "recorded" in done.stdout
    assert known_hosts.read_text().split() == expected.split()
    assert oct(known_hosts.stat().st_mode & 0o777) == "0o600"
    assert healthy_site.run_health_check().returncode == 0

    again = healthy_site.pbxdiag("sites", "keyscan", "acme-bolton", "--inventory",
                                 str(healthy_site.inventory), "--yes")
    assert "already recorded" in again.stdout
    assert known_hosts.read_text().count("\n") == 1


def test_a_different_recorded_key_is_not_replaced_silently(healthy_site: Site) -> None:
    known_hosts = healthy_site.workdir / "known_hosts"
    name, key_type, _ = known_hosts.read_text().split()
    other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    known_hosts.write_text(f"{name} {key_type} {other}\n")
    run = healthy_site.pbxdiag("sites", "keyscan", "acme-bolton", "--inventory",
                               str(healthy_site.inventory), "--yes")
    assert run.returncode == 1 and "DIFFERENT key" in run.stdout
    assert other in known_hosts.read_text()
    replaced = healthy_site.pbxdiag("sites", "keyscan", "acme-bolton", "--inventory",
                                    str(healthy_site.inventory), "--yes", "--replace")
    assert replaced.returncode == 0 and other not in known_hosts.read_text()
