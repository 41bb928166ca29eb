"""Scenario files: a site (cards, ports, log history, faults) as YAML, loaded into a PbxState.

The document is *composed*, not loaded, so every node keeps its line: a bad scenario is
reported as ``file:line: message`` at the offending key, like a bad playbook. Unknown and
duplicate keys are errors: a typo must never silently give a healthier PBX than intended.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agent.errors import ScenarioError
from simulators.state import (
    CARD_TYPES,
    CO_KINDS,
    EXTENSION_TYPES,
    FAULTS,
    CoLine,
    Extension,
    Level,
    Mode,
    PbxState,
    StateError,
    Status,
    SystemIdentity,
)
from simulators.state import Card as CardRecord

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
VENDORS = {"panasonic": "Panasonic", "toshiba": "Toshiba"}
PANASONIC_MODEL = re.compile(r"KX-[A-Z0-9]+")
DURATION = re.compile(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?")
INT_TAG = "tag:yaml.org,2002:int"
BOOL_TAG = "tag:yaml.org,2002:bool"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def scenario_names() -> list[str]:
    """The scenarios shipped in ``simulators/scenarios/`` (bare names for ``load_scenario``)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def resolve_scenario(name_or_path: str | Path) -> Path:
    """A bare name (no directory, no suffix) is looked up among the shipped scenarios."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml")):
        return Path(name_or_path)
    path = SCENARIO_DIR / f"{text}.yaml"
    if not path.exists():
        raise ScenarioError(f"no scenario named {text!r} (known: {', '.join(scenario_names())})")
    return path


def load_scenario(name_or_path: str | Path, *,
                  host_clock: Callable[[], datetime] = datetime.now) -> PbxState:
    """Build the PBX a scenario file describes, faults injected, ready to serve."""
    path = resolve_scenario(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario: {exc}", path=str(path)) from None
    return parse_scenario(text, path=str(path), host_clock=host_clock)


def parse_scenario(text: str, *, path: str = "<scenario>",
                   host_clock: Callable[[], datetime] = datetime.now) -> PbxState:
    """Like ``load_scenario`` for text already in hand (tests, generated scenarios)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(f"not valid YAML: {exc.problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", path=path) from None
    if root is None:
        raise ScenarioError("the scenario file is empty", path=path, line=1)
    return _Builder(path, host_clock).build(root)


@dataclass(frozen=True, slots=True)
class _Field:
    """A value node and the line to blame for it (its key's line)."""

    node: Node
    line: int


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Builder:
    """Walks the composed document; every error names the line of the offending key."""

    def __init__(self, path: str, host_clock: Callable[[], datetime]) -> None:
        self.path = path
        self.host_clock = host_clock
        self.constructor = SafeConstructor()

    def fail(self, message: str, line: int) -> ScenarioError:
        return ScenarioError(message, path=self.path, line=line)

    # --- structure ----------------------------------------------------------------------

    def mapping(self, f: _Field, what: str, required: set[str],
                optional: set[str]) -> dict[str, _Field]:
        if not isinstance(f.node, MappingNode):
            raise self.fail(f"{what} must be a mapping", f.line)
        fields: dict[str, _Field] = {}
        allowed = required | optional
        for key_node, value_node in f.node.value:
            key, line = key_node.value, _line(key_node)
            if not isinstance(key_node, ScalarNode) or key not in allowed:
                raise self.fail(f"unknown key {key!r} in {what}"
                                f" (allowed: {', '.join(sorted(allowed))})", line)
            if key in fields:
                raise self.fail(f"duplicate key {key!r} in {what}", line)
            fields[key] = _Field(value_node, line)
        missing = sorted(required - set(fields))
        if missing:
            raise self.fail(f"{what} needs {', '.join(repr(m) for m in missing)}", f.line)
        return fields

    def sequence(self, f: _Field, what: str) -> list[_Field]:
        if not isinstance(f.node, SequenceNode):
            raise self.fail(f"{what} must be a list", f.line)
        return [_Field(item, _line(item)) for item in f.node.value]

    # --- scalars ------------------------------------------------------------------------

    def string(self, f: _Field, what: str, *, max_len: int | None = None,
               allow_empty: bool = False) -> str:
        """The scalar's text as written (so ``firmware: 5.0000`` stays "5.0000")."""
        if not isinstance(f.node, ScalarNode):
            raise self.fail(f"{what} must be a single value", f.line)
        text = str(f.node.value)
        if not text and not allow_empty:
            raise self.fail(f"{what} must not be empty", f.line)
        if not (text.isascii() and (text.isprintable() or not text)):
            raise self.fail(f"{what} must be printable ASCII", f.line)
        if max_len is not None and len(text) > max_len:
            raise self.fail(f"{what} must be at most {max_len} characters", f.line)
        return text

    def integer(self, f: _Field, what: str, low: int, high: int) -> int:
        if not (isinstance(f.node, ScalarNode) and f.node.tag == INT_TAG):
            raise self.fail(f"{what} must be a whole number", f.line)
        value = int(self.constructor.construct_yaml_int(f.node))
        if not low <= value <= high:
            raise self.fail(f"{what} must be {low}-{high}, not {value}", f.line)
        return value

    def boolean(self, f: _Field, what: str) -> bool:
        if not (isinstance(f.node, ScalarNode) and f.node.tag == BOOL_TAG):
            raise self.fail(f"{what} must be true or false", f.line)
        return bool(self.constructor.construct_yaml_bool(f.node))

    def choice(self, f: _Field, what: str, choices: set[str] | frozenset[str]) -> str:
        value = self.string(f, what).upper()
        if value not in choices:
            raise self.fail(f"{what} must be one of {', '.join(sorted(choices))}", f.line)
        return value

    def timestamp(self, f: _Field, what: str) -> datetime:
        if isinstance(f.node, ScalarNode) and f.node.tag == TIMESTAMP_TAG:
            value = self.constructor.construct_yaml_timestamp(f.node)
            if isinstance(value, datetime):
                return value.replace(tzinfo=None)
            return datetime(value.year, value.month, value.day)
        try:
            return datetime.fromisoformat(self.string(f, what))
        except ValueError:
            raise self.fail(f"{what} must be a date and time (YYYY-MM-DD HH:MM)",
                            f.line) from None

    def duration(self, f: _Field, what: str) -> timedelta:
        text = self.string(f, what).replace(" ", "")
        match = DURATION.fullmatch(text)
        if not match or not any(match.groups()):
            raise self.fail(f"{what} must be a duration like 30d, 4h or 2d3h15m", f.line)
        days, hours, minutes = (int(g or 0) for g in match.groups())
        return timedelta(days=days, hours=hours, minutes=minutes)

    # --- the document -------------------------------------------------------------------

    def build(self, root: Node) -> PbxState:
        top = self.mapping(_Field(root, 1), "the scenario", {"site", "cards"},
                           {"description", "clock", "time_service", "extensions",
                            "co_lines", "error_log", "faults"})
        if "description" in top:
            self.string(top["description"], "description", allow_empty=True)
        pbx = PbxState(self.site(top["site"]), host_clock=self.host_clock)
        with pbx.batch():
            if "clock" in top:
                pbx.set_clock(self.timestamp(top["clock"], "clock"))
            if "time_service" in top:
                self.time_service(pbx, top["time_service"])
            self.each(top, "cards", "card", pbx, self.card)
            self.each(top, "extensions", "extension", pbx, self.extension)
            self.each(top, "co_lines", "CO line", pbx, self.co_line)
            self.error_log(pbx, top.get("error_log"))
            self.each(top, "faults", "fault", pbx, self.fault)
        return pbx

    def each(self, top: dict[str, _Field], key: str, what: str, pbx: PbxState,
             build_one: Callable[[PbxState, _Field], None]) -> None:
        if key not in top:
            return
        for item in self.sequence(top[key], key):
            try:
                build_one(pbx, item)
            except StateError as exc:
                raise self.fail(f"{what}: {exc}", item.line) from None

    def site(self, f: _Field) -> SystemIdentity:
        m = self.mapping(f, "site", {"vendor", "model", "software_version"}, {"name"})
        vendor = self.choice(m["vendor"], "vendor", {v.upper() for v in VENDORS}).lower()
        model = self.string(m["model"], "model", max_len=20)
        if vendor == "panasonic" and not PANASONIC_MODEL.fullmatch(model):
            raise self.fail("a Panasonic model looks like KX-TDE200", m["model"].line)
        name = self.string(m["name"], "name") if "name" in m else ""
        version = self.string(m["software_version"], "software_version", max_len=60)
        return SystemIdentity(VENDORS[vendor], model, version, site_name=name)

    def time_service(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "time_service", {"mode"}, {"switching"})
        mode = Mode(self.choice(m["mode"], "mode", {x.value for x in Mode}))
        switching = (self.choice(m["switching"], "switching", {"AUTO", "MANUAL"})
                     if "switching" in m else "AUTO")
        pbx.set_time_service(mode, automatic=switching == "AUTO")

    def card(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "card", {"slot", "type", "model", "firmware"},
                         {"cabinet", "status"})
        status = self.choice(m["status"], "status", {"INS", "OUS"}) if "status" in m else "INS"
        card_type = self.string(m["type"], "type", max_len=8).upper()
        if card_type not in CARD_TYPES:
            raise self.fail(f"unknown card type {card_type!r}"
                            f" (known: {', '.join(CARD_TYPES)})", m["type"].line)
        pbx.add_card(CardRecord(
            cabinet=self.integer(m["cabinet"], "cabinet", 1, 4) if "cabinet" in m else 1,
            slot=self.integer(m["slot"], "slot", 0, 99),
            card_type=card_type,
            model_number=self.string(m["model"], "model", max_len=12),
            firmware=self.string(m["firmware"], "firmware", max_len=8),
            busied_out=status == Status.OUS,
        ))

    def port_fields(self, m: dict[str, _Field]) -> tuple[int, int, int]:
        """Cabinet (default 1), slot and port of an extension or CO line."""
        return (self.integer(m["cabinet"], "cabinet", 1, 4) if "cabinet" in m else 1,
                self.integer(m["slot"], "slot", 0, 99),
                self.integer(m["port"], "port", 1, 99))

    def extension(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "extension", {"number", "slot", "port", "type"},
                         {"cabinet", "name", "status"})
        number = self.string(m["number"], "number", max_len=5)
        if not number.isdigit():
            raise self.fail("an extension number is digits only", m["number"].line)
        status = (self.choice(m["status"], "status", {"IDLE", "BUSY", "NC", "OUS"})
                  if "status" in m else "IDLE")
        name = self.string(m["name"], "name", max_len=16, allow_empty=True) if "name" in m else ""
        cabinet, slot, port = self.port_fields(m)
        ext_type = self.choice(m["type"], "type", EXTENSION_TYPES)
        pbx.add_extension(Extension(
            number=number, name=name, cabinet=cabinet, slot=slot, port=port, ext_type=ext_type,
            activity="IDLE" if status == "OUS" else status, busied_out=status == "OUS",
        ))

    def co_line(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "CO line", {"number", "slot", "port", "kind"},
                         {"cabinet", "status"})
        status = self.choice(m["status"], "status", {"INS", "OUS"}) if "status" in m else "INS"
        cabinet, slot, port = self.port_fields(m)
        pbx.add_co_line(CoLine(
            number=self.integer(m["number"], "number", 1, 999),
            cabinet=cabinet, slot=slot, port=port,
            kind=self.choice(m["kind"], "kind", CO_KINDS),
            busied_out=status == Status.OUS,
        ))

    def error_log(self, pbx: PbxState, f: _Field | None) -> None:
        """History lines, inserted oldest first so recovery codes clear what they answer."""
        if f is None:
            return
        now = pbx.now()
        entries = [self.log_entry(now, item) for item in self.sequence(f, "error_log")]
        for when, line, kwargs in sorted(entries, key=lambda e: e[0]):
            try:
                pbx.log_error(when=when, **kwargs)
            except StateError as exc:
                raise self.fail(f"error_log entry: {exc}", line) from None

    def log_entry(self, now: datetime, f: _Field) -> tuple[datetime, int, dict[str, Any]]:
        m = self.mapping(f, "error_log entry", {"level", "code", "sub_code", "message"},
                         {"at", "ago", "active"})
        if ("at" in m) == ("ago" in m):
            raise self.fail("an error_log entry needs exactly one of 'at' or 'ago'", f.line)
        when = (self.timestamp(m["at"], "at") if "at" in m
                else now - self.duration(m["ago"], "ago"))
        sub = self.string(m["sub_code"], "sub_code")
        if not re.fullmatch(r"[1-4]\d{4}", sub):
            raise self.fail("sub_code is XYYZZ: cabinet 1-4, slot, port", m["sub_code"].line)
        return when, f.line, {
            "level": Level(self.choice(m["level"], "level", {"MJ", "MN"})),
            "code": self.integer(m["code"], "code", 0, 999),
            "sub": sub,
            "message": self.string(m["message"], "message", max_len=36),
            "active": self.boolean(m["active"], "active") if "active" in m else False,
        }

    def fault(self, pbx: PbxState, f: _Field) -> None:
        if not isinstance(f.node, MappingNode):
            raise self.fail("a fault must be a mapping with a 'kind'", f.line)
        kinds = {k.value: _Field(v, _line(k)) for k, v in f.node.value if k.value == "kind"}
        if "kind" not in kinds:
            raise self.fail("a fault needs 'kind'", f.line)
        kind = self.string(kinds["kind"], "kind")
        if kind not in FAULTS:
            raise self.fail(f"unknown fault kind {kind!r} (known: {', '.join(FAULTS)})",
                            kinds["kind"].line)
        spec = FAULTS[kind]
        required = {p for p, default in spec.params.items() if default is None}
        m = self.mapping(f, f"fault {kind}", required | {"kind"},
                         set(spec.params) - required)
        params: dict[str, Any] = {}
        for name, value in m.items():
            if name == "kind":
                continue
            default = spec.params[name]
            params[name] = (self.string(value, name) if isinstance(default, str)
                            else self.integer(value, name, 0, 999))
        pbx.inject_fault(kind, **params)
