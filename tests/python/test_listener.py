"""StreamingContext.addStreamingListener: pyspark's StreamingListener and its events."""
import os
import subprocess
import sys
import threading

import pytest

from conftest import WAIT, Collector, manual_context
from dstream import StreamingError, StreamingListener
from dstream.listener import Option


class Recorder(StreamingListener):
    def __init__(self):
        super().__init__()
        self.events = []
        self.cond = threading.Condition()

    def _add(self, name, event):
        with self.cond:
            self.events.append((name, event))
            self.cond.notify_all()

    def onStreamingStarted(self, streamingStarted):
        self._add("started", streamingStarted)

    def onBatchSubmitted(self, batchSubmitted):
        self._add("submitted", batchSubmitted.batchInfo())

    def onBatchStarted(self, batchStarted):
        self._add("batchStarted", batchStarted.batchInfo())

    def onBatchCompleted(self, batchCompleted):
        self._add("completed", batchCompleted.batchInfo())

    def completed(self):
        with self.cond:
            return [e for n, e in self.events if n == "completed"]

    def wait_completed(self, n):
        with self.cond:
            assert self.cond.wait_for(lambda: len([1 for e in self.events if e[0] == "completed"]) >= n,
                                      timeout=WAIT), self.events


def run_listened(inputs, listeners, output):
    """Runs len(inputs) batches of a queueStream into output(stream); the last listener must be a
    Recorder (it tells when a batch is done)."""
    ssc = manual_context(1)
    try:
        for listener in listeners:
            ssc.addStreamingListener(listener)
        output(ssc.queueStream(inputs))
        ssc.start()
        for i in range(len(inputs)):
            ssc.TEST_advanceClock(1)
            listeners[-1].wait_completed(i + 1)
    finally:
        ssc.stop()


def test_events_in_order_with_pyspark_shapes():
    rec = Recorder()
    run_listened([[1, 2, 3], [4]], [rec], lambda s: s.foreachRDD(Collector()))
    names = [n for n, _ in rec.events]
    assert names == ["started"] + ["submitted", "batchStarted", "completed"] * 2
    first = rec.events[1][1].batchTime().milliseconds()
    assert rec.events[0][1].time() == first
    infos = rec.completed()
    assert [i.batchTime().milliseconds() - first for i in infos] == [0, 1000]
    for info in infos:
        # The manual clock stands still while a batch runs: every delay is 0.
        assert info.submissionTime() == info.batchTime().milliseconds()
        assert info.processingStartTime().get() == info.submissionTime()
        assert info.processingEndTime().isDefined()
        assert info.schedulingDelay().get() == 0
        assert info.processingDelay().get() == 0
        assert info.totalDelay().get() == 0
        assert info.failureReason().isEmpty()
    submitted = rec.events[1][1]
    assert submitted.processingStartTime().isEmpty() and submitted.schedulingDelay().isEmpty()
    assert submitted.totalDelay().getOrElse(-1) == -1
    with pytest.raises(ValueError):
        submitted.schedulingDelay().get()


def test_a_listener_that_raises_is_logged_and_skipped(capfd):
    class Raising(StreamingListener):
        def onBatchCompleted(self, batchCompleted):
            raise ZeroDivisionError("listener bug")

    rec = Recorder()
    got = Collector()
    run_listened([[1], [2]], [Raising(), rec], lambda s: s.foreachRDD(got))
    assert [b for _, b in got.batches] == [[1], [2]]  # the batches went on
    assert len(rec.completed()) == 2  # and the next listener was called
    err = capfd.readouterr().err
    assert "a StreamingListener threw" in err and "ZeroDivisionError: listener bug" in err
    assert "Traceback (most recent call last)" in err


def test_failed_batch_is_reported_with_its_reason():
    rec = Recorder()

    def fail(rdd):
        raise RuntimeError("output failed")
    ssc = manual_context(1)
    try:
        ssc.addStreamingListener(rec)
        ssc.queueStream([[1]]).foreachRDD(fail)
        ssc.start()
        ssc.TEST_advanceClock(1)
        rec.wait_completed(1)
        with pytest.raises(StreamingError):
            ssc.awaitTermination(WAIT)
    finally:
        ssc.stop()
    info = rec.completed()[0]
    assert "RuntimeError: output failed" in info.failureReason().get()
    assert info.processingEndTime().isEmpty() and info.totalDelay().isEmpty()


def test_base_class_methods_exist_and_do_nothing():
    listener = StreamingListener()
    for name in ("onStreamingStarted", "onReceiverStarted", "onReceiverError", "onReceiverStopped",
                 "onBatchSubmitted", "onBatchStarted", "onBatchCompleted", "onOutputOperationStarted",
                 "onOutputOperationCompleted"):
        assert getattr(listener, name)(None) is None
    assert Option(5).get() == 5 and Option().isEmpty() and repr(Option(5)) == "Some(5)"


def test_pyspark_names():
    compat = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python", "pyspark_compat")
    code = ("from pyspark.streaming.listener import StreamingListener as A\n"
            "from pyspark.streaming import StreamingListener as B\n"
            "import dstream\nassert A is B is dstream.StreamingListener\n")
    env = dict(os.environ, PYTHONPATH=compat + ":" + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_numRecords_counts_the_lines_a_file_stream_read(tmp_path):
    rec = Recorder()
    ssc = manual_context(1)
    try:
        ssc.addStreamingListener(rec)
        ssc.textFileStream(str(tmp_path)).foreachRDD(Collector())
        ssc.start()
        f = tmp_path / "a.txt"
        f.write_text("x\ny\nz\n")
        t = ssc._ctx.now() + 0.5  # written during the first batch, on the engine's (manual) clock
        os.utime(f, (t, t))
        ssc.TEST_advanceClock(1)
        rec.wait_completed(1)
    finally:
        ssc.stop()
    assert [i.numRecords() for i in rec.completed()] == [3]
