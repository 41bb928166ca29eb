"""``pbxdiag simulate``: serve a scenario until interrupted, announcing each endpoint.

One JSON line per endpoint on stdout (kind, address or device, credentials, and the URL
pbxdiag itself would use) lets scripts and tests connect without parsing prose. With no
line option the scenario is served over SSH, as before. Line conditions (``--baud``,
``--noise``, ``--drop-after``) apply to telnet, raw TCP, the serial pty and modem calls;
an SSH line is integrity-protected, so only ``--drop-after`` (the network cut) applies.
Waiting is on a signal, never a sleep loop.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from agent.errors import InputError
from agent.paths import default_data_dir

if TYPE_CHECKING:
    from simulators import PbxState
    from simulators.lines import LineConditions

USERNAME = "INSTALLER"
#: With --replay: the session maker for a line that does (True) or does not log in itself.
Makers = Callable[[bool], Any] | None
MODEM_NUMBER = "599"  # Panasonic's default floating extension for remote maintenance


def register(commands: Any) -> None:
    simulate = commands.add_parser("simulate", help="serve a simulated PBX until interrupted")
    simulate.add_argument("scenario", nargs="?", default=None,
                          help="scenario name or YAML file (or give --replay)")
    simulate.add_argument("--replay", type=Path, default=None, metavar="TRANSCRIPT",
                          help="serve a recorded session (a run's or console's "
                               "transcript.jsonl) back as the PBX")
    simulate.add_argument("--vendor", choices=("panasonic", "toshiba"), default=None,
                          help="with --replay: the recording's dialect (default: read "
                               "from its prompts)")
    lines = simulate.add_argument_group("lines (default: --ssh on a free port)")
    for flag, what in (("--ssh", "SSH"), ("--telnet", "telnet"), ("--tcp", "raw TCP")):
        lines.add_argument(flag, type=int, nargs="?", const=0, default=None, metavar="PORT",
                           help=f"serve over {what} (no PORT or 0: a free port)")
    lines.add_argument("--pty", action="store_true",
                       help="serve on a pseudo-terminal, opened as a serial port")
    lines.add_argument("--rfc2217", type=int, nargs="?", const=0, default=None,
                       metavar="PORT", help="serve a pty behind an RFC 2217 server")
    lines.add_argument("--modem", action="store_true",
                       help=f"an emulated Hayes modem whose phone book has the PBX on "
                            f"{MODEM_NUMBER}")
    smdr = simulate.add_argument_group("SMDR")
    smdr.add_argument("--smdr", type=int, nargs="?", const=0, default=None, metavar="PORT",
                      help="serve the SMDR port over TCP, with its SMDR login (no PORT or "
                           "0: a free port)")
    smdr.add_argument("--smdr-pty", action="store_true",
                      help="print SMDR on a pseudo-terminal, as the RS-232 SMDR output (a "
                           "first byte from the logger starts the printout)")
    smdr.add_argument("--smdr-layout", default=None,
                      choices=("A", "B", "C", "hybrid", "R1.02", "R1.03", "DK"),
                      help="the layout SMDR is printed in (Panasonic A, B, C, hybrid; "
                           "Toshiba R1.02, R1.03, DK; default: the scenario's, else A / "
                           "R1.02)")
    smdr.add_argument("--smdr-date-order", default=None, choices=("DMY", "MDY"),
                      help="Panasonic A/B/C date order (default DMY)")
    smdr.add_argument("--smdr-time", default=None, choices=("12h", "24h"),
                      help="Panasonic A/B/C clock (default 24h; the hybrid systems: 12h)")
    conditions = simulate.add_argument_group("line conditions")
    conditions.add_argument("--baud", type=int, default=None, help="pace lines to N baud")
    conditions.add_argument("--noise", type=float, default=0.0, metavar="RATE",
                            help="insert a random byte with this probability per byte")
    conditions.add_argument("--seed", type=int, default=None, help="noise seed")
    conditions.add_argument("--drop-after", type=int, default=None, metavar="BYTES",
                            help="lose carrier after this many bytes to the client")
    simulate.add_argument("--state-dir", type=Path, default=None,
                          help="where the persistent host key, password and modem status "
                               "live (default: XDG data dir/simulator)")
    simulate.add_argument("--password", default=None,
                          help="the PBX's password (default: one chosen once and kept in "
                               "the state dir, so a rehearsal inventory keeps working)")
    simulate.set_defaults(handler=_simulate)


def _conditions(args: argparse.Namespace) -> LineConditions:
    from simulators.lines import LineConditions

    try:
        return LineConditions(baud=args.baud, noise_rate=args.noise, noise_seed=args.seed,
                              drop_after_bytes=args.drop_after)
    except ValueError as err:
        raise InputError(str(err)) from None


def _simulate(args: argparse.Namespace) -> int:
    pbx, makers = _pbx_and_sessions(args)
    _set_smdr_format(pbx, args)
    if all(v is None for v in (args.ssh, args.telnet, args.tcp, args.rfc2217, args.smdr)) \
            and not (args.pty or args.modem or args.smdr_pty):
        args.ssh = 0
    folder = args.state_dir or default_data_dir() / "simulator"
    password = args.password if args.password is not None else _stable_password(folder)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with contextlib.ExitStack() as stack:
        try:
            records = _serve(stack, pbx, args, folder, password, makers=makers)
        except OSError as err:  # a port in use, a device that cannot be made: say so
            raise InputError(f"cannot start the simulator's lines: {err.strerror or err} "
                             "(another simulator on that port? give another port, or 0 "
                             "for a free one)") from None
        for record in records:
            print(json.dumps({**record, "username": USERNAME, "password": password,
                              "scenario": args.scenario,
                              "replay": None if args.replay is None else str(args.replay)}),
                  flush=True)
        stop.wait()
    return 0


def _pbx_and_sessions(args: argparse.Namespace) -> tuple[PbxState, Makers]:
    """The scenario's PBX, or a recording's replay (served by the same line servers; the
    PBX state is then only the vendor's healthy one, which no session reads)."""
    from simulators import load_scenario

    if (args.scenario is None) == (args.replay is None):
        raise InputError("give a scenario or --replay TRANSCRIPT (one of them)")
    if args.replay is None:
        if args.vendor is not None:
            raise InputError("--vendor goes with --replay")
        return load_scenario(args.scenario), None
    from simulators.replay import RecordingError, load_recording, replay_session_maker

    try:
        recording = load_recording(args.replay, vendor=args.vendor)
    except OSError as err:
        raise InputError(f"--replay {args.replay}: {err.strerror or err}") from None
    except RecordingError as err:
        raise InputError(str(err)) from None

    def makers(login_required: bool) -> Any:
        return replay_session_maker(recording, login_required=login_required)

    return load_scenario(f"{recording.vendor.lower()}-healthy"), makers


def _set_smdr_format(pbx: PbxState, args: argparse.Namespace) -> None:
    """``--smdr-layout`` and its date order and clock over the scenario's; what the
    vendor's PBX cannot print is bad input naming the option."""
    from simulators.smdr_format import smdr_format

    if args.smdr_layout is None and args.smdr_date_order is None and args.smdr_time is None:
        return
    current = pbx.smdr_format
    layout = args.smdr_layout or current.layout
    keep = args.smdr_layout is None  # a new layout starts from its own defaults
    try:
        pbx.set_smdr_format(smdr_format(
            pbx.system.vendor, layout,
            args.smdr_date_order or (current.date_order if keep else None),
            args.smdr_time or (current.time if keep else None)))
    except ValueError as err:
        raise InputError(f"--smdr-layout/--smdr-date-order/--smdr-time: {err}") from None


def _stable_password(folder: Path) -> str:
    """The state dir's own password: chosen at the first start, the same at every later
    one (a rehearsal inventory's password file or variable keeps working). 0600."""
    path = folder / "password"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    if text:
        return text
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    chosen = secrets.token_urlsafe(9)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(chosen + "\n")
    return chosen


def _serve(stack: contextlib.ExitStack, pbx: PbxState, args: argparse.Namespace,
           folder: Path, password: str, *, makers: Makers = None) -> list[dict[str, Any]]:
    """Start every endpoint asked for (closed by ``stack``); one record per endpoint."""
    from simulators import serve_ssh
    from simulators.lines import serve_tcp, serve_telnet

    conditions = _conditions(args)
    records: list[dict[str, Any]] = []
    if args.ssh is not None:
        ssh = stack.enter_context(serve_ssh(pbx, port=args.ssh, password=password,
                                            host_key_path=folder / "ssh_host_ed25519_key",
                                            drop_after_bytes=args.drop_after,
                                            session_factory=_maker(makers, False)))
        records.append({"kind": "ssh", "host": ssh.host, "port": ssh.port,
                        "url": f"ssh://{USERNAME}@{ssh.host}:{ssh.port}",
                        "known_hosts": ssh.known_hosts_line()})
    for kind, port, serve in (("telnet", args.telnet, serve_telnet), ("tcp", args.tcp, serve_tcp)):
        if port is not None:
            tcp = stack.enter_context(serve(pbx, port=port, password=password,
                                            conditions=conditions,
                                            session_maker=_maker(makers, True)))
            records.append({"kind": kind, "host": tcp.host, "port": tcp.port, "url": tcp.url})
    if args.smdr is not None:
        from simulators import serve_smdr
        from simulators.smdr_server import DEFAULT_PASSWORD

        smdr = stack.enter_context(serve_smdr(pbx, port=args.smdr))
        records.append({"kind": "smdr", "host": smdr.host, "port": smdr.port,
                        "layout": pbx.smdr_format.layout, "smdr_user": "SMDR",
                        "smdr_password": DEFAULT_PASSWORD,
                        "url": f"tcp://{smdr.host}:{smdr.port}"})
    if args.smdr_pty:
        from simulators.lines.smdr_serial import serve_smdr_pty

        device = stack.enter_context(serve_smdr_pty(pbx, conditions=conditions))
        records.append({"kind": "smdr-serial", "device": device,
                        "layout": pbx.smdr_format.layout, "url": f"serial://{device}"})
    records += _serve_serial(stack, pbx, args, conditions, password, makers=makers)
    if args.modem:
        records.append(_serve_modem(stack, pbx, folder, conditions, password,
                                    makers=makers))
    return records


def _maker(makers: Makers, login_required: bool) -> Any:
    return None if makers is None else makers(login_required)


def _serve_serial(stack: contextlib.ExitStack, pbx: PbxState, args: argparse.Namespace,
                  conditions: LineConditions, password: str,
                  *, makers: Makers = None) -> list[dict[str, Any]]:
    from simulators.lines import serve_pty, serve_rfc2217

    records: list[dict[str, Any]] = []
    if args.pty:
        device = stack.enter_context(serve_pty(pbx, password=password, conditions=conditions,
                                             session_maker=_maker(makers, True)))
        records.append({"kind": "serial", "device": device, "url": f"serial://{device}"})
    if args.rfc2217 is not None:
        device = stack.enter_context(serve_pty(pbx, password=password, conditions=conditions,
                                             session_maker=_maker(makers, True)))
        server = stack.enter_context(serve_rfc2217(device, port=args.rfc2217))
        records.append({"kind": "rfc2217", "host": server.host, "port": server.port,
                        "device": device, "url": server.url})
    return records


def _serve_modem(stack: contextlib.ExitStack, pbx: PbxState, folder: Path,
                 conditions: LineConditions, password: str,
                 *, makers: Makers = None) -> dict[str, Any]:
    from simulators.lines import PhoneBook, serve_modem

    book = PhoneBook()
    book.add_site(MODEM_NUMBER, pbx, username=USERNAME, password=password,
                  conditions=conditions, session_maker=_maker(makers, True))
    device, modem = stack.enter_context(serve_modem(book, state_dir=folder))
    return {"kind": "modem", "device": device, "number": MODEM_NUMBER,
            "status_file": str(modem.status_path),
            "url": f"modem://{device}?number={MODEM_NUMBER}&carrier_file={modem.status_path}"}
