"""Toshiba Strata CTX / CIX maintenance-console simulator (docs/dialects/toshiba.md)."""

from simulators.toshiba.console import ToshibaError, ToshibaSession

__all__ = ["ToshibaError", "ToshibaSession"]
