"""Helpers: run a pipeline over given batches on the engine's manual clock (as dstream::testing)."""
import os
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in os.environ.get("PYTHONPATH", "").split(":") if p and p not in sys.path]

from dstream import SparkConf, SparkContext, StreamingContext  # noqa: E402

# Long enough for a batch on a loaded CI machine; never a timing assertion, only a bound on a hang.
WAIT = 60


def manual_context(batch=1, master="local[2]"):
    sc = SparkContext(master, "test", conf=SparkConf().set("dstream.test.manualClock", "true"))
    return StreamingContext(sc, batch)


class Collector:
    """foreachRDD target: every batch's (time, collected elements), in order."""

    def __init__(self):
        self.batches = []
        self.cond = threading.Condition()

    def __call__(self, time, rdd):
        with self.cond:
            self.batches.append((time, rdd.collect()))
            self.cond.notify_all()

    def wait_for(self, n):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.batches) >= n, timeout=WAIT), \
                "only %d of %d batches arrived" % (len(self.batches), n)


def run_batches(inputs, build, batch=1, master="local[2]", extra=0, sort=True):
    """Feeds inputs (one list per batch) through build(stream), runs len(inputs) + extra batches,
    and returns each batch's output elements (sorted unless sort=False)."""
    ssc = manual_context(batch, master)
    try:
        out = build(ssc.queueStream(inputs), ssc)
        got = Collector()
        out.foreachRDD(got)
        ssc.start()
        n = len(inputs) + extra
        for i in range(n):
            ssc.TEST_advanceClock(batch)
            got.wait_for(i + 1)
        return [sorted(b, key=repr) if sort else b for _, b in got.batches[:n]]
    finally:
        ssc.stop()


@pytest.fixture
def run():
    return run_batches
