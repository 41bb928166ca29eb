"""Scenario files: a site (cards, ports, log history, faults) as YAML, loaded into a PbxState.

The document is *composed*, not loaded, so every node keeps its line: a bad scenario is
reported as ``file:line: message`` at the offending key, like a bad playbook. Unknown and
duplicate keys are errors: a typo must never silently give a healthier PBX than intended.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agent.errors import ScenarioError
from agent.yamlguard import check_limits
from simulators.faults import FAULTS
from simulators.models import (
    CARD_TYPES,
    CO_KINDS,
    EVENTS,
    EXTENSION_TYPES,
    MODELS,
    PANASONIC,
    TOSHIBA,
    model_profile,
    version_problem,
)
from simulators.records import Card as CardRecord
from simulators.records import CoLine, Extension, Level, Mode, StateError, Status, SystemIdentity
from simulators.smdr import CallGenerator
from simulators.smdr_format import smdr_format
from simulators.state import PbxState
from simulators.toshiba.alarms import canonical_code, sub_code_of
from simulators.toshiba.words import MODES, STATION_TYPES, TRUNK_KINDS

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
VENDORS = {"panasonic": PANASONIC, "toshiba": TOSHIBA}
PANASONIC_MODEL = re.compile(r"KX-[A-Z0-9]+")
DURATION = re.compile(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?")
INT_TAG = "tag:yaml.org,2002:int"
BOOL_TAG = "tag:yaml.org,2002:bool"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
TOP_KEYS = {"base", "site", "description", "clock", "time_service", "cards", "extensions",
            "co_lines", "error_log", "faults", "smdr"}

CallHistory = Callable[[PbxState], None]


@dataclass(slots=True)
class _Site:
    """A scenario before its faults: the PBX, the faults to inject, the calls to make."""

    pbx: PbxState
    faults: list[Callable[[PbxState], None]] = field(default_factory=list)
    make_calls: CallHistory | None = None


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
    return parse_scenario(_read(path), path=str(path), host_clock=host_clock)


def parse_scenario(text: str, *, path: str = "<scenario>",
                   host_clock: Callable[[], datetime] = datetime.now) -> PbxState:
    """Like ``load_scenario`` for text already in hand (tests, generated scenarios)."""
    return _Builder(path, host_clock).build(_compose(text, path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario: {exc}", path=str(path)) from None


def _compose(text: str, path: str) -> Node:
    """The YAML node tree (every node keeps its line), or a located error."""
    check_limits(text, path, ScenarioError)
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
    return root


def _shifted(host_clock: Callable[[], datetime], to: datetime) -> Callable[[], datetime]:
    """A clock that reads ``to`` now and runs on at the host clock's pace."""
    start = host_clock()

    def clock() -> datetime:
        return to + (host_clock() - start)
    return clock


@dataclass(frozen=True, slots=True)
class _Field:
    """A value node and the line to blame for it (its key's line)."""

    node: Node
    line: int


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Builder:
    """Walks the composed document; every error names the line of the offending key."""

    def __init__(self, path: str, host_clock: Callable[[], datetime], *,
                 chain: frozenset[Path] = frozenset()) -> None:
        self.path = path
        self.host_clock = host_clock
        self.chain = chain | ({Path(path).resolve()} if path != "<scenario>" else set())
        self.constructor = SafeConstructor()
        self.vendor = PANASONIC

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
            try:  # the YAML timestamp regex takes month 13 and hour 25; datetime does not
                value = self.constructor.construct_yaml_timestamp(f.node)
            except ValueError:
                raise self.fail(f"{what} is not a real date and time: {f.node.value!r}",
                                f.line) from None
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
        """The site, then its call history, then the faults (as they happen now)."""
        site = self.build_site(root)
        pbx = site.pbx
        with pbx.batch():
            if site.make_calls is not None:
                site.make_calls(pbx)
            for inject in site.faults:
                inject(pbx)
            pbx.add_smdr_history([])  # time order, numbered afresh, power-cut gaps emptied
        return pbx

    def build_site(self, root: Node) -> _Site:
        """The PBX as it was before the faults; the faults and call history still to make."""
        top = self.mapping(_Field(root, 1), "the scenario", set(), TOP_KEYS)
        if "description" in top:
            self.string(top["description"], "description", allow_empty=True)
        clock = self.timestamp(top["clock"], "clock") if "clock" in top else None
        if "base" in top:
            site = self.base(top, clock)
        else:
            missing = sorted({"site", "cards"} - set(top))
            if missing:
                raise self.fail(f"the scenario needs {', '.join(repr(m) for m in missing)}", 1)
            site = _Site(PbxState(self.site(top["site"]), host_clock=self.host_clock))
        pbx = site.pbx
        with pbx.batch():
            if clock is not None:
                pbx.set_clock(clock)
            if "time_service" in top:
                self.time_service(pbx, top["time_service"])
            self.each(top, "cards", "card", pbx, self.card)
            self.each(top, "extensions", "extension", pbx, self.extension)
            self.each(top, "co_lines", "CO line", pbx, self.co_line)
            self.error_log(pbx, top.get("error_log"))
        if "faults" in top:
            site.faults += [self.fault(item) for item in self.sequence(top["faults"], "faults")]
        if "smdr" in top:
            site.make_calls = self.smdr(top["smdr"], site.make_calls)
        return site

    def base(self, top: dict[str, _Field], clock: datetime | None) -> _Site:
        """Build the scenario this one extends; its own errors name its own file and line."""
        f = top["base"]
        if "site" in top:
            raise self.fail("a scenario with a 'base' takes its site from the base",
                            top["site"].line)
        name = self.string(f, "base")
        here = Path(self.path).parent
        try:
            path = (here / name if "/" in name or name.endswith((".yaml", ".yml"))
                    else resolve_scenario(name)).resolve()
        except ScenarioError as exc:  # an unknown base name: say where it was named
            raise self.fail(exc.message, f.line) from None
        if path in self.chain:
            raise self.fail(f"base scenarios form a loop through {path.name}", f.line)
        host_clock = self.host_clock
        if clock is not None:  # build the base as if it were this scenario's time
            host_clock = _shifted(self.host_clock, clock)
        builder = _Builder(str(path), host_clock, chain=self.chain | {path})
        site = builder.build_site(_compose(_read(path), str(path)))
        self.vendor = builder.vendor
        return site

    @property
    def toshiba(self) -> bool:
        return self.vendor == TOSHIBA

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
        self.vendor = VENDORS[vendor]
        model = self.string(m["model"], "model", max_len=20).upper()
        if vendor == "panasonic" and not PANASONIC_MODEL.fullmatch(model):
            raise self.fail("a Panasonic model looks like KX-TDE200", m["model"].line)
        profile = model_profile(self.vendor, model)
        if profile is None:
            known = sorted(p.model for p in MODELS.values() if p.vendor == self.vendor)
            raise self.fail(f"unknown {self.vendor} model {model!r} (known: {', '.join(known)})",
                            m["model"].line)
        name = self.string(m["name"], "name") if "name" in m else ""
        version = self.string(m["software_version"], "software_version", max_len=60)
        problem = version_problem(profile, version)
        if problem is not None:
            raise self.fail(problem, m["software_version"].line)
        return SystemIdentity(self.vendor, model, version, site_name=name)

    def time_service(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "time_service", {"mode"}, {"switching"})
        if self.toshiba:
            mode = MODES[self.choice(m["mode"], "mode", set(MODES))]
        else:
            mode = Mode(self.choice(m["mode"], "mode", {x.value for x in Mode}))
        switching = (self.choice(m["switching"], "switching", {"AUTO", "MANUAL"})
                     if "switching" in m else "AUTO")
        pbx.set_time_service(mode, automatic=switching == "AUTO")

    def card(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "card", {"slot", "type", "firmware"},
                         {"cabinet", "status", "model"})
        status = self.choice(m["status"], "status", {"INS", "OUS"}) if "status" in m else "INS"
        card_type = self.string(m["type"], "type", max_len=8).upper()
        known = [name for name, kind in CARD_TYPES.items() if kind.vendor == self.vendor]
        if card_type not in known:
            raise self.fail(f"unknown card type {card_type!r}"
                            f" (known: {', '.join(known)})", m["type"].line)
        if "model" in m:
            model = self.string(m["model"], "model", max_len=12)
        elif self.toshiba:
            model = card_type
        else:
            raise self.fail("card needs 'model'", f.line)
        pbx.add_card(CardRecord(
            cabinet=self.integer(m["cabinet"], "cabinet", 1, 7) if "cabinet" in m else 1,
            slot=self.integer(m["slot"], "slot", 0, 99),
            card_type=card_type,
            model_number=model,
            firmware=self.string(m["firmware"], "firmware", max_len=8),
            busied_out=status == Status.OUS,
        ))

    def port_fields(self, m: dict[str, _Field]) -> tuple[int, int, int]:
        """Cabinet (default 1), slot and port of an extension or CO line."""
        return (self.integer(m["cabinet"], "cabinet", 1, 7) if "cabinet" in m else 1,
                self.integer(m["slot"], "slot", 0, 99),
                self.integer(m["port"], "port", 1, 99))

    def extension(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "extension", {"number", "slot", "port", "type"},
                         {"cabinet", "name", "status", "pin", "forward_to", "phantoms"})
        number = self.digits(m["number"], "number", 5)
        status = (self.choice(m["status"], "status", {"IDLE", "BUSY", "NC", "OUS"})
                  if "status" in m else "IDLE")
        name = self.string(m["name"], "name", max_len=16, allow_empty=True) if "name" in m else ""
        cabinet, slot, port = self.port_fields(m)
        if self.toshiba:
            ext_type = STATION_TYPES[self.choice(m["type"], "type", set(STATION_TYPES))]
        else:
            ext_type = self.choice(m["type"], "type", EXTENSION_TYPES)
        pbx.add_extension(Extension(
            number=number, name=name, cabinet=cabinet, slot=slot, port=port, ext_type=ext_type,
            activity="IDLE" if status == "OUS" else status, busied_out=status == "OUS",
            pin=self.digits(m["pin"], "pin", 10) if "pin" in m else "",
            forward_to=self.digits(m["forward_to"], "forward_to", 24) if "forward_to" in m
            else "",
            phantoms=self.phantoms(m["phantoms"]) if "phantoms" in m else (),
        ))

    def digits(self, f: _Field, what: str, max_len: int) -> str:
        """Digits as written (a YAML int or string): ``0201`` keeps its leading zero."""
        text = self.string(f, what, max_len=max_len)
        if not text.isdigit():
            raise self.fail(f"{what} is digits only" if what != "number"
                            else "an extension number is digits only", f.line)
        return text

    def phantoms(self, f: _Field) -> tuple[str, ...]:
        if not self.toshiba:
            raise self.fail("phantom DNs (PhDN) are a Toshiba feature", f.line)
        return tuple(self.digits(item, "phantom DN", 5) for item in self.sequence(f, "phantoms"))

    def co_line(self, pbx: PbxState, f: _Field) -> None:
        m = self.mapping(f, "CO line", {"number", "slot", "port"}, {"cabinet", "status", "kind"})
        status = self.choice(m["status"], "status", {"INS", "OUS"}) if "status" in m else "INS"
        cabinet, slot, port = self.port_fields(m)
        kind = self.line_kind(pbx, m, cabinet, slot)
        pbx.add_co_line(CoLine(
            number=self.integer(m["number"], "number", 1, 999),
            cabinet=cabinet, slot=slot, port=port, kind=kind,
            busied_out=status == Status.OUS,
        ))

    def line_kind(self, pbx: PbxState, m: dict[str, _Field], cabinet: int, slot: int) -> str:
        """The kind as written (vendor's words), else the kind the card carries."""
        if "kind" in m:
            if self.toshiba:
                return TRUNK_KINDS[self.choice(m["kind"], "kind", set(TRUNK_KINDS))]
            return self.choice(m["kind"], "kind", CO_KINDS)
        try:
            card = pbx.card(slot, cabinet)
        except StateError as exc:
            raise self.fail(f"CO line: {exc}", m["slot"].line) from None
        return card.kind.kind or "LCOT"

    def error_log(self, pbx: PbxState, f: _Field | None) -> None:
        """History lines, inserted oldest first so recovery codes clear what they answer."""
        if f is None:
            return
        now = pbx.now()
        read = self.toshiba_entry if self.toshiba else self.log_entry
        entries = [read(now, item) for item in self.sequence(f, "error_log")]
        for when, line, kwargs in sorted(entries, key=lambda e: e[0]):
            try:
                pbx.log_error(when=when, **kwargs)
            except StateError as exc:
                raise self.fail(f"error_log entry: {exc}", line) from None

    def entry_time(self, now: datetime, f: _Field, m: dict[str, _Field]) -> datetime:
        if ("at" in m) == ("ago" in m):
            raise self.fail("an error_log entry needs exactly one of 'at' or 'ago'", f.line)
        return (self.timestamp(m["at"], "at") if "at" in m
                else now - self.duration(m["ago"], "ago"))

    def log_entry(self, now: datetime, f: _Field) -> tuple[datetime, int, dict[str, Any]]:
        m = self.mapping(f, "error_log entry", {"level", "code", "sub_code", "message"},
                         {"at", "ago", "active"})
        when = self.entry_time(now, f, m)
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

    def toshiba_entry(self, now: datetime, f: _Field) -> tuple[datetime, int, dict[str, Any]]:
        """``{ago|at, code: 2230, equipment: "010300", severity?, active?}``."""
        m = self.mapping(f, "error_log entry", {"code", "equipment"},
                         {"at", "ago", "active", "severity"})
        when = self.entry_time(now, f, m)
        code = self.integer(m["code"], "code", 1000, 6999)
        event = canonical_code(code)
        if event is None:
            raise self.fail(f"no Toshiba alarm code {code} (see docs/dialects/toshiba.md)",
                            m["code"].line)
        sub = sub_code_of(self.string(m["equipment"], "equipment"))
        if sub is None:
            raise self.fail("equipment is xxyyzz: cabinet 01-07, slot, circuit",
                            m["equipment"].line)
        major = EVENTS[event].major
        if "severity" in m:
            major = self.choice(m["severity"], "severity", {"MAJOR", "MINOR"}) == "MAJOR"
        return when, f.line, {
            "level": Level.MJ if major else Level.MN, "code": event, "sub": sub,
            "message": EVENTS[event].message,
            "active": self.boolean(m["active"], "active") if "active" in m else False,
        }

    def fault(self, f: _Field) -> Callable[[PbxState], None]:
        """Check a fault entry now; inject it later (after the site's call history)."""
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
                            else self.integer(value, name, 0, 99999))

        def inject(pbx: PbxState) -> None:
            try:
                pbx.inject_fault(kind, **params)
            except StateError as exc:
                raise self.fail(f"fault: {exc}", f.line) from None
        return inject

    def smdr(self, f: _Field, inherited: CallHistory | None = None) -> CallHistory:
        """``smdr: {calls: 40, span: 2d, seed: 7, layout: B, date_order: MDY, time: 12h}``:
        the layout the SMDR port prints (simulators/smdr_format.py; every key optional)
        and call history made by the generator (without ``calls``, a base scenario's).

        Made last, once every fault is in: a power cut's gap and dead trunks show in it.
        """
        m = self.mapping(f, "smdr", set(), {"calls", "span", "seed", "layout", "date_order",
                                            "time"})
        calls = self.integer(m["calls"], "calls", 0, 1500) if "calls" in m else 0
        span = self.duration(m["span"], "span") if "span" in m else timedelta(days=1)
        seed = self.integer(m["seed"], "seed", 0, 2**31) if "seed" in m else 0
        names: dict[str, str | None] = {"layout": None, "date_order": None, "time": None}
        fmt = smdr_format(self.vendor)
        for key in names:  # each checked with the ones before it, so its line is named
            if key in m:
                names[key] = self.string(m[key], key)
                try:
                    fmt = smdr_format(self.vendor, **names)
                except ValueError as exc:
                    raise self.fail(f"smdr: {exc}", m[key].line) from None

        def make_calls(pbx: PbxState) -> None:
            if "calls" in m:
                CallGenerator(pbx, seed).history(calls, span)
            elif inherited is not None:
                inherited(pbx)  # sets the base's format too: this one is set after it
            pbx.set_smdr_format(fmt)
        return make_calls
