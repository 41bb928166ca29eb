"""structlog, configured once: JSON lines to a file, short human lines on a terminal.

Every event passes the secret scrubber last, so a value given to ``send_secret`` or read
from a credential can never reach a log, however it got into the event.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import structlog

from agent.line.secrets import REDACTOR

_configured = False


def _scrub(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {key: _scrub_value(value) for key, value in event.items()}


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return REDACTOR.scrub(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return REDACTOR.scrub(repr(value))


def configure(*, log_file: Path | None = None, verbose: bool = False) -> None:
    """Set up logging for the process; later calls only add a file if none was set."""
    global _configured  # noqa: PLW0603 - logging is process-wide by nature
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    root = logging.getLogger()
    if not _configured:
        structlog.configure(
            processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        )
        terminal = logging.StreamHandler(sys.stderr)
        terminal.setLevel(logging.DEBUG if verbose else logging.WARNING)
        terminal.setFormatter(_formatter(structlog.dev.ConsoleRenderer(colors=False), shared))
        root.addHandler(terminal)
        root.setLevel(logging.DEBUG)
        for noisy in ("paramiko", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        _configured = True
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(_formatter(structlog.processors.JSONRenderer(), shared))
        root.addHandler(handler)


def _formatter(renderer: Any, shared: list[Any]) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _scrub,
            renderer,
        ],
    )
