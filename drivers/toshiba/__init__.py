"""Toshiba Strata CTX / CIX dialect."""

from drivers.toshiba.driver import ToshibaDriver

__all__ = ["ToshibaDriver"]
