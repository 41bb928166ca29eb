"""The fuzz suite reads its budget from ``HYPOTHESIS_PROFILE`` (see ``budget.py``)."""

from __future__ import annotations

import pytest
from hypothesis.errors import InvalidArgument


def pytest_configure(config: pytest.Config) -> None:
    """An unknown profile name is a usage error at once, not a failure in every test."""
    try:
        from tests.fuzz import budget  # noqa: F401  (registers the profiles, loads the one)
    except InvalidArgument as exc:
        raise pytest.UsageError(f"HYPOTHESIS_PROFILE: {exc}") from None
