"""Panasonic KX-TDA / KX-TDE / KX-NS dialect."""

from drivers.panasonic.driver import PanasonicDriver

__all__ = ["PanasonicDriver"]
