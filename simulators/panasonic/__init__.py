"""Panasonic KX-TDA / KX-TDE / KX-NS maintenance-console simulator."""

from simulators.panasonic.console import ConsoleError, PanasonicSession, format_log_entry

__all__ = ["ConsoleError", "PanasonicSession", "format_log_entry"]
