"""Checkpoints from Python: getOrCreate, pickled Python state (updateStateByKey, windows with an
inverse), DStream.checkpoint(interval), and what fails clearly. In-process on the manual clock,
with real files; the kill -9 test of a whole program is test_recovery_kill.py."""
import operator
import os

import pytest
from conftest import WAIT, Collector, manual_context

from dstream import SparkConf, SparkContext, StreamingContext, StreamingError

T0 = 1_700_000_000  # the manual clock's start (seconds since the epoch), on a whole second

FILES = [
    "a b a",
    "b c",
    "",
    "a d d d",
    "e",
    "a b c d e",
    "c c",
    "f",
]


def write_file(watched, i, text):
    """File i of the run, stamped inside batch i+1's interval [T0+i, T0+i+1) of the manual clock."""
    staged = watched.parent / ("staged-%d" % i)
    staged.write_text(text + "\n" if text else "")
    os.utime(staged, (T0 + i + 0.5, T0 + i + 0.5))
    os.rename(staged, watched / ("part-%d" % i))


def expected_totals(upto):
    counts = {}
    for text in FILES[:upto]:
        for w in text.split():
            counts[w] = counts.get(w, 0) + 1
    return counts


def expected_window(upto, batches=3):
    """reduceByKeyAndWindow(add, sub, 3, 1) after batch `upto`: every key seen so far (keys stay,
    at 0, as Spark keeps them without a filterFunc), counted over the last three batches."""
    seen = expected_totals(upto)
    inside = expected_totals(upto)
    before = expected_totals(max(0, upto - batches))
    return {k: inside.get(k, 0) - before.get(k, 0) for k in seen}


class Life:
    """One run of the program, starting its manual clock at T0 + `start` seconds."""

    def __init__(self, checkpoint, watched, start):
        self.totals, self.windows = Collector(), Collector()
        self.created = False

        def setup():
            self.created = True
            conf = SparkConf().set("dstream.test.manualClock", "true").set("dstream.test.manualClockStart", T0 + start)
            sc = SparkContext("local[2]", "recovery", conf=conf)
            ssc = StreamingContext(sc, 1)
            ssc.checkpoint(str(checkpoint))
            words = ssc.textFileStream(str(watched)).flatMap(lambda line: line.split()).map(lambda w: (w, 1))
            words.updateStateByKey(lambda new, old: sum(new) + (old or 0)).foreachRDD(self.totals)
            words.reduceByKeyAndWindow(operator.add, operator.sub, 3, 1).foreachRDD(self.windows)
            return ssc

        self.ssc = StreamingContext.getOrCreate(str(checkpoint), setup)
        self.ssc.start()

    def run_batch(self):
        n = len(self.totals.batches)
        self.ssc.TEST_advanceClock(1)
        self.totals.wait_for(n + 1)
        self.windows.wait_for(n + 1)
        return dict(self.totals.batches[-1][1]), dict(self.windows.batches[-1][1])

    def stop(self):
        self.ssc.stop(stopSparkContext=True)


def test_getOrCreate_resumes_python_state_and_windows_exactly(tmp_path):
    watched, checkpoint = tmp_path / "in", tmp_path / "checkpoint"
    watched.mkdir()
    life = Life(checkpoint, watched, 0)
    try:
        for i in range(4):
            write_file(watched, i, FILES[i])
            totals, window = life.run_batch()
            assert totals == expected_totals(i + 1)
            assert window == expected_window(i + 1)
    finally:
        life.stop()
    assert life.created

    # A new process would do the same: setupFunc defines the graph again, the checkpoint
    # supplies the batch times, the files already read and the pickled states.
    life = Life(checkpoint, watched, 4)
    try:
        for i in range(4, len(FILES)):
            write_file(watched, i, FILES[i])
            totals, window = life.run_batch()
            assert totals == expected_totals(i + 1), "batch %d after the restart" % (i + 1)
            assert window == expected_window(i + 1), "batch %d after the restart" % (i + 1)
    finally:
        life.stop()


def test_getOrCreate_with_an_empty_directory_starts_fresh(tmp_path):
    watched = tmp_path / "in"
    watched.mkdir()
    life = Life(tmp_path / "new-checkpoint", watched, 0)
    try:
        write_file(watched, 0, "x y x")
        totals, _ = life.run_batch()
        assert totals == {"x": 2, "y": 1}
    finally:
        life.stop()
    assert os.listdir(tmp_path / "new-checkpoint"), "the checkpoint directory was not written"


def test_getOrCreate_setupFunc_must_return_a_StreamingContext(tmp_path):
    with pytest.raises(TypeError, match="setupFunc must return a StreamingContext"):
        StreamingContext.getOrCreate(str(tmp_path), lambda: None)


def test_getActiveOrCreate_returns_the_active_context(tmp_path):
    sc = SparkContext("local[1]", "active")
    try:
        ssc = StreamingContext(sc, 1)
        assert StreamingContext.getActiveOrCreate(str(tmp_path), lambda: pytest.fail("setupFunc ran")) is ssc
    finally:
        ssc.stop()
    made = []

    def setup():
        made.append(StreamingContext(SparkContext("local[1]", "fresh"), 1))
        return made[-1]
    try:
        assert StreamingContext.getActiveOrCreate(None, setup) is made[0]
    finally:
        made[0].stop()


def test_a_state_that_cannot_be_pickled_fails_at_the_first_checkpoint_naming_the_stream(tmp_path):
    conf = SparkConf().set("dstream.test.manualClock", "true")
    ssc = StreamingContext(SparkContext("local[1]", "unpicklable", conf=conf), 1)
    ssc.checkpoint(str(tmp_path / "checkpoint"))
    pairs = ssc.queueStream([[("k", 1)]], default=[])
    # A generator cannot be pickled.
    pairs.updateStateByKey(lambda new, old: (x for x in new)).foreachRDD(lambda rdd: rdd.count())
    ssc.start()
    try:
        ssc.TEST_advanceClock(1)
        with pytest.raises(StreamingError, match=r"updateStateByKey \(stream \d+\): its state cannot be pickled"):
            ssc.awaitTermination(WAIT)
    finally:
        ssc.stop()


def test_DStream_checkpoint_interval_must_be_a_multiple_of_the_slide(tmp_path):
    ssc = StreamingContext(SparkContext("local[1]", "interval"), 1)
    try:
        stream = ssc.queueStream([[1]])
        assert stream.checkpoint(2) is stream
        with pytest.raises(Exception, match="must be a positive multiple of the stream's slide"):
            stream.checkpoint(1.5)
    finally:
        ssc.stop()


def test_reduceByKeyAndWindow_rejects_a_window_off_the_batch_grid():
    ssc = StreamingContext(SparkContext("local[1]", "grid"), 1)
    try:
        pairs = ssc.queueStream([[("a", 1)]])
        with pytest.raises(ValueError, match="windowDuration 2.5s must be a multiple"):
            pairs.reduceByKeyAndWindow(operator.add, operator.sub, 2.5, 1)
        with pytest.raises(ValueError, match="slideDuration 0.5s must be a multiple"):
            pairs.reduceByKeyAndWindow(operator.add, operator.sub, 2, 0.5)
    finally:
        ssc.stop()


def test_state_and_inverse_windows_over_a_windowed_parent():
    """A stateful stream over a window that slides every 2 batches steps at the window's slides."""
    inputs = [[("a", 1)], [("a", 2)], [("b", 1)], [("a", 1)], [], []]
    ssc = manual_context()
    try:
        windows = ssc.queueStream(inputs).window(2, 2)
        totals, windowed = Collector(), Collector()
        windows.updateStateByKey(lambda new, old: sum(new) + (old or 0)).foreachRDD(totals)
        windows.reduceByKeyAndWindow(operator.add, operator.sub, 4, 2).foreachRDD(windowed)
        ssc.start()
        for i in range(len(inputs)):
            ssc.TEST_advanceClock(1)
            if i % 2 == 1:
                totals.wait_for(i // 2 + 1)
                windowed.wait_for(i // 2 + 1)
    finally:
        ssc.stop()
    # Every 2 s the window of the last two batches is added to the totals.
    assert [sorted(b) for _, b in totals.batches] == [[("a", 3)], [("a", 4), ("b", 1)], [("a", 4), ("b", 1)]]
    assert [sorted(b) for _, b in windowed.batches] == [[("a", 3)], [("a", 4), ("b", 1)], [("a", 1), ("b", 1)]]
