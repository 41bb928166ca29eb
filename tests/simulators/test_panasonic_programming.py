"""Panasonic system programming: PRG/END, READ/WRITE/DUMP, and the one programming lock."""

from __future__ import annotations

from datetime import datetime

import pytest

from simulators import Mode, PanasonicSession, PbxState, Status, load_scenario
from tests.simulators.test_panasonic_console import doc_block

NOW = datetime(2026, 11, 27, 15, 48, 13)
PROMPT = "KX-TDE200> "
PRG_PROMPT = "KX-TDE200(PRG)> "


def clock() -> datetime:
    return NOW


class Console:
    """A Panasonic session; ``command`` returns the output lines and checks the prompt."""

    def __init__(self, pbx: PbxState) -> None:
        self.sent: list[bytes] = []
        self.session = PanasonicSession(pbx, login_required=False, send=self.sent.append)
        self.session.start()
        self.command("PAGE OFF")

    def command(self, line: str, prompt: str | None = None) -> list[str]:
        self.sent.clear()
        self.session.feed(line.encode("ascii") + b"\r")
        out = b"".join(self.sent).decode("ascii")
        assert out.startswith(line + "\r\n")
        body, _, tail = out[len(line) + 2:].rpartition("\r\n")
        if prompt is not None:
            assert tail == prompt
        assert tail in (PROMPT, PRG_PROMPT)
        return body.split("\r\n") if body else []


@pytest.fixture
def pbx() -> PbxState:
    return load_scenario("panasonic-healthy", host_clock=clock)


@pytest.fixture
def prg(pbx: PbxState) -> Console:
    console = Console(pbx)
    assert console.command("PRG", PRG_PROMPT) == ["OK"]
    return console


def test_the_doc_example(pbx: PbxState) -> None:
    doc = doc_block("KX-TDE200> PRG")
    console = Console(pbx)
    console.sent.clear()
    for line in ("PRG", "READ 004 201", "WRITE 101 = NIGHT MANUAL", "END"):
        console.session.feed(line.encode() + b"\r")
    transcript = PROMPT + b"".join(console.sent).decode()
    assert transcript == "\r\n".join(doc).replace("␠", " ")
    assert (pbx.time_service.mode, pbx.time_service.automatic) == (Mode.NIGHT, False)


@pytest.mark.parametrize("command", ["READ 004 201", "WRITE 004 201 = x", "DUMP", "END"])
def test_programming_commands_need_prg(pbx: PbxState, command: str) -> None:
    assert Console(pbx).command(command, PROMPT) == ["ERROR 04: NOT IN PROGRAMMING MODE"]


def test_round_trips(pbx: PbxState, prg: Console) -> None:
    cases = [
        ("004 201", '"Front Desk"', '"Front Desk"'),
        ("004 214", "Goods", '"Goods"'),
        ("101", "lunch auto", "LUNCH AUTO"),
        ("711 202", "07700900123", "07700900123"),
        ("711 202", "NONE", "NONE"),
        ("410 03", "OUS", "OUS"),
        ("410 3", "INS", "INS"),
        ("000", "01/12/26 08:00:00", "01/12/26 08:00:00"),
    ]
    for key, value, read_back in cases:
        assert prg.command(f"WRITE {key} = {value}", PRG_PROMPT) == ["OK"]
        number, *args = key.split()
        shown = " ".join([number, *(f"{int(a):02d}" if number == "410" else a for a in args)])
        assert prg.command(f"READ {key}") == [f"{shown} = {read_back}"]
    assert pbx.extension("201").name == "Front Desk"
    assert pbx.co_line(3).status is Status.INS


def test_pin_is_write_only(pbx: PbxState, prg: Console) -> None:
    assert prg.command("READ 005 201") == ["005 201 = ****"]
    assert prg.command("WRITE 005 201 = 987654") == ["OK"]
    assert pbx.extension("201").pin == "987654"
    assert prg.command("READ 005 201") == ["005 201 = ****"]
    assert "987654" not in "\n".join(prg.command("DUMP"))
    assert "987654" not in repr(pbx.extension("201"))


@pytest.mark.parametrize("command", [
    "WRITE 005 201 = 12", "WRITE 005 201 = 12345678901", "WRITE 005 201 = 12a4",
    "WRITE 004 201 = A name far too long", 'WRITE 004 201 = "bad"quote"',
    "WRITE 004 999 = Nobody", "WRITE 101 = NIGHT", "WRITE 101 = DUSK MANUAL",
    "WRITE 410 42 = OUS", "WRITE 410 01 = DOWN", "WRITE 711 201 = 0800-FLOWERS",
    "WRITE 000 = 31/02/26 10:00:00", "WRITE 999 = 1", "WRITE 004 201", "WRITE 004 201 =",
    "WRITE = 1", "READ 004", "READ 004 201 202", "READ 123", "READ", "DUMP ALL", "END NOW",
])
def test_bad_programming_changes_nothing(pbx: PbxState, prg: Console, command: str) -> None:
    before = prg.command("DUMP")[1:]  # 000 is the clock, which runs
    assert prg.command(command, PRG_PROMPT) == ["ERROR 02: INVALID PARAMETER"]
    assert prg.command("DUMP")[1:] == before


def test_dump_is_sorted_by_program_then_args(prg: Console, pbx: PbxState) -> None:
    lines = prg.command("DUMP")
    programs = [line.split()[0] for line in lines]
    assert programs == sorted(programs)
    assert set(programs) == {"000", "004", "005", "101", "410", "711"}
    assert lines[0] == "000 = 27/11/26 15:48:13"
    assert lines[1] == '004 201 = "Reception"'
    assert "101 = DAY AUTO" in lines
    assert [line for line in lines if line.startswith("410")] == [
        f"410 {n:02d} = INS" for n in range(1, 9)]
    assert len([line for line in lines if line.startswith("711")]) == len(pbx.extensions())


def test_writing_410_ins_restores_a_line_busied_out_after_330(pbx: PbxState,
                                                              prg: Console) -> None:
    pbx.inject_fault("trunk_busied_out", co=4)
    assert prg.command("READ 410 04") == ["410 04 = OUS"]
    assert prg.command("WRITE 410 04 = INS") == ["OK"]
    assert pbx.co_line(4).status is Status.INS
    assert prg.command("CO")[4].endswith("INS")


def test_writing_the_clock_moves_date(pbx: PbxState, prg: Console) -> None:
    assert prg.command("WRITE 000 = 24/11/26 10:30:00") == ["OK"]
    assert prg.command("DATE") == ["DATE : 24/11/26 TUE 10:30:00"]


def test_read_commands_work_in_programming_mode(prg: Console) -> None:
    assert prg.command("VER", PRG_PROMPT)[0] == "System Model   : KX-TDE200"
    assert prg.command("MODE", PRG_PROMPT) == ["TIME SERVICE : DAY", "SWITCHING    : AUTO"]


# --- the lock -----------------------------------------------------------------------------


def test_second_session_is_locked_out_until_end(pbx: PbxState) -> None:
    first, second = Console(pbx), Console(pbx)
    assert first.command("PRG", PRG_PROMPT) == ["OK"]
    assert first.command("PRG", PRG_PROMPT) == ["OK"]  # taking it again is harmless
    assert second.command("PRG", PROMPT) == ["ERROR 03: PROGRAMMING LOCKED"]
    assert second.command("DUMP", PROMPT) == ["ERROR 04: NOT IN PROGRAMMING MODE"]
    assert first.command("END", PROMPT) == ["OK"]
    assert second.command("PRG", PRG_PROMPT) == ["OK"]


def test_lock_freed_when_the_holder_drops_the_line(pbx: PbxState) -> None:
    first, second = Console(pbx), Console(pbx)
    first.command("PRG")
    first.session.feed(b"WRITE 004 2")  # the line drops mid-command
    first.session.close()
    assert pbx.programming_holder is None
    assert second.command("PRG", PRG_PROMPT) == ["OK"]
    assert pbx.extension("201").name == "Reception"


def test_exit_in_programming_mode_releases(pbx: PbxState) -> None:
    first = Console(pbx)
    first.command("PRG")
    first.sent.clear()
    first.session.feed(b"EXIT\r")
    assert b"".join(first.sent) == b"EXIT\r\nBYE\r\n"
    assert first.session.closed and pbx.programming_holder is None


def test_a_handset_holding_programming(pbx: PbxState) -> None:
    locked = load_scenario("panasonic-programming-locked", host_clock=clock)
    console = Console(locked)
    assert console.command("PRG", PROMPT) == ["ERROR 03: PROGRAMMING LOCKED"]
    locked.clear_fault("programming_locked", holder="201")
    assert console.command("PRG", PRG_PROMPT) == ["OK"]
