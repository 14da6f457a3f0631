"""Hypothesis profiles for these tests: ``ci`` (the default) is derandomised, so that a run
draws the same configurations every time and a failure in CI is a failure on every machine;
``dev`` searches harder with fresh random draws (``HYPOTHESIS_PROFILE=dev python -m pytest``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,  # the first configuration compiles cnncalc's kernels
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
