"""StreamingContext.transform over several streams, DStream.slice, and the native reduceByKey and
countByValue paths (their results and their errors)."""
import operator

import pytest
from conftest import WAIT, Collector, manual_context

from dstream import RDD, StreamingError


def test_ssc_transform_hands_over_one_rdd_per_stream_in_order(run):
    def build(s, ssc):
        doubled = s.map(lambda x: x * 2)
        return ssc.transform([s, doubled], lambda rdds: rdds[0].union(rdds[1].map(lambda x: -x)))
    assert run([[1, 2], [], [3]], build, sort=False) == [[1, 2, -2, -4], [], [3, -6]]


def test_ssc_transform_requires_an_rdd_and_equal_slides():
    ssc = manual_context()
    try:
        s = ssc.queueStream([[1]])
        with pytest.raises(Exception, match="slide"):
            ssc.transform([s, s.window(2, 2)], lambda rdds: rdds[0])
        ssc.transform([s], lambda rdds: [1]).foreachRDD(lambda rdd: None)
        ssc.start()
        ssc.TEST_advanceClock(1)
        with pytest.raises(StreamingError, match="transform: the function must return an RDD, not list"):
            ssc.awaitTermination(WAIT)
    finally:
        ssc.stop()


def test_slice_returns_the_remembered_batches_between_two_times():
    ssc = manual_context()
    try:
        s = ssc.queueStream([[1], [2, 3], [4]])
        ssc.remember(10)
        got = Collector()
        s.foreachRDD(got)
        ssc.start()
        for i in range(3):
            ssc.TEST_advanceClock(1)
            got.wait_for(i + 1)
        times = [t for t, _ in got.batches]
        assert [r.collect() for r in s.slice(times[0], times[2])] == [[1], [2, 3], [4]]
        # seconds since the epoch work as well as datetimes; ends off the grid round down
        assert [r.collect() for r in s.slice(times[1].timestamp() + 0.5, times[2].timestamp())] == [[2, 3], [4]]
    finally:
        ssc.stop()


def test_slice_inside_foreachRDD_computes_missing_batches():
    ssc = manual_context()
    try:
        s = ssc.queueStream([[1], [2], [3]]).map(lambda x: x * 10)
        got = Collector()
        s.foreachRDD(lambda t, rdd: got(t, RDD([[r.collect() for r in s.slice(t.timestamp() - 1, t)]], None)))
        ssc.start()
        for i in range(3):
            ssc.TEST_advanceClock(1)
            got.wait_for(i + 1)
        assert [b for _, b in got.batches] == [[[10]], [[10], [20]], [[20], [30]]]
    finally:
        ssc.stop()


def test_slice_before_start_is_an_error():
    ssc = manual_context()
    try:
        with pytest.raises(Exception, match="call slice after start"):
            ssc.queueStream([[1]]).slice(0, 10)
    finally:
        ssc.stop()


def test_reduceByKey_natively_with_operator_add_and_with_python_functions(run):
    inputs = [[("a", 1), ("b", 2), ("a", 3)], [], [("a", 1.5), ("a", 2.5)], [("s", "x"), ("s", "y")]]
    assert run(inputs, lambda s, _: s.reduceByKey(operator.add)) == \
        [[("a", 4), ("b", 2)], [], [("a", 4.0)], [("s", "xy")]]
    assert run(inputs[:1], lambda s, _: s.reduceByKey(lambda x, y: x * 10 + y, 3)) == [[("a", 13), ("b", 2)]]
    # lists as pairs, as Python unpacking accepts them
    assert run([[["k", 1], ["k", 2]]], lambda s, _: s.reduceByKey(operator.add)) == [[("k", 3)]]


def test_reduceByKey_spreads_keys_over_numPartitions_by_hash(run):
    def build(s, _):
        return s.reduceByKey(operator.add, 4).glom().map(lambda part: sorted({hash(k) % 4 for k, _ in part}))
    parts = run([[(i, 1) for i in range(20)]], build, sort=False)[0]
    assert len(parts) == 4 and all(len(p) <= 1 for p in parts)


def test_reduceByKey_of_an_element_that_is_not_a_pair_fails_the_batch_naming_it():
    ssc = manual_context()
    try:
        ssc.queueStream([[("a", 1), 7]]).reduceByKey(operator.add).foreachRDD(lambda rdd: None)
        ssc.start()
        ssc.TEST_advanceClock(1)
        with pytest.raises(StreamingError, match=r"each element must be a \(key, value\) pair, not 7"):
            ssc.awaitTermination(WAIT)
    finally:
        ssc.stop()


def test_reduceByKey_function_errors_carry_the_traceback():
    ssc = manual_context()
    try:
        ssc.queueStream([[("a", 1), ("a", "x")]]).reduceByKey(operator.add).foreachRDD(lambda rdd: None)
        ssc.start()
        ssc.TEST_advanceClock(1)
        with pytest.raises(StreamingError, match=r"(?s)Traceback.*TypeError: unsupported operand"):
            ssc.awaitTermination(WAIT)
    finally:
        ssc.stop()


def test_countByValue_and_countByWindow_without_python_per_element(run):
    assert run([["a", "b", "a"], []], lambda s, _: s.countByValue()) == [[("a", 2), ("b", 1)], []]
    assert run([["a", "b"], [], ["c"]], lambda s, _: s.countByWindow(2, 1), extra=1) == [[2], [2], [1], [1]]


def test_RDD_is_what_ssc_transform_returns(run):
    assert run([[1]], lambda s, ssc: ssc.transform([s], lambda rdds: RDD([[len(rdds)]], None))) == [[1]]
