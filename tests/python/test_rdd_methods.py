"""The rest of pyspark's RDD methods dstream has, SparkContext.setCheckpointDir and
RDD.saveAsTextFile (Spark's layout; an existing path is an error)."""
import math
import operator
import os

import pytest

from test_rdd import sc  # noqa: F401  (the fixture: a SparkContext of local[3])


def test_aggregations(sc):
    rdd = sc.parallelize([1, 2, 3, 4], 2)
    assert rdd.aggregate((0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1),
                         lambda a, b: (a[0] + b[0], a[1] + b[1])) == (10, 4)
    # The zero value is copied for every partition: a mutable zero is not shared.
    assert sorted(rdd.aggregate([], lambda acc, x: acc + [x], lambda a, b: a + b)) == [1, 2, 3, 4]
    assert rdd.treeAggregate(0, operator.add, operator.add) == 10
    assert rdd.treeReduce(operator.add) == 10
    assert rdd.mean() == 2.5
    assert rdd.variance() == 1.25 and rdd.stdev() == math.sqrt(1.25)
    assert rdd.sampleVariance() == pytest.approx(5 / 3) and rdd.sampleStdev() == pytest.approx(math.sqrt(5 / 3))
    assert math.isnan(sc.emptyRDD().mean())


def test_keyed(sc):
    pairs = sc.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
    assert sorted(pairs.aggregateByKey(0, operator.add, operator.add).collect()) == [("a", 4), ("b", 2)]
    assert sorted(pairs.aggregateByKey([], lambda acc, v: acc + [v], operator.add).collect()) == \
        [("a", [1, 3]), ("b", [2])]
    assert sorted(pairs.foldByKey(10, operator.add, 1).collect()) == [("a", 24), ("b", 12)]
    assert pairs.countByKey() == {"a": 2, "b": 1}
    assert pairs.collectAsMap() == {"a": 3, "b": 2}
    assert sorted(pairs.lookup("a")) == [1, 3] and pairs.lookup("z") == []
    assert sorted(sc.parallelize([1, 2, 3]).keyBy(lambda x: x % 2).collect()) == [(0, 2), (1, 1), (1, 3)]
    grouped = sc.parallelize(range(6)).groupBy(lambda x: x % 3, 2)
    assert grouped.getNumPartitions() == 2
    assert sorted((k, sorted(v)) for k, v in grouped.collect()) == [(0, [0, 3]), (1, [1, 4]), (2, [2, 5])]
    assert sorted(pairs.subtractByKey(sc.parallelize([("a", None)])).collect()) == [("b", 2)]


def test_set_operations(sc):
    rdd = sc.parallelize([1, 2, 2, 3, 3, 3], 3)
    assert sorted(rdd.distinct().collect()) == [1, 2, 3]
    assert rdd.distinct(1).getNumPartitions() == 1
    assert sorted(rdd.subtract(sc.parallelize([3])).collect()) == [1, 2, 2]
    assert sorted(rdd.intersection(sc.parallelize([2, 3, 4])).collect()) == [2, 3]
    cart = sc.parallelize([1, 2], 2).cartesian(sc.parallelize("ab", 2))
    assert cart.getNumPartitions() == 4
    assert sorted(cart.collect()) == [(1, "a"), (1, "b"), (2, "a"), (2, "b")]


def test_zips(sc):
    a = sc.parallelize([1, 2, 3], 2)
    assert a.zip(a.map(str)).collect() == [(1, "1"), (2, "2"), (3, "3")]
    with pytest.raises(ValueError, match="same number of elements"):
        a.zip(sc.parallelize([1, 2, 3], 3)).collect()
    assert a.zipWithIndex().collect() == [(1, 0), (2, 1), (3, 2)]
    # Partitions [1] and [2, 3]: the k-th element of partition i of n gets k*n + i.
    assert a.zipWithUniqueId().collect() == [(1, 0), (2, 1), (3, 3)]


def test_partitions_and_bookkeeping(sc):
    rdd = sc.parallelize(range(10), 5)
    coalesced = rdd.coalesce(2)
    assert coalesced.getNumPartitions() == 2 and coalesced.collect() == list(range(10))
    assert rdd.coalesce(8).getNumPartitions() == 5
    assert rdd.coalesce(8, shuffle=True).getNumPartitions() == 8
    assert rdd.id() != coalesced.id()
    assert rdd.cache() is rdd and rdd.is_cached
    assert rdd.persist() is rdd and rdd.unpersist() is rdd and not rdd.is_cached
    assert rdd.setName("r").name() == "r"
    assert rdd.context is sc
    assert list(rdd.toLocalIterator()) == list(range(10))
    seen = []
    rdd.foreachPartition(lambda it: seen.append(list(it)))
    assert seen == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_saveAsTextFile(sc, tmp_path):
    out = tmp_path / "out"
    sc.parallelize([("a", 1), "b", b"raw", 3], 2).saveAsTextFile(str(out))
    assert sorted(os.listdir(out)) == ["_SUCCESS", "part-00000", "part-00001"]
    assert (out / "part-00000").read_text() == "('a', 1)\nb\n"
    assert (out / "part-00001").read_text() == "raw\n3\n"
    with pytest.raises(FileExistsError, match="already exists"):
        sc.parallelize([1]).saveAsTextFile(str(out))
    sc.emptyRDD().saveAsTextFile("file://" + str(tmp_path / "empty"))
    assert os.listdir(tmp_path / "empty") == ["_SUCCESS"]
    assert sorted(os.listdir(tmp_path)) == ["empty", "out"]  # nothing left aside


def test_setCheckpointDir(sc, tmp_path):
    assert sc.getCheckpointDir() is None
    sc.setCheckpointDir(str(tmp_path / "ck"))
    made = sc.getCheckpointDir()
    assert os.path.dirname(made) == str(tmp_path / "ck") and os.path.isdir(made)


def test_saveAsTextFiles_replaces_a_batch_directory(tmp_path):
    # Spark Streaming turns the output check off: a batch redone (on recovery) rewrites its directory.
    from conftest import run_batches
    stale = tmp_path / "out-1000"
    stale.mkdir()
    (stale / "part-00007").write_text("old\n")

    def build(s, _):
        s.saveAsTextFiles(str(tmp_path / "out"))
        return s
    run_batches([["new"]], build, master="local[1]")
    assert sorted(os.listdir(stale)) == ["_SUCCESS", "part-00000"]
    assert (stale / "part-00000").read_text() == "new\n"
