"""RecentOffers stays small however many runners ask; a stage's wake-up wakes the runners that may take it."""

from __future__ import annotations

from pipelines.plan import Platform
from pipelines.runner_api import RunnerInfo
from server.scheduler import RecentOffers, ready_message, wakes


def test_what_reads_found_for_many_kinds_of_runners_is_forgotten_after_a_few_seconds() -> None:
    offers = RecentOffers(seconds=2.0)
    for label in range(1000):  # runners with a thousand different labels, one every 0.1 s
        offers.exhausted(("linux", "amd64", (("n", str(label)),)), began=100.0 + label / 10)
    last = ("linux", "amd64", (("n", "999"),))
    assert offers.read_since(last, 199.0), "the last read is remembered"
    assert not offers.read_since(("linux", "amd64", (("n", "0"),)), 99.0), "the first one is forgotten"
    assert len(offers._exhausted) <= 21, "only the reads of the last 2 s are kept"


def test_a_read_is_remembered_for_the_long_polls_woken_before_it_began() -> None:
    offers = RecentOffers()
    key = ("linux", "amd64", ())
    offers.exhausted(key, began=10.0)
    offers.exhausted(key, began=9.0)  # an earlier read finishing later does not move it back
    assert offers.read_since(key, 10.0) and not offers.read_since(key, 10.5)
    assert not offers.read_since(("linux", "arm64", ()), 0.0)


def test_a_ready_message_wakes_the_runners_that_may_take_one_of_its_stages() -> None:
    gpu = RunnerInfo(platform=Platform(os="linux", arch="amd64"), labels={"gpu": "yes", "zone": "a"})
    plain = RunnerInfo(platform=Platform(os="linux", arch="amd64"))
    arm = RunnerInfo(platform=Platform(os="linux", arch="arm64"))
    message = ready_message([("linux", "amd64", {"gpu": "yes"}), ("", "", {"zone": "a"})])
    assert [wakes(message, runner) for runner in (gpu, plain, arm)] == [True, False, False]
    anywhere = ready_message([("", "", {})])
    assert all(wakes(anywhere, runner) for runner in (gpu, plain, arm))
    unsaid = ready_message(None)  # which stages is not said (and a message from an older server): all wake
    assert all(wakes(message, arm) for message in (unsaid, "ready", "[1]", '{"a": 1}'))
