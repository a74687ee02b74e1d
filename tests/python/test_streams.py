"""DStream operations over queued batches on the manual clock (pyspark's streaming tests' style)."""
import operator

from conftest import Collector, manual_context, run_batches


def test_map_flatMap_filter_fuse_and_keep_empty_batches():
    out = run_batches([["a b", "c"], [], ["dd"]],
                      lambda s, _: s.flatMap(str.split).map(str.upper).filter(lambda w: w != "C"))
    assert out == [["A", "B"], [], ["DD"]]


def test_mapValues_flatMapValues_glom_mapPartitions():
    pairs = [[("a", 1), ("b", 2)]]
    assert run_batches(pairs, lambda s, _: s.mapValues(lambda v: v * 10)) == [[("a", 10), ("b", 20)]]
    assert run_batches(pairs, lambda s, _: s.flatMapValues(lambda v: range(v))) == [[("a", 0), ("b", 0), ("b", 1)]]
    assert run_batches([[1, 2, 3]], lambda s, _: s.mapPartitions(lambda it: [sum(it)]), master="local[1]") == [[6]]
    assert run_batches([[1, 2, 3]], lambda s, _: s.glom().map(len), master="local[1]") == [[3]]


def test_count_reduce_countByValue():
    inputs = [["a", "b", "a"], [], ["c"]]
    assert run_batches(inputs, lambda s, _: s.count()) == [[3], [0], [1]]
    assert run_batches(inputs, lambda s, _: s.reduce(operator.add).map(sorted)) == [[["a", "a", "b"]], [], [["c"]]]
    assert run_batches(inputs, lambda s, _: s.countByValue()) == [[("a", 2), ("b", 1)], [], [("c", 1)]]


def test_reduceByKey_groupByKey_combineByKey():
    inputs = [[("a", 1), ("b", 1), ("a", 2)], [], [("b", 5)]]
    assert run_batches(inputs, lambda s, _: s.reduceByKey(operator.add)) == [[("a", 3), ("b", 1)], [], [("b", 5)]]
    assert run_batches(inputs, lambda s, _: s.groupByKey().mapValues(sorted)) == \
        [[("a", [1, 2]), ("b", [1])], [], [("b", [5])]]
    assert run_batches(inputs, lambda s, _: s.combineByKey(lambda v: [v], lambda c, v: c + [v],
                                                           operator.add).mapValues(sorted)) == \
        [[("a", [1, 2]), ("b", [1])], [], [("b", [5])]]


def test_reduceByKey_numPartitions():
    out = run_batches([[("a", 1), ("b", 1)]], lambda s, _: s.reduceByKey(operator.add, 3).transform(
        lambda rdd: rdd.ctx.parallelize([rdd.getNumPartitions()], 1)))
    assert out == [[3]]


def test_union_repartition_transform_transformWith():
    def build(s, ssc):
        return s.union(s.map(lambda x: x * 10))
    assert run_batches([[1], [2]], build) == [[1, 10], [2, 20]]
    assert run_batches([[1, 2, 3]], lambda s, _: s.repartition(3).glom().map(len)) == [[1, 1, 1]]
    assert run_batches([[3, 1]], lambda s, _: s.transform(lambda rdd: rdd.sortBy(lambda x: x)), sort=False) == [[1, 3]]
    seen = []
    run_batches([[1]], lambda s, _: s.transform(lambda t, rdd: seen.append(t) or rdd))
    assert seen[0].year == 1970  # the manual clock starts at the epoch
    assert run_batches([[("a", 1)]], lambda s, ssc: s.transformWith(
        lambda a, b: a.join(b), s.mapValues(str))) == [[("a", (1, "1"))]]
    assert run_batches([[1]], lambda s, ssc: ssc.union(s, s)) == [[1, 1]]


def test_window_and_countByWindow():
    inputs = [["a"], ["b", "c"], [], ["d"], []]
    assert run_batches(inputs, lambda s, _: s.window(2, 1)) == [["a"], ["a", "b", "c"], ["b", "c"], ["d"], ["d"]]
    # pyspark's countByWindow (reduceByWindow with an inverse): a count once data has arrived,
    # 0 once it has all left the window.
    assert run_batches(inputs, lambda s, _: s.countByWindow(2, 1), extra=2) == [[1], [3], [2], [1], [1], [0], [0]]
    assert run_batches([[]], lambda s, _: s.countByWindow(2, 1)) == [[]]


def test_window_with_slide_emits_every_slide():
    ssc = manual_context(1)
    try:
        got = Collector()
        ssc.queueStream([[1], [2], [3], [4]]).window(2, 2).foreachRDD(got)
        ssc.start()
        for _ in range(4):
            ssc.TEST_advanceClock(1)
        got.wait_for(2)
        assert [sorted(b) for _, b in got.batches] == [[1, 2], [3, 4]]
    finally:
        ssc.stop()


def _brute_window(inputs, window, func):
    out = []
    for i in range(len(inputs)):
        acc = {}
        for batch in inputs[max(0, i - window + 1):i + 1]:
            for k, v in batch:
                acc[k] = func(acc[k], v) if k in acc else v
        out.append(sorted(acc.items()))
    return out


def test_reduceByKeyAndWindow_without_and_with_inverse():
    inputs = [[("a", 1)], [("a", 2), ("b", 1)], [("b", 3)], [], [("a", 5)], [], []]
    plain = run_batches(inputs, lambda s, _: s.reduceByKeyAndWindow(operator.add, None, 3, 1))
    assert plain == _brute_window(inputs, 3, operator.add)
    inv = run_batches(inputs, lambda s, _: s.reduceByKeyAndWindow(operator.add, operator.sub, 3, 1))
    # With an inverse, keys whose data left the window stay with 0, as in pyspark.
    assert inv == [[("a", 1)], [("a", 3), ("b", 1)], [("a", 3), ("b", 4)], [("a", 2), ("b", 4)],
                   [("a", 5), ("b", 3)], [("a", 5), ("b", 0)], [("a", 5), ("b", 0)]]
    filtered = run_batches(inputs, lambda s, _: s.reduceByKeyAndWindow(
        operator.add, operator.sub, 3, 1, filterFunc=lambda kv: kv[1] > 0))
    assert filtered == [[kv for kv in b if kv[1] > 0] for b in inv]


def test_reduceByWindow_countByValueAndWindow_groupByKeyAndWindow():
    inputs = [[1, 2], [3], [], []]
    assert run_batches(inputs, lambda s, _: s.reduceByWindow(operator.add, operator.sub, 2, 1)) == [[3], [6], [3], [0]]
    assert run_batches(inputs, lambda s, _: s.reduceByWindow(operator.add, None, 2, 1)) == [[3], [6], [3], []]
    assert run_batches([["x"], ["x", "y"], []], lambda s, _: s.countByValueAndWindow(2, 1)) == \
        [[("x", 1)], [("x", 2), ("y", 1)], [("x", 1), ("y", 1)]]
    assert run_batches([[("k", 1)], [("k", 2)]], lambda s, _: s.groupByKeyAndWindow(2, 1).mapValues(sorted)) == \
        [[("k", [1])], [("k", [1, 2])]]


def test_updateStateByKey_with_and_without_initialRDD():
    def running(values, state):
        total = (state or 0) + sum(values)
        return None if total > 10 else total
    inputs = [[("a", 1), ("a", 2)], [], [("b", 4), ("a", 20)], [("b", 1)]]
    assert run_batches(inputs, lambda s, _: s.updateStateByKey(running)) == \
        [[("a", 3)], [("a", 3)], [("b", 4)], [("b", 5)]]

    def build(s, ssc):
        return s.updateStateByKey(running, initialRDD=ssc.sparkContext.parallelize([("z", 7)]))
    assert run_batches([[("a", 1)], [("z", 1)]], build) == [[("a", 1), ("z", 7)], [("a", 1), ("z", 8)]]


def test_foreachRDD_with_one_or_two_arguments_and_queue_options():
    ssc = manual_context(1)
    try:
        one, two = [], []
        s = ssc.queueStream([[1], [2]], oneAtATime=False, default=ssc.sparkContext.parallelize([0]))
        s.foreachRDD(lambda rdd: one.append(rdd.collect()))
        s.foreachRDD(lambda t, rdd: two.append(t))
        got = Collector()
        s.foreachRDD(got)  # last: outputs run in definition order
        ssc.start()
        for i in range(2):
            ssc.TEST_advanceClock(1)
            got.wait_for(i + 1)
        assert [sorted(b) for _, b in got.batches] == [[1, 2], [0]]
        assert one == [[1, 2], [0]] and len(two) == 2
    finally:
        ssc.stop()


def test_pprint_prints_as_pyspark(capfd):
    import datetime
    out = run_batches([[("a", 1), "x", {"k": 1.5}] + list(range(10)), []], lambda s, _: s.pprint() or s)
    assert len(out) == 2
    text = capfd.readouterr().out
    t1 = datetime.datetime.fromtimestamp(1)
    t2 = datetime.datetime.fromtimestamp(2)
    dashes = "-------------------------------------------"
    first = "\n".join([dashes, "Time: %s" % t1, dashes, "('a', 1)", "x", "{'k': 1.5}"] +
                      [str(i) for i in range(7)] + ["...", "", ""])
    assert text.startswith(first)
    assert "\n".join([dashes, "Time: %s" % t2, dashes, "", ""]) in text


def test_pprint_num_and_fractional_batch_times(capfd):
    run_batches([[1, 2, 3]], lambda s, _: s.pprint(2) or s, batch=0.5)
    text = capfd.readouterr().out
    assert "Time: 1970-01-01" in text and "\n1\n2\n...\n" in text
    import datetime
    assert "Time: %s\n" % datetime.datetime.fromtimestamp(0.5) in text


def test_saveAsTextFiles_writes_str_of_elements(tmp_path):
    prefix = str(tmp_path / "out")

    def build(s, _):
        s.saveAsTextFiles(prefix, "txt")
        return s
    run_batches([[("a", 1), "b"], []], build, master="local[1]")
    first = tmp_path / "out-1000.txt"
    assert sorted(p.name for p in first.iterdir()) == ["_SUCCESS", "part-00000"]
    assert (first / "part-00000").read_text() == "('a', 1)\nb\n"
    assert (tmp_path / "out-2000.txt" / "_SUCCESS").exists()


def test_joins():
    def build(s, _):
        left = s.filter(lambda kv: kv[1] < 10)
        right = s.filter(lambda kv: kv[1] >= 10)
        return left.join(right).union(left.leftOuterJoin(right)).union(left.rightOuterJoin(right)) \
            .union(left.fullOuterJoin(right)).union(left.cogroup(right).mapValues(lambda vw: (list(vw[0]), list(vw[1]))))
    out = run_batches([[("a", 1), ("a", 10), ("b", 2), ("c", 30)]], build)
    assert out == [sorted([("a", (1, 10)),
                          ("a", (1, 10)), ("b", (2, None)),
                          ("a", (1, 10)), ("c", (None, 30)),
                          ("a", (1, 10)), ("b", (2, None)), ("c", (None, 30)),
                          ("a", ([1], [10])), ("b", ([2], [])), ("c", ([], [30]))], key=repr)]
