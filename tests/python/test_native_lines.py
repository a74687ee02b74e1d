"""A source's lines stay native until a Python function needs them: count, countByWindow,
countByValue, window, union and repartition of textFileStream lines give what the Python path
gives (checked against the same operations after a map that forces the lines into Python)."""
import os

from conftest import Collector

from dstream import SparkConf, SparkContext, StreamingContext

T0 = 1_700_000_000

FILES = ["a\nb\na", "", "c\na", "é\n\xff-not-utf8", "b"]


def run_over_files(tmp_path, build, batches=len(FILES) + 2):
    watched = tmp_path / "in"
    watched.mkdir()
    conf = SparkConf().set("dstream.test.manualClock", "true").set("dstream.test.manualClockStart", T0)
    ssc = StreamingContext(SparkContext("local[2]", "lines", conf=conf), 1)
    try:
        lines = ssc.textFileStream(str(watched))
        streams = build(lines, lines.map(lambda x: x))
        outputs = [Collector() for _ in streams]
        for out, stream in zip(outputs, streams):
            stream.foreachRDD(out)
        ssc.start()
        for i in range(batches):
            if i < len(FILES):
                staged = tmp_path / ("staged-%d" % i)
                staged.write_bytes(FILES[i].encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
                os.utime(staged, (T0 + i + 0.5, T0 + i + 0.5))
                os.rename(staged, watched / ("part-%d" % i))
            ssc.TEST_advanceClock(1)
            for out in outputs:
                out.wait_for(i + 1)
        return [[sorted(b, key=repr) for _, b in out.batches] for out in outputs]
    finally:
        ssc.stop()


def test_native_line_operations_agree_with_the_python_path(tmp_path):
    def build(native, python):
        return [native.count(), python.count(),
                native.countByWindow(3, 1), python.countByWindow(3, 1),
                native.countByValue(), python.countByValue(),
                native.window(2, 1), python.window(2, 1),
                native.union(native.window(1, 1)), python.union(python.window(1, 1)),
                native.repartition(3).glom().map(len), python.repartition(3).glom().map(len)]
    got = run_over_files(tmp_path, build)
    for i in range(0, len(got), 2):
        assert got[i] == got[i + 1], "operation %d: native %r, python %r" % (i // 2, got[i], got[i + 1])
    counts, by_window, by_value = got[0], got[2], got[4]
    assert counts == [[3], [0], [2], [2], [1], [0], [0]]
    assert by_window == [[3], [3], [5], [4], [5], [3], [1]]
    # invalid UTF-8 is replaced, as everywhere lines become str
    assert by_value[3] == [("é", 1), ("\ufffd-not-utf8", 1)]
