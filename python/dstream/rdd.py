"""RDD: one batch's elements as handed to foreachRDD and transform.

An RDD here is a list of partitions (Python lists) in this process; its operations run at once
(eagerly), partition by partition, as pyspark's would run in its Python workers.
"""
import copy
import heapq
import itertools
import math
import os
import shutil
import tempfile

_ids = itertools.count()


def _default_partitions(ctx, numPartitions):
    if numPartitions is not None:
        if numPartitions < 1:
            raise ValueError("numPartitions must be at least 1, not %r" % numPartitions)
        return numPartitions
    return ctx.defaultParallelism if ctx is not None else 1


class RDD:
    def __init__(self, partitions, ctx):
        self._parts = [p if isinstance(p, list) else list(p) for p in partitions]
        self.ctx = ctx
        self._id = next(_ids)
        self._name = None
        self.is_cached = False

    @property
    def context(self):
        return self.ctx

    def id(self):
        """A number unique to this RDD within the process."""
        return self._id

    def name(self):
        return self._name

    def setName(self, name):
        self._name = name
        return self

    # The elements are in memory already: caching only records the wish, as pyspark's flag.
    def cache(self):
        self.is_cached = True
        return self

    def persist(self, storageLevel=None):
        return self.cache()

    def unpersist(self, blocking=False):
        self.is_cached = False
        return self

    def __repr__(self):
        return "RDD[%d partitions]" % len(self._parts)

    def _new(self, parts):
        return RDD(parts, self.ctx)

    # ---- actions ----
    def collect(self):
        return [x for p in self._parts for x in p]

    def count(self):
        return sum(len(p) for p in self._parts)

    def isEmpty(self):
        return all(len(p) == 0 for p in self._parts)

    def take(self, num):
        return list(itertools.islice((x for p in self._parts for x in p), num))

    def first(self):
        rs = self.take(1)
        if rs:
            return rs[0]
        raise ValueError("RDD is empty")

    def reduce(self, f):
        vals = self.collect()
        if not vals:
            raise ValueError("Can not reduce() empty RDD")
        acc = vals[0]
        for v in vals[1:]:
            acc = f(acc, v)
        return acc

    def countByValue(self):
        counts = {}
        for x in self.collect():
            counts[x] = counts.get(x, 0) + 1
        return counts

    def top(self, num, key=None):
        return heapq.nlargest(num, self.collect(), key=key)

    def takeOrdered(self, num, key=None):
        return heapq.nsmallest(num, self.collect(), key=key)

    def getNumPartitions(self):
        return len(self._parts)

    def glom(self):
        return self._new([[list(p)] for p in self._parts])

    def foreach(self, f):
        for x in self.collect():
            f(x)

    # ---- narrow transformations ----
    def mapPartitions(self, f, preservesPartitioning=False):
        return self._new([list(f(iter(p))) for p in self._parts])

    def mapPartitionsWithIndex(self, f, preservesPartitioning=False):
        return self._new([list(f(i, iter(p))) for i, p in enumerate(self._parts)])

    def map(self, f, preservesPartitioning=False):
        return self._new([[f(x) for x in p] for p in self._parts])

    def flatMap(self, f, preservesPartitioning=False):
        return self._new([[y for x in p for y in f(x)] for p in self._parts])

    def filter(self, f):
        return self._new([[x for x in p if f(x)] for p in self._parts])

    def mapValues(self, f):
        return self._new([[(k, f(v)) for k, v in p] for p in self._parts])

    def flatMapValues(self, f):
        return self._new([[(k, y) for k, v in p for y in f(v)] for p in self._parts])

    def keys(self):
        return self.map(lambda kv: kv[0])

    def values(self):
        return self.map(lambda kv: kv[1])

    def union(self, other):
        return self._new(self._parts + other._parts)

    def repartition(self, numPartitions):
        data = self.collect()
        n = numPartitions
        return self._new([data[len(data) * i // n:len(data) * (i + 1) // n] for i in range(n)])

    # ---- shuffles: hash partitioning by hash(key) % numPartitions ----
    def partitionBy(self, numPartitions, partitionFunc=hash):
        n = _default_partitions(self.ctx, numPartitions)
        out = [[] for _ in range(n)]
        for p in self._parts:
            for kv in p:
                out[partitionFunc(kv[0]) % n].append(kv)
        return self._new(out)

    def combineByKey(self, createCombiner, mergeValue, mergeCombiners, numPartitions=None):
        n = _default_partitions(self.ctx, numPartitions)
        out = [{} for _ in range(n)]
        for p in self._parts:
            local = {}
            for k, v in p:
                local[k] = mergeValue(local[k], v) if k in local else createCombiner(v)
            for k, c in local.items():
                d = out[hash(k) % n]
                d[k] = mergeCombiners(d[k], c) if k in d else c
        return self._new([list(d.items()) for d in out])

    def reduceByKey(self, func, numPartitions=None):
        return self.combineByKey(lambda v: v, func, func, numPartitions)

    def groupByKey(self, numPartitions=None):
        def merge(c, v):
            c.append(v)
            return c

        def mergeCombiners(a, b):
            a.extend(b)
            return a
        return self.combineByKey(lambda v: [v], merge, mergeCombiners, numPartitions)

    def cogroup(self, other, numPartitions=None):
        n = _default_partitions(self.ctx, numPartitions)
        out = [{} for _ in range(n)]
        for side, rdd in ((0, self), (1, other)):
            for p in rdd._parts:
                for k, v in p:
                    d = out[hash(k) % n]
                    if k not in d:
                        d[k] = ([], [])
                    d[k][side].append(v)
        return self._new([list(d.items()) for d in out])

    def join(self, other, numPartitions=None):
        return self.cogroup(other, numPartitions).flatMapValues(
            lambda vw: [(v, w) for v in vw[0] for w in vw[1]])

    def leftOuterJoin(self, other, numPartitions=None):
        return self.cogroup(other, numPartitions).flatMapValues(
            lambda vw: [(v, w) for v in vw[0] for w in (vw[1] or [None])])

    def rightOuterJoin(self, other, numPartitions=None):
        return self.cogroup(other, numPartitions).flatMapValues(
            lambda vw: [(v, w) for v in (vw[0] or [None]) for w in vw[1]])

    def fullOuterJoin(self, other, numPartitions=None):
        return self.cogroup(other, numPartitions).flatMapValues(
            lambda vw: [(v, w) for v in (vw[0] or [None]) for w in (vw[1] or [None])])

    def sortBy(self, keyfunc, ascending=True, numPartitions=None):
        data = sorted(self.collect(), key=keyfunc, reverse=not ascending)
        n = numPartitions if numPartitions is not None else max(1, len(self._parts))
        return self._new([data[len(data) * i // n:len(data) * (i + 1) // n] for i in range(n)])

    def sortByKey(self, ascending=True, numPartitions=None, keyfunc=lambda x: x):
        return self.sortBy(lambda kv: keyfunc(kv[0]), ascending, numPartitions)

    def sum(self):
        return sum(self.collect())

    def max(self, key=None):
        return max(self.collect(), key=key)

    def min(self, key=None):
        return min(self.collect(), key=key)

    def fold(self, zeroValue, op):
        acc = zeroValue
        for p in self._parts:
            acc = op(acc, _fold(p, zeroValue, op))
        return acc

    # ---- more of pyspark's RDD ----
    def toLocalIterator(self, prefetchPartitions=False):
        return iter(self.collect())

    def foreachPartition(self, f):
        for p in self._parts:
            f(iter(p))

    def aggregate(self, zeroValue, seqOp, combOp):
        """seqOp folds each partition from a copy of zeroValue; combOp merges the results."""
        acc = copy.deepcopy(zeroValue)
        for p in self._parts:
            acc = combOp(acc, _fold(p, copy.deepcopy(zeroValue), seqOp))
        return acc

    def treeAggregate(self, zeroValue, seqOp, combOp, depth=2):
        return self.aggregate(zeroValue, seqOp, combOp)

    def treeReduce(self, f, depth=2):
        return self.reduce(f)

    def collectAsMap(self):
        return dict(self.collect())

    def countByKey(self):
        return self.keys().countByValue()

    def lookup(self, key):
        return [v for k, v in self.collect() if k == key]

    def keyBy(self, f):
        return self.map(lambda x: (f(x), x))

    def groupBy(self, f, numPartitions=None, partitionFunc=hash):
        return self.keyBy(f).groupByKey(numPartitions)

    def aggregateByKey(self, zeroValue, seqFunc, combFunc, numPartitions=None, partitionFunc=hash):
        return self.combineByKey(lambda v: seqFunc(copy.deepcopy(zeroValue), v), seqFunc, combFunc, numPartitions)

    def foldByKey(self, zeroValue, func, numPartitions=None, partitionFunc=hash):
        return self.aggregateByKey(zeroValue, func, func, numPartitions)

    def distinct(self, numPartitions=None):
        return self.map(lambda x: (x, None)).reduceByKey(lambda x, _: x, numPartitions).keys()

    def subtractByKey(self, other, numPartitions=None):
        """The pairs whose key is not in other."""
        return self.cogroup(other, numPartitions).filter(lambda kv: kv[1][0] and not kv[1][1]) \
            .flatMapValues(lambda vw: vw[0])

    def subtract(self, other, numPartitions=None):
        """The elements not in other (duplicates kept)."""
        return self.map(lambda x: (x, True)).subtractByKey(other.map(lambda x: (x, True)), numPartitions).keys()

    def intersection(self, other):
        """The distinct elements in both."""
        return self.map(lambda x: (x, None)).cogroup(other.map(lambda x: (x, None))) \
            .filter(lambda kv: kv[1][0] and kv[1][1]).keys()

    def cartesian(self, other):
        """Every pair (a, b); one partition per pair of partitions, as Spark's."""
        return self._new([[(a, b) for a in p for b in q] for p in self._parts for q in other._parts])

    def zip(self, other):
        """Pairs of the elements at the same place; both need as many partitions and elements in each."""
        if len(self._parts) != len(other._parts) or any(len(p) != len(q) for p, q in zip(self._parts, other._parts)):
            raise ValueError("Can only zip RDDs with same number of elements in each partition")
        return self._new([list(zip(p, q)) for p, q in zip(self._parts, other._parts)])

    def zipWithIndex(self):
        """(element, its index): by partition, then place in the partition."""
        start = 0
        out = []
        for p in self._parts:
            out.append([(x, start + i) for i, x in enumerate(p)])
            start += len(p)
        return self._new(out)

    def zipWithUniqueId(self):
        """(element, i*n + k) for the i-th element of partition k of n, as pyspark's."""
        n = len(self._parts)
        return self._new([[(x, i * n + k) for i, x in enumerate(p)] for k, p in enumerate(self._parts)])

    def coalesce(self, numPartitions, shuffle=False):
        """At most numPartitions partitions; without shuffle, neighbouring partitions are joined."""
        if shuffle:
            return self.repartition(numPartitions)
        n = len(self._parts)
        if numPartitions >= n:
            return self._new(self._parts)
        return self._new([[x for p in self._parts[n * i // numPartitions:n * (i + 1) // numPartitions] for x in p]
                          for i in range(numPartitions)])

    def mean(self):
        """The mean; nan for an empty RDD, as pyspark's StatCounter."""
        n = self.count()
        return self.sum() / n if n else float("nan")

    def variance(self):
        return _variance(self.collect(), 0)

    def sampleVariance(self):
        return _variance(self.collect(), 1)

    def stdev(self):
        return math.sqrt(self.variance())

    def sampleStdev(self):
        return math.sqrt(self.sampleVariance())

    def saveAsTextFile(self, path, compressionCodecClass=None):
        """Spark's layout: the directory path with part-NNNNN files (str(element) lines, bytes as
        they are) and _SUCCESS. An existing path is an error, as in Spark."""
        if compressionCodecClass is not None:
            raise ValueError("saveAsTextFile: compressionCodecClass is not supported by dstream")
        _save_text(self._parts, path, overwrite=False)


def _fold(part, zero, op):
    acc = zero
    for x in part:
        acc = op(acc, x)
    return acc


def _variance(values, ddof):
    n = len(values)
    if n - ddof <= 0:
        return float("nan")
    m = sum(values) / n
    return sum((x - m) ** 2 for x in values) / (n - ddof)


def _local_path(path):
    return path[len("file://"):] if path.startswith("file://") else path


def _save_text(parts, path, overwrite):
    """Writes parts as Spark's text output: the directory path, with part-NNNNN files of one
    line per element and _SUCCESS; written aside, then renamed into place, so it appears at once.
    overwrite: replace an existing directory (Spark Streaming's batches, rewritten on recovery);
    otherwise an existing path raises FileExistsError as Spark's FileAlreadyExistsException."""
    path = _local_path(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError("Output directory %s already exists" % path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".", dir=parent)
    try:
        for i, part in enumerate(parts):
            with open(os.path.join(tmp, "part-%05d" % i), "wb") as out:
                for x in part:
                    out.write(x if isinstance(x, bytes) else str(x).encode("utf-8"))
                    out.write(b"\n")
        open(os.path.join(tmp, "_SUCCESS"), "wb").close()
        if overwrite and os.path.isdir(path):
            shutil.rmtree(path)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

