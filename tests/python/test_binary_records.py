"""StreamingContext.binaryRecordsStream: fixed-length records of real files as bytes, on the
manual clock (each file stamped inside the batch interval that reads it)."""
import os
import re

import pytest
from conftest import Collector

from dstream import SparkConf, SparkContext, StreamingContext

T0 = 1_700_000_000  # the manual clock's start (seconds since the epoch), on a whole second


def move_in(watched, name, data, batch):
    """Writes `data` as watched/name, stamped inside batch `batch`'s interval [T0+batch-1, T0+batch)."""
    staged = watched.parent / ("staged-" + name)
    staged.write_bytes(data)
    stamp = T0 + batch - 0.5
    os.utime(staged, (stamp, stamp))
    os.rename(staged, watched / name)  # atomically, as for textFileStream


@pytest.fixture
def context():
    conf = SparkConf().set("dstream.test.manualClock", "true").set("dstream.test.manualClockStart", T0)
    ssc = StreamingContext(SparkContext("local[2]", "binary", conf=conf), 1)
    yield ssc
    ssc.stop()


def run(ssc, stream, watched, batches):
    """Runs one batch per entry of `batches` (a list of (name, bytes) files moved in for it);
    returns each batch's records."""
    got = Collector()
    stream.foreachRDD(got)
    ssc.start()
    for i, files in enumerate(batches, start=1):
        for name, data in files:
            move_in(watched, name, data, i)
        ssc.TEST_advanceClock(1)
        got.wait_for(i)
    return [records for _, records in got.batches]


@pytest.fixture
def watched(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    return d


def test_records_are_bytes_cut_at_record_length_across_several_files(context, watched):
    stream = context.binaryRecordsStream(str(watched), 4)
    got = run(context, stream, watched, [
        [("a", b"abcd\n\x00\r\n"), ("b", b"\xff\xfe\xfd\xfc")],
        [],
        [("c", b"wxyz")],
    ])
    assert got == [[b"abcd", b"\n\x00\r\n", b"\xff\xfe\xfd\xfc"], [], [b"wxyz"]]
    assert all(type(r) is bytes for batch in got for r in batch)


def test_records_go_through_python_operations(context, watched):
    stream = context.binaryRecordsStream("file://" + str(watched), 2).map(lambda r: r[0] * 256 + r[1])
    got = run(context, stream, watched, [[("nums", bytes([0, 1, 1, 0, 255, 255]))]])
    assert got == [[1, 256, 65535]]


def test_an_empty_file_yields_nothing_and_a_partial_record_is_reported(context, watched, capfd):
    stream = context.binaryRecordsStream(str(watched), 4)
    got = run(context, stream, watched, [
        [("empty", b"")],
        [("cut.bin", b"1111222233")],
    ])
    assert got == [[], [b"1111", b"2222"]]
    err = capfd.readouterr().err
    assert "bad record (binaryRecordsStream %s)" % (watched / "cut.bin") in err
    assert "a partial record of 2 bytes at byte offset 8" in err
    assert str(watched / "empty") not in err


@pytest.mark.parametrize("length", [0, -3])
def test_a_non_positive_record_length_is_a_value_error(context, watched, length):
    with pytest.raises(ValueError, match="binaryRecordsStream: recordLength must be positive"):
        context.binaryRecordsStream(str(watched), length)


def test_a_missing_directory_fails_start_naming_it(context, tmp_path):
    missing = tmp_path / "missing"
    context.binaryRecordsStream(str(missing), 4).pprint()
    with pytest.raises(Exception, match=re.escape("binaryRecordsStream: directory %s does not exist" % missing)):
        context.start()

