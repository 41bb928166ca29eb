"""PBX simulators: one state model, vendor console dialects, and the lines that carry them.

Used by tests, benchmarks and ``pbxdiag demo``; ``agent/`` and ``drivers/`` never import
this package (the CLI's ``simulate``/``demo`` commands may, lazily).
"""

from simulators.panasonic.console import ConsoleError, PanasonicSession, format_log_entry
from simulators.scenario import (
    SCENARIO_DIR,
    load_scenario,
    parse_scenario,
    resolve_scenario,
    scenario_names,
)
from simulators.ssh_server import (
    ConsoleSession,
    SessionFactory,
    SshEndpoint,
    load_or_create_host_key,
    serve_ssh,
    start_ssh_server,
)
from simulators.state import (
    CARD_TYPES,
    FAULTS,
    Card,
    CoLine,
    Extension,
    Fault,
    FaultError,
    Level,
    LogEntry,
    Mode,
    PbxState,
    StateError,
    Status,
    SystemIdentity,
    TimeService,
    sub_code,
)

__all__ = [
    "CARD_TYPES", "FAULTS", "SCENARIO_DIR", "Card", "CoLine", "ConsoleError", "ConsoleSession",
    "Extension", "Fault", "FaultError", "Level", "LogEntry", "Mode", "PanasonicSession",
    "PbxState", "SessionFactory", "SshEndpoint", "StateError", "Status", "SystemIdentity",
    "TimeService", "format_log_entry", "load_or_create_host_key", "load_scenario",
    "parse_scenario", "resolve_scenario", "scenario_names", "serve_ssh", "start_ssh_server",
    "sub_code",
]
