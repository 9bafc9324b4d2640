"""Infrastructure failures are told apart from code failures by their words."""

from __future__ import annotations

import pytest

from pipelines.testresults.infra import Failed, build_cause, infrastructure_cause


@pytest.mark.parametrize(
    ("failed", "label"),
    [
        (Failed("out of memory: the container was killed by the kernel"), "out of memory"),
        (Failed("could not pull image nope/missing:1: manifest unknown"), "image not found"),
        (Failed("image busybox:9 is not on this host and its pull policy is never"), "image not found"),
        (Failed("runner 'ci-3' lost: it has not renewed its lease for 60s"), "runner lost"),
        (Failed("the Docker engine stopped (or restarted) during the step (exit 143)"), "engine restarted"),
        (Failed("", last_lines=("pip install", "OSError: [Errno 28] No space left on device")), "disk full"),
        (Failed("fatal: could not read Username", clone=True), "clone failed"),
        (Failed(""), ""),
        (Failed("", last_lines=("FAILED tests/test_a.py::test_b - assert 1 == 2",)), ""),
    ],
)
def test_each_infrastructure_failure_has_its_label(failed, label):
    assert infrastructure_cause(failed) == label


def test_a_build_is_an_infrastructure_failure_only_when_every_failure_is():
    oom, code = Failed("out of memory: the container was killed by the kernel"), Failed("")

    assert build_cause([oom]) == "out of memory"
    assert build_cause([oom, code]) == ""
    assert build_cause([]) == ""
