"""RDD: one batch's elements as handed to foreachRDD and transform.

An RDD here is a list of partitions (Python lists) in this process; its operations run at once
(eagerly), partition by partition, as pyspark's would run in its Python workers.
"""
import heapq
import itertools


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


def _fold(part, zero, op):
    acc = zero
    for x in part:
        acc = op(acc, x)
    return acc


