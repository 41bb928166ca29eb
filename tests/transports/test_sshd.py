"""The health check through OpenSSH's sshd: as a console server whose shell is the PBX's
own console (the PBX login follows the SSH login), and as a jump host (``via=``) in
front of the simulated PBX's SSH server. Real CLI, real sshd, real simulators.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.errors import ConnectFailed, HostKeyRejected
from agent.line.transports.ssh import SSHTransport
from simulators import PbxState, serve_ssh
from simulators.lines import TcpEndpoint, serve_tcp

from .conftest import PASSWORD, expected_survey, line_for, survey
from .real_programs import Sshd, require_program, run_health_check, serve_sshd, ssh_keygen


@pytest.fixture
def client_key(tmp_path: Path) -> Path:
    return ssh_keygen(tmp_path / "id_ed25519")


@pytest.fixture
def raw_console(pbx: PbxState) -> Iterator[TcpEndpoint]:
    """The PBX's serial console as a terminal server's raw port (wakes on a key)."""
    with serve_tcp(pbx, password=PASSWORD) as endpoint:
        yield endpoint


@pytest.fixture
def console_server(raw_console: TcpEndpoint, client_key: Path,
                   tmp_path: Path) -> Iterator[Sshd]:
    """sshd whose every session is bridged (socat) to the console: log in to SSH, then
    the PBX's own banner and ``Login:`` — a console server reached over SSH."""
    socat = require_program("socat", "socat")
    bridge = f"{socat} - TCP:127.0.0.1:{raw_console.port}"
    with serve_sshd(tmp_path / "sshd", client_key, force_command=bridge) as sshd:
        (tmp_path / "known_hosts").write_text(sshd.known_hosts_line + "\n")
        yield sshd


@pytest.mark.parametrize("pty", ["", "&pty=raw"])
def test_health_check_through_an_ssh_console_server(pty: str, console_server: Sshd,
                                                    client_key: Path, tmp_path: Path) -> None:
    """``pbx_login=1``: SSH authenticates the operator (key), the driver then logs in to
    the PBX over the channel, on a raw pty (the default with ``pbx_login``): a cooked one
    would echo every keystroke — the password too — a second time."""
    url = (f"ssh://root@127.0.0.1:{console_server.port}?pbx_login=1{pty}&wake=%0D"
           f"&key_file={client_key}")
    done, result = run_health_check([url], tmp_path)
    assert done.returncode == 0, done.stderr + console_server.log.read_text()
    assert result["status"] == "passed"
    assert result["path"] == f"ssh://root@127.0.0.1:{console_server.port}"
    transcript = Path(str(result["transcript"])).read_text()
    assert "\\r\\r\\n" not in transcript, "raw pty: the PBX's own line ends"


def test_without_pbx_login_the_pbx_login_prompt_is_never_answered(
        console_server: Sshd, client_key: Path, tmp_path: Path) -> None:
    """The bug this option fixes: the driver took SSH for the PBX's own login and waited
    for a prompt behind ``Login:``."""
    url = f"ssh://root@127.0.0.1:{console_server.port}?pty=raw&wake=%0D&key_file={client_key}"
    done, result = run_health_check([url], tmp_path)
    assert done.returncode == 3 and result["status"] == "unreachable", done.stderr
    assert "Login:" in str(result["error"])


@pytest.fixture
def bastion(client_key: Path, tmp_path: Path) -> Iterator[Sshd]:
    with serve_sshd(tmp_path / "bastion", client_key, forwarding=True) as sshd:
        yield sshd


def test_health_check_through_a_jump_host(pbx: PbxState, bastion: Sshd, client_key: Path,
                                          tmp_path: Path) -> None:
    """``via=``: the PBX's SSH session inside a direct-tcpip channel of the bastion's; both
    host keys checked in the site's known_hosts."""
    with serve_ssh(pbx, host_key_path=tmp_path / "pbx_host_key", password=PASSWORD) as target:
        (tmp_path / "known_hosts").write_text(
            f"{bastion.known_hosts_line}\n{target.known_hosts_line()}\n")
        url = (f"ssh://INSTALLER@127.0.0.1:{target.port}"
               f"?via=ssh://root@127.0.0.1:{bastion.port}&via_key_file={client_key}")
        done, result = run_health_check([url], tmp_path)
    assert done.returncode == 0, done.stderr + bastion.log.read_text()
    assert result["status"] == "passed"
    assert result["path"] == (f"ssh://INSTALLER@127.0.0.1:{target.port}"
                              f"?via=ssh://root@127.0.0.1:{bastion.port}")
    forwarded = f"server_request_direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 " \
        f"port {target.port}"
    assert forwarded in bastion.log.read_text(), "the session went through the bastion"


def test_the_jump_hosts_key_is_checked_and_its_refusal_is_no_pbx_refusal(
        pbx: PbxState, bastion: Sshd, client_key: Path, tmp_path: Path) -> None:
    with serve_ssh(pbx, host_key_path=tmp_path / "pbx_host_key", password=PASSWORD) as target:
        known = tmp_path / "known_hosts"
        known.write_text(f"{target.known_hosts_line()}\n")  # the bastion's key is missing
        url = (f"ssh://INSTALLER@127.0.0.1:{target.port}"
               f"?via=root@127.0.0.1:{bastion.port}&via_key_file={client_key}")
        line = line_for(url, known_hosts=known)
        assert isinstance(line, SSHTransport)
        with pytest.raises(HostKeyRejected, match=rf"\[127.0.0.1\]:{bastion.port}"):
            line.open()
        known.write_text(f"{bastion.known_hosts_line}\n{target.known_hosts_line()}\n")
        stranger = ssh_keygen(tmp_path / "not_authorized")
        refused = line_for(url.replace(str(client_key), str(stranger)), known_hosts=known)
        with pytest.raises(ConnectFailed, match="jump host refused"):
            refused.open()
        with line_for(url, known_hosts=known) as line:
            assert survey(line) == expected_survey(pbx)
