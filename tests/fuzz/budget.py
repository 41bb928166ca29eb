"""The fuzz suite's budget: a small fixed one in ``make test``, a large one in ``make fuzz``.

``HYPOTHESIS_PROFILE`` picks the profile (``ci`` unless set). ``ci`` is derandomized and
keeps no example database, so every CI run tries exactly the same inputs and a failure
reproduces on any machine; ``fuzz`` explores with fresh randomness and many more examples
(and keeps what it finds in ``.hypothesis/``, for the next run to try first). The
profiles apply to this suite's tests only (``FUZZ``), never to the other property tests.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True)
settings.register_profile(
    "fuzz", max_examples=5000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True)

PROFILE = os.environ.get(PROFILE_VARIABLE, "ci")
#: Decorate each fuzz test with this (after ``@given``).
FUZZ = settings.get_profile(PROFILE)


def scaled(examples: int) -> settings:
    """``FUZZ`` with a different example count in ``ci`` (a slow target, such as a
    loader that validates a whole schema, gets fewer); ``fuzz`` keeps its own count."""
    if PROFILE != "ci":
        return FUZZ
    return settings(FUZZ, max_examples=examples)
