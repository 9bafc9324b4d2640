"""The garbage collector's settings of the long-lived processes."""

from __future__ import annotations

import subprocess
import sys

from pipelines.gc_tuning import YOUNG_THRESHOLD

_SHOW = """
import gc
from pipelines.gc_tuning import settle_start_up
before = gc.get_threshold()
settle_start_up()
print(gc.get_threshold()[0], gc.get_threshold()[1:] == before[1:], gc.get_freeze_count() > 0)
"""


def test_start_up_is_frozen_and_the_young_generation_collected_less_often() -> None:
    """In a process of its own: the settings are the process's, not this test run's."""
    shown = subprocess.run([sys.executable, "-c", _SHOW], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == [str(YOUNG_THRESHOLD), "True", "True"]
