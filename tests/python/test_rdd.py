"""The RDD handed to foreachRDD and transform, and SparkContext/SparkConf."""
import operator

import pytest

from dstream import RDD, SparkConf, SparkContext


@pytest.fixture
def sc():
    s = SparkContext("local[3]", "rdd-test")
    yield s
    s.stop()


def test_parallelize_splits_into_default_parallelism(sc):
    rdd = sc.parallelize(range(10))
    assert sc.defaultParallelism == 3
    assert rdd.getNumPartitions() == 3
    assert rdd.collect() == list(range(10))
    assert sc.parallelize([1, 2], 5).getNumPartitions() == 5


def test_actions(sc):
    rdd = sc.parallelize([3, 1, 2, 3])
    assert rdd.count() == 4
    assert rdd.take(2) == [3, 1]
    assert rdd.first() == 3
    assert not rdd.isEmpty()
    assert sc.emptyRDD().isEmpty()
    assert rdd.reduce(operator.add) == 9
    assert rdd.countByValue() == {3: 2, 1: 1, 2: 1}
    assert rdd.top(2) == [3, 3]
    assert rdd.takeOrdered(2) == [1, 2]
    with pytest.raises(ValueError):
        sc.emptyRDD().first()
    with pytest.raises(ValueError):
        sc.emptyRDD().reduce(operator.add)


def test_transformations(sc):
    rdd = sc.parallelize(["a b", "c"], 2)
    assert rdd.flatMap(str.split).collect() == ["a", "b", "c"]
    assert rdd.map(len).collect() == [3, 1]
    assert rdd.filter(lambda s: " " in s).collect() == ["a b"]
    assert rdd.glom().collect() == [["a b"], ["c"]]
    assert rdd.union(rdd).count() == 4


def test_keyed(sc):
    rdd = sc.parallelize([("a", 1), ("b", 2), ("a", 3)])
    assert sorted(rdd.reduceByKey(operator.add).collect()) == [("a", 4), ("b", 2)]
    assert sorted((k, sorted(v)) for k, v in rdd.groupByKey().collect()) == [("a", [1, 3]), ("b", [2])]
    assert rdd.reduceByKey(operator.add, 1).getNumPartitions() == 1
    assert rdd.sortByKey().collect() == [("a", 1), ("a", 3), ("b", 2)]
    assert rdd.sortBy(lambda kv: kv[1], ascending=False).collect() == [("a", 3), ("b", 2), ("a", 1)]
    assert sorted(rdd.mapValues(lambda v: v * 10).collect()) == [("a", 10), ("a", 30), ("b", 20)]
    assert sorted(rdd.join(sc.parallelize([("a", "x")])).collect()) == [("a", (1, "x")), ("a", (3, "x"))]


def test_master_comes_from_the_program_then_the_conf_then_dstream_submit(monkeypatch):
    monkeypatch.setenv("DSTREAM_SUBMIT_MASTER", "local[4]")
    sc = SparkContext(appName="x")
    assert sc.master == "local[4]" and sc.defaultParallelism == 4
    sc.stop()
    sc = SparkContext("local[2]", "x")
    assert sc.defaultParallelism == 2
    sc.stop()
    sc = SparkContext(conf=SparkConf().setMaster("local").setAppName("y"))
    assert sc.defaultParallelism == 1 and sc.appName == "y"
    sc.stop()
    monkeypatch.delenv("DSTREAM_SUBMIT_MASTER")
    with pytest.raises(ValueError, match="master URL"):
        SparkContext(appName="x")
    with pytest.raises(ValueError, match="local"):
        SparkContext("yarn", "x")


def test_one_spark_context_at_a_time(sc):
    with pytest.raises(ValueError, match="multiple SparkContexts"):
        SparkContext("local", "again")
    with pytest.raises(ValueError):
        sc.setLogLevel("LOUD")
    sc.setLogLevel("WARN")


def test_rdd_repr():
    assert repr(RDD([[1], []], None)) == "RDD[2 partitions]"
