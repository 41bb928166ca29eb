"""PBX simulators: one state model, vendor console dialects, and the lines that carry them.

Used by tests, benchmarks and ``pbxdiag demo``; ``agent/`` and ``drivers/`` never import
this package (the CLI's ``simulate``/``demo`` commands may, lazily). See docs/simulators.md.
"""

from simulators.faults import FAULTS, FaultSpec
from simulators.models import CARD_TYPES, EVENTS, MODELS, CardType, ModelProfile
from simulators.panasonic.console import ConsoleError, PanasonicSession, format_log_entry
from simulators.records import (
    CallKind,
    CallRecord,
    Card,
    CoLine,
    Extension,
    Fault,
    FaultError,
    Level,
    LogEntry,
    Mode,
    StateError,
    Status,
    SystemEvent,
    SystemIdentity,
    TimeService,
    sub_code,
)
from simulators.scenario import (
    SCENARIO_DIR,
    load_scenario,
    parse_scenario,
    resolve_scenario,
    scenario_names,
)
from simulators.sessions import session_for
from simulators.smdr import CallGenerator
from simulators.smdr_server import SmdrEndpoint, serve_smdr, start_smdr_server
from simulators.ssh_server import (
    ConsoleSession,
    SessionFactory,
    SshEndpoint,
    load_or_create_host_key,
    serve_ssh,
    start_ssh_server,
)
from simulators.state import PbxState
from simulators.toshiba.console import ToshibaSession

__all__ = [
    "CARD_TYPES", "EVENTS", "FAULTS", "MODELS", "SCENARIO_DIR", "CallGenerator", "CallKind",
    "CallRecord", "Card", "CardType", "CoLine", "ConsoleError", "ConsoleSession", "Extension",
    "Fault", "FaultError", "FaultSpec", "Level", "LogEntry", "Mode", "ModelProfile",
    "PanasonicSession", "PbxState", "SessionFactory", "SmdrEndpoint", "SshEndpoint",
    "StateError", "Status", "SystemEvent", "SystemIdentity", "TimeService", "ToshibaSession",
    "format_log_entry", "load_or_create_host_key", "load_scenario", "parse_scenario",
    "resolve_scenario", "scenario_names", "serve_smdr", "serve_ssh", "session_for",
    "start_smdr_server", "start_ssh_server", "sub_code",
]
