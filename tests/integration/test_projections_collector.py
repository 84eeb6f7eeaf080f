"""The cyclic GC pause of large batches: counted, and always resumed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from projections.collector import LONGEST_PAUSE, CollectorPauses
from tests.integration.test_projections_kit import open_log, running, seed_community


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_overlapping_pauses_resume_the_collector_when_the_last_ends(collector):
    pauses = CollectorPauses()
    first = pauses.pause()
    with pauses.paused():
        assert not gc.isenabled()
    assert not gc.isenabled(), "the first pause still holds"
    first()
    first()  # releasing twice releases once
    assert gc.isenabled()


def test_back_to_back_pauses_still_collect_garbage_cycles_now_and_then(
    collector, monkeypatch: pytest.MonkeyPatch
):
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    clock = [1000.0]
    monkeypatch.setattr("projections.collector.time.monotonic", lambda: clock[0])
    pauses = CollectorPauses()
    first = pauses.pause()
    cycle = Cycle()
    del cycle
    tracked = sum(isinstance(o, Cycle) for o in gc.get_objects(0))
    assert tracked == 1, "the cycle waits while the collector is paused"
    clock[0] += LONGEST_PAUSE + 1
    second = pauses.pause()  # a later batch, the first pause still held
    assert not any(isinstance(o, Cycle) for o in gc.get_objects())
    assert not gc.isenabled()
    second()
    first()
    assert gc.isenabled()


def test_a_collector_disabled_by_someone_else_stays_disabled(collector):
    gc.disable()
    with CollectorPauses().paused():
        pass
    assert not gc.isenabled()


def test_a_block_that_fails_still_resumes_the_collector(collector):
    with pytest.raises(RuntimeError), CollectorPauses().paused():
        raise RuntimeError("a batch failed")
    assert gc.isenabled()


async def test_a_rebuild_leaves_the_collector_running(collector, sqlite_url):
    async with open_log(sqlite_url) as log:
        head = await seed_community(log, users=3, posts=20)
        async with running(log.runner(rebuild_batch_size=7)) as runner:
            assert await runner.wait_for(head, 10)
            await runner.rebuild("posts")
        assert gc.isenabled()
