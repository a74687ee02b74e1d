"""User-function errors, and the native sources (files, sockets) on the system clock."""
import os
import socket
import threading

import pytest

from conftest import WAIT, Collector, manual_context
from dstream import SparkContext, StreamingContext, StreamingError


def test_an_exception_in_a_user_function_is_reraised_with_its_traceback():
    ssc = manual_context(1)
    try:
        ssc.queueStream([[1, 0]]).map(lambda x: 1 / x).pprint()
        ssc.start()
        ssc.TEST_advanceClock(1)
        with pytest.raises(StreamingError) as err:
            ssc.awaitTermination(timeout=WAIT)
        text = str(err.value)
        assert "Traceback (most recent call last)" in text
        assert "ZeroDivisionError: division by zero" in text
        assert "lambda x: 1 / x" in text  # the user's source line, as Python prints it
    finally:
        ssc.stop()


def test_a_transform_returning_no_rdd_fails_the_batch():
    ssc = manual_context(1)
    try:
        ssc.queueStream([[1]]).transform(lambda rdd: [1]).pprint()
        ssc.start()
        ssc.TEST_advanceClock(1)
        with pytest.raises(StreamingError, match="must return an RDD"):
            ssc.awaitTermination(timeout=WAIT)
    finally:
        ssc.stop()


def test_awaitTerminationOrTimeout_and_stop():
    ssc = manual_context(1)
    ssc.queueStream([]).pprint()
    ssc.start()
    assert ssc.awaitTerminationOrTimeout(0.01) is False
    ssc.stop(stopSparkContext=False)
    assert ssc.awaitTerminationOrTimeout(0.01) is True
    sc = ssc.sparkContext
    with pytest.raises(ValueError, match="multiple SparkContexts"):
        SparkContext("local", "second")
    sc.stop()


def _run_until(ssc, got, predicate):
    with got.cond:
        ok = got.cond.wait_for(lambda: predicate([x for _, b in got.batches for x in b]), timeout=WAIT)
    ssc.stop()
    assert ok, "the expected elements did not arrive: %r" % got.batches


def test_textFileStream_reads_files_moved_into_a_directory(tmp_path):
    watched = tmp_path / "in"
    watched.mkdir()
    sc = SparkContext("local[2]", "files")
    ssc = StreamingContext(sc, 0.2)
    got = Collector()
    ssc.textFileStream("file://" + str(watched)).map(lambda w: w.upper()).foreachRDD(got)
    ssc.start()
    staged = tmp_path / "words"
    staged.write_text("hej\nkalle\nnisse\n")
    os.rename(staged, watched / "words")  # atomically, as the lab says
    _run_until(ssc, got, lambda xs: sorted(xs) == ["HEJ", "KALLE", "NISSE"])


def test_socketTextStream_reads_lines_as_str():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def feed():
        conn, _ = server.accept()
        with conn:
            conn.sendall("ett\ntvå\ntre\n".encode())
            conn.recv(1)  # hold the connection open until the client goes
    threading.Thread(target=feed, daemon=True).start()
    sc = SparkContext("local[2]", "socket")
    ssc = StreamingContext(sc, 0.2)
    got = Collector()
    ssc.socketTextStream("localhost", port).foreachRDD(got)
    ssc.start()
    try:
        _run_until(ssc, got, lambda xs: xs == ["ett", "två", "tre"])
    finally:
        server.close()


def test_stop_from_inside_foreachRDD_ends_awaitTermination():
    ssc = manual_context(1)
    seen = []

    def stop_after_first(rdd):
        seen.append(rdd.collect())
        ssc.stop(stopSparkContext=True)
    ssc.queueStream([[1], [2]]).foreachRDD(stop_after_first)
    ssc.start()
    ssc.TEST_advanceClock(1)
    ssc.awaitTermination()  # returns: the context stopped itself after the batch
    assert seen == [[1]]
    SparkContext("local", "the old one was stopped").stop()

