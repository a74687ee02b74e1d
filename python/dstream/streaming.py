"""StreamingContext and DStream: pyspark.streaming's API over the native engine.

Elements flow through the engine as Python lists, one per partition (see _dstream.cc). Narrow
steps (map, flatMap, filter, ...) compose into one Python function per partition, run by the
engine once per partition under the GIL; keyed steps, windows with an inverse and state run
once per batch on the batch thread, over the batch's RDD (dstream.rdd), as pyspark runs them.
"""
import atexit
import collections
import datetime
import itertools
import operator
import sys

from dstream import _dstream
from dstream._conf import engine_options
from dstream.rdd import RDD, _default_partitions, _save_text


class StreamingError(Exception):
    """A batch failed; the message holds the Python traceback of the user function that raised."""


def _arity(f):
    code = getattr(f, "__code__", None)
    if code is None:
        return 2
    n = code.co_argcount
    if hasattr(f, "__self__"):
        n -= 1
    return n


def _with_time(f):
    """pyspark's convention: f(rdd) or f(time, rdd)."""
    if _arity(f) == 1:
        return lambda t, rdd: f(rdd)
    return f


def _time(ms):
    return datetime.datetime.fromtimestamp(ms / 1000.0)


def _epoch_ms(timestamp):
    if isinstance(timestamp, datetime.datetime):
        timestamp = timestamp.timestamp()
    return _millis(timestamp)


def _millis(seconds):
    return int(round(float(seconds) * 1000))


def _validate_window(operation, window_ms, slide_ms, parent_ms):
    if window_ms <= 0 or window_ms % parent_ms != 0:
        raise ValueError("%s: windowDuration %gs must be a multiple of the parent DStream's slide duration %gs"
                         % (operation, window_ms / 1000.0, parent_ms / 1000.0))
    if slide_ms <= 0 or slide_ms % parent_ms != 0:
        raise ValueError("%s: slideDuration %gs must be a multiple of the parent DStream's slide duration %gs"
                         % (operation, slide_ms / 1000.0, parent_ms / 1000.0))


def _hash_partitioned(pairs, n):
    """pairs in n partitions by hash(key) % n, as the RDD's keyed operations place them."""
    parts = [[] for _ in range(n)]
    for kv in pairs:
        parts[hash(kv[0]) % n].append(kv)
    return parts


_running = []  # contexts to stop before the interpreter exits (their threads take the GIL)


@atexit.register
def _stop_all():
    for ssc in list(_running):
        ssc.stop(stopSparkContext=False)


class StreamingContext:
    """pyspark's StreamingContext(sparkContext, batchDuration): batchDuration in seconds."""

    _active = None

    def __init__(self, sparkContext, batchDuration=None):
        if batchDuration is None:
            raise ValueError("batchDuration is required (seconds)")
        if StreamingContext._active is not None:
            raise ValueError("Only one StreamingContext may be active in this process")
        self._sc = sparkContext
        conf = sparkContext.getConf()
        manualStart = None  # test hook: a manual clock, starting at this many seconds since the epoch
        if conf.get("dstream.test.manualClock", "false") == "true":
            manualStart = float(conf.get("dstream.test.manualClockStart", "0"))
        options = engine_options(conf)
        self._ctx = _dstream.Context(sparkContext.master, float(batchDuration), manualStart, sparkContext._logLevel,
                                     options)
        sparkContext._uiWebUrl = self._ctx.uiWebUrl
        sparkContext._logListeners.append(self._ctx.setLogLevel)
        self._batchDuration = float(batchDuration)
        self._stopped = False
        StreamingContext._active = self

    @property
    def sparkContext(self):
        return self._sc

    @classmethod
    def getActive(cls):
        return cls._active

    @classmethod
    def getOrCreate(cls, checkpointPath, setupFunc):
        """pyspark's getOrCreate: the context that setupFunc() builds, resuming at start() from the
        checkpoint in checkpointPath when there is one (its batches, inputs and pickled Python
        state); a fresh start otherwise. Unlike pyspark, setupFunc runs in both cases: Python
        functions are not restored from the checkpoint, so the program defines them again and the
        checkpoint must match the graph it builds (start() says which stream is missing)."""
        ssc = setupFunc()
        if not isinstance(ssc, StreamingContext):
            raise TypeError("getOrCreate: setupFunc must return a StreamingContext, not %s" % type(ssc).__name__)
        ssc._ctx.recoverFrom(checkpointPath)
        return ssc

    @classmethod
    def getActiveOrCreate(cls, checkpointPath, setupFunc):
        """The active context if there is one; else getOrCreate(checkpointPath, setupFunc), or
        setupFunc() when checkpointPath is None."""
        if cls._active is not None:
            return cls._active
        if checkpointPath is None:
            return setupFunc()
        return cls.getOrCreate(checkpointPath, setupFunc)

    # ---- sources ----
    def textFileStream(self, directory):
        """Lines (str) of the files that appear in directory (a path or file:// URI) while running."""
        return DStream(None, self, lines=self._ctx.textFileStream(directory))

    def socketTextStream(self, hostname, port, storageLevel=None):
        """Lines (str, UTF-8) received from hostname:port; reconnects as Spark's receiver does."""
        return DStream(None, self, lines=self._ctx.socketTextStream(hostname, int(port)))

    def binaryRecordsStream(self, directory, recordLength):
        """Records (bytes) of exactly recordLength bytes of the files that appear in directory, as
        textFileStream watches it. A file's bytes after its last whole record are dropped and
        counted as a bad record naming the file and offset; recordLength <= 0 raises ValueError."""
        return DStream(self._ctx.binaryRecordsStream(directory, recordLength), self)

    def queueStream(self, rdds, oneAtATime=True, default=None):
        """One RDD (or list) of rdds per batch; with oneAtATime=False, all of them in the first."""
        q = _dstream.Queue()
        for r in rdds:
            q.push(self._partitions(r))
        d = None if default is None else self._partitions(default)
        return DStream(self._ctx.queueStream(q, oneAtATime, d), self)

    def _partitions(self, r):
        if isinstance(r, RDD):
            return r._parts
        return self._sc.parallelize(r)._parts

    def union(self, *dstreams):
        if not dstreams:
            raise ValueError("should have at least one DStream to union")
        if len(dstreams) == 1 and isinstance(dstreams[0], (list, tuple)):
            dstreams = dstreams[0]
        first = dstreams[0]
        for d in dstreams[1:]:
            first = first.union(d)
        return first

    def checkpoint(self, directory):
        self._ctx.checkpoint(directory)

    def transform(self, dstreams, transformFunc):
        """A stream whose batch is transformFunc([rdd of each stream]) -> RDD; the RDDs are in the
        order of dstreams, which must have the same slide duration."""
        ctx = self._sc

        def run(ms, batches):
            r = transformFunc([RDD(parts, ctx) for parts in batches])
            if not isinstance(r, RDD):
                raise TypeError("transform: the function must return an RDD, not %s" % type(r).__name__)
            return r._parts
        return DStream(self._ctx.transform([d._native() for d in dstreams], run), self)

    def remember(self, duration):
        self._ctx.remember(float(duration))

    def addStreamingListener(self, streamingListener):
        """Registers a dstream.listener.StreamingListener (pyspark's); also while running."""
        from dstream.listener import _dispatcher
        self._ctx.addStreamingListener(_dispatcher(streamingListener))

    # ---- lifecycle ----
    def start(self):
        self._ctx.start()
        _running.append(self)

    def stop(self, stopSparkContext=True, stopGraceFully=False):
        if not self._stopped:
            self._ctx.stop(stopGraceFully)
            self._stopped = True
        if self in _running:
            _running.remove(self)
        if StreamingContext._active is self:
            StreamingContext._active = None
        if stopSparkContext:
            self._sc.stop()

    def awaitTermination(self, timeout=None):
        """Waits until stop(), or timeout seconds. Re-raises a failed batch's error (StreamingError).

        Ctrl-C (KeyboardInterrupt) stops the context gracefully, then propagates.
        """
        try:
            if timeout is not None:
                self._await(timeout)
                return
            while not self._await(0.25):  # wakes to let Python see Ctrl-C
                pass
        except KeyboardInterrupt:
            self.stop(stopSparkContext=False, stopGraceFully=True)
            raise

    def awaitTerminationOrTimeout(self, timeout):
        """True if the context stopped within timeout seconds; re-raises a failed batch's error."""
        try:
            return self._await(timeout)
        except KeyboardInterrupt:
            self.stop(stopSparkContext=False, stopGraceFully=True)
            raise

    def _await(self, timeout):
        try:
            return self._ctx.awaitTerminationOrTimeout(float(timeout))
        except (_dstream.PythonFunctionError, _dstream.EngineError) as e:
            raise StreamingError(str(e)) from None

    # Test hook: with SparkConf().set("dstream.test.manualClock", "true"), moves the clock.
    def TEST_advanceClock(self, seconds):
        self._ctx.advanceClock(float(seconds))




class DStream:
    """pyspark's DStream. Narrow steps are composed (as pyspark's PipelinedDStream) and run once
    per partition; `_native()` is the engine stream they end in. A stream of a source's lines
    stays native (`_lines`) until a Python function needs them as str: count, countByWindow,
    countByValue, window, union and repartition of lines run without Python."""

    def __init__(self, native, ssc, func=None, lines=None):
        self._ssc = ssc
        self._base = native  # engine stream (when func is None, this stream itself)
        self._func = func  # partition iterator -> iterator, applied on _base
        self._materialised = None
        self._lines = lines  # native lines (_dstream.Lines), converted to str on first use

    def _native(self):
        if self._base is None:
            self._base = self._lines.toPython()
        if self._func is None:
            return self._base
        if self._materialised is None:
            f = self._func
            self._materialised = self._base.mapPartitions(lambda part: list(f(iter(part))))
        return self._materialised

    def _ctx(self):
        return self._ssc._sc

    # ---- narrow (fused) ----
    def mapPartitions(self, f, preservesPartitioning=False):
        if self._func is None or self._materialised is not None:
            return DStream(self._native(), self._ssc, func=f)
        g = self._func
        return DStream(self._base, self._ssc, func=lambda it: f(g(it)))

    def mapPartitionsWithIndex(self, f, preservesPartitioning=False):
        return self.transform(lambda rdd: rdd.mapPartitionsWithIndex(f))

    def map(self, f, preservesPartitioning=False):
        return self.mapPartitions(lambda it: map(f, it))

    def flatMap(self, f, preservesPartitioning=False):
        return self.mapPartitions(lambda it: itertools.chain.from_iterable(map(f, it)))

    def filter(self, f):
        return self.mapPartitions(lambda it: filter(f, it))

    def mapValues(self, f):
        return self.map(lambda kv: (kv[0], f(kv[1])))

    def flatMapValues(self, f):
        return self.flatMap(lambda kv: ((kv[0], v) for v in f(kv[1])))

    def glom(self):
        return self.mapPartitions(lambda it: [list(it)])

    # ---- per batch ----
    def transform(self, func):
        """func(rdd) or func(time, rdd) -> RDD, once per batch (time: datetime)."""
        f = _with_time(func)
        return self._transform_ms(lambda ms, rdd: f(_time(ms), rdd))

    def _transform_ms(self, f):
        """f(batch time in ms, rdd) -> RDD."""
        ctx = self._ctx()

        def run(ms, parts):
            r = f(ms, RDD(parts, ctx))
            if not isinstance(r, RDD):
                raise TypeError("transform: the function must return an RDD, not %s" % type(r).__name__)
            return r._parts
        return DStream(self._native().transform(run), self._ssc)

    def transformWith(self, func, other, keepSerializer=False):
        """func(rdd_a, rdd_b) or func(time, rdd_a, rdd_b) -> RDD, once per batch."""
        f = func if _arity(func) == 3 else (lambda t, a, b: func(a, b))
        ctx = self._ctx()

        def run(ms, a, b):
            return f(_time(ms), RDD(a, ctx), RDD(b, ctx))._parts
        return DStream(self._native().transformWith(other._native(), run), self._ssc)

    def count(self):
        """One element per batch: its number of elements (0 for an empty batch)."""
        if self._lines is not None:
            return DStream(self._lines.count(), self._ssc)
        return self.transform(lambda rdd: RDD([[rdd.count()]], rdd.ctx))

    def reduce(self, func):
        """The batch reduced with func; an empty batch yields no element."""
        return self.transform(lambda rdd: RDD([[] if rdd.isEmpty() else [rdd.reduce(func)]], rdd.ctx))

    def countByValue(self):
        """(value, count) of each distinct value of the batch; counted per partition by
        collections.Counter (native), then merged."""
        if self._lines is not None:
            return DStream(self._lines.countByValue(), self._ssc)
        return self.mapPartitions(lambda it: collections.Counter(it).items()).reduceByKey(operator.add)

    def repartition(self, numPartitions):
        if self._lines is not None:
            return DStream(None, self._ssc, lines=self._lines.repartition(numPartitions))
        return self.transform(lambda rdd: rdd.repartition(numPartitions))

    def union(self, other):
        if self._slide() != other._slide():
            raise ValueError("the two DStream should have same slide duration")
        if self._lines is not None and other._lines is not None:
            return DStream(None, self._ssc, lines=self._lines.union(other._lines))
        return DStream(self._native().union(other._native()), self._ssc)

    def cache(self):
        return DStream(self._native(), self._ssc)

    def persist(self, storageLevel=None):
        return self.cache()

    def checkpoint(self, interval):
        """How often this stream's state is written to the checkpoint directory (seconds, a
        multiple of its slide). dstream writes all states together, at the shortest interval
        asked for (default: max(batch, 1 s))."""
        self._native().checkpoint(float(interval))
        return self

    def slice(self, begin, end):
        """The RDDs of this stream's batches between begin and end (datetimes or seconds since the
        epoch), both included. On the batch thread (in foreachRDD, transform) missing batches are
        computed; elsewhere only the batches the stream remembers (see StreamingContext.remember)."""
        ctx = self._ctx()
        return [RDD(parts, ctx) for parts in self._native().slice(_epoch_ms(begin), _epoch_ms(end))]

    def _slide(self):
        return (self._lines if self._lines is not None else self._native()).slideDuration()

    # ---- keyed ----
    def combineByKey(self, createCombiner, mergeValue, mergeCombiners, numPartitions=None):
        return self.transform(lambda rdd: rdd.combineByKey(createCombiner, mergeValue, mergeCombiners, numPartitions))

    def reduceByKey(self, func, numPartitions=None):
        """As pyspark: each partition is reduced by key first (fused with the narrow steps before,
        on the engine's pool), then the partitions' results are merged by hash(key) into
        numPartitions. Both loops are native; func is called only to merge two values of a key."""
        def combine(it):
            local = {}
            _dstream.reduceByKeyInto([local], it, func)
            return local.items()

        def merge(rdd):
            out = [{} for _ in range(_default_partitions(rdd.ctx, numPartitions))]
            for part in rdd._parts:
                _dstream.reduceByKeyInto(out, part, func)
            return RDD([list(d.items()) for d in out], rdd.ctx)
        return self.mapPartitions(combine).transform(merge)

    def groupByKey(self, numPartitions=None):
        return self.transform(lambda rdd: rdd.groupByKey(numPartitions))

    def partitionBy(self, numPartitions, partitionFunc=hash):
        return self.transform(lambda rdd: rdd.partitionBy(numPartitions, partitionFunc))

    def cogroup(self, other, numPartitions=None):
        return self.transformWith(lambda a, b: a.cogroup(b, numPartitions), other)

    def join(self, other, numPartitions=None):
        return self.transformWith(lambda a, b: a.join(b, numPartitions), other)

    def leftOuterJoin(self, other, numPartitions=None):
        return self.transformWith(lambda a, b: a.leftOuterJoin(b, numPartitions), other)

    def rightOuterJoin(self, other, numPartitions=None):
        return self.transformWith(lambda a, b: a.rightOuterJoin(b, numPartitions), other)

    def fullOuterJoin(self, other, numPartitions=None):
        return self.transformWith(lambda a, b: a.fullOuterJoin(b, numPartitions), other)

    def context(self):
        """The StreamingContext this stream belongs to."""
        return self._ssc

    # ---- windows ----
    def window(self, windowDuration, slideDuration=None):
        """Every slideDuration seconds, the union of the batches of the last windowDuration seconds."""
        slide = None if slideDuration is None else float(slideDuration)
        if self._lines is not None:
            return DStream(None, self._ssc, lines=self._lines.window(float(windowDuration), slide))
        return DStream(self._native().window(float(windowDuration), slide), self._ssc)

    def reduceByWindow(self, reduceFunc, invReduceFunc, windowDuration, slideDuration):
        keyed = self.map(lambda x: (1, x))
        reduced = keyed.reduceByKeyAndWindow(reduceFunc, invReduceFunc, windowDuration, slideDuration, 1)
        return reduced.map(lambda kv: kv[1])

    def countByWindow(self, windowDuration, slideDuration):
        """The number of elements in each window: each batch is counted once (no Python per
        element), and the window's count kept incrementally with the counts that enter and leave."""
        def batchCount(rdd):
            n = rdd.count()  # an empty batch adds nothing, as when each element is mapped to 1
            return RDD([[n] if n else []], rdd.ctx)
        if self._lines is not None:
            return DStream(self._lines.countByWindow(float(windowDuration), float(slideDuration)), self._ssc)
        return self.transform(batchCount).reduceByWindow(operator.add, operator.sub, windowDuration, slideDuration)

    def countByValueAndWindow(self, windowDuration, slideDuration, numPartitions=None):
        keyed = self.map(lambda x: (x, 1))
        counted = keyed.reduceByKeyAndWindow(operator.add, operator.sub, windowDuration, slideDuration,
                                             numPartitions, None)
        return counted.filter(lambda kv: kv[1] > 0)

    def groupByKeyAndWindow(self, windowDuration, slideDuration, numPartitions=None):
        return self.window(windowDuration, slideDuration).groupByKey(numPartitions)

    def reduceByKeyAndWindow(self, func, invFunc, windowDuration, slideDuration=None, numPartitions=None,
                             filterFunc=None):
        """pyspark's reduceByKeyAndWindow. With invFunc, each window is the previous one plus the
        batches that entered minus (invFunc) those that left; keys stay (with their reduced value)
        unless filterFunc drops them. Without invFunc, the window's batches are reduced afresh."""
        reduced = self.reduceByKey(func, numPartitions)
        if invFunc is None:
            out = reduced.window(windowDuration, slideDuration).reduceByKey(func, numPartitions)
            return out.filter(filterFunc) if filterFunc is not None else out
        window_ms = _millis(windowDuration)
        slide_ms = _millis(slideDuration) if slideDuration is not None else _millis(self._slide())
        _validate_window("reduceByKeyAndWindow", window_ms, slide_ms, _millis(self._slide()))
        ctx = self._ctx()

        def step(ms, parts, state, emit):
            # state: the reduced batches still inside a window, and the last window's value.
            batches = state["batches"]
            batches[ms] = dict(kv for part in parts for kv in part)
            if not emit:
                return state, None
            if state["time"] is not None and state["time"] == ms - slide_ms:
                acc = dict(state["value"])
                for b, values in batches.items():
                    if ms - slide_ms - window_ms < b <= ms - window_ms:
                        for k, v in values.items():
                            if k in acc:
                                acc[k] = invFunc(acc[k], v)
                for b in sorted(batches):
                    if ms - slide_ms < b <= ms:
                        for k, v in batches[b].items():
                            acc[k] = func(acc[k], v) if k in acc else v
            else:
                acc = {}
                for b in sorted(batches):
                    if ms - window_ms < b <= ms:
                        for k, v in batches[b].items():
                            acc[k] = func(acc[k], v) if k in acc else v
            if filterFunc is not None:
                acc = {k: v for k, v in acc.items() if filterFunc((k, v))}
            state["time"], state["value"] = ms, acc
            for b in [b for b in batches if b <= ms - window_ms]:
                del batches[b]
            return state, _hash_partitioned(acc.items(), _default_partitions(ctx, numPartitions))

        initial = {"batches": {}, "time": None, "value": {}}
        return DStream(reduced._native().stateful("reduceByKeyAndWindow", slide_ms / 1000.0, step, initial), self._ssc)

    # ---- state ----
    def updateStateByKey(self, updateFunc, numPartitions=None, initialRDD=None):
        """updateFunc(newValues: list, oldState or None) -> new state, or None to drop the key;
        called every batch for every key with state or new values, as in pyspark. The states
        (any picklable objects) are checkpointed with pickle; a restored stream does not load
        initialRDD again."""
        initial = {}
        if initialRDD is not None:
            initial.update(initialRDD.collect() if isinstance(initialRDD, RDD) else initialRDD)
        ctx = self._ctx()

        def step(ms, parts, state, emit):
            new = dict(RDD(parts, ctx).groupByKey(numPartitions).collect())
            for k in set(state) | set(new):
                s = updateFunc(new.get(k, []), state.get(k))
                if s is None:
                    state.pop(k, None)
                else:
                    state[k] = s
            return state, _hash_partitioned(state.items(), _default_partitions(ctx, numPartitions))

        return DStream(self._native().stateful("updateStateByKey", None, step, initial), self._ssc)

    # ---- outputs ----
    def foreachRDD(self, func):
        """func(rdd) or func(time, rdd), on the batch thread, for every batch (time: datetime)."""
        f = _with_time(func)
        self._foreach_ms(lambda ms, rdd: f(_time(ms), rdd))

    def _foreach_ms(self, f):
        ctx = self._ctx()
        self._native().foreachRDD(lambda ms, parts: f(ms, RDD(parts, ctx)))

    def pprint(self, num=10):
        """pyspark's pprint: a header with the batch time, then print() of the first num elements."""
        def takeAndPrint(time, rdd):
            taken = rdd.take(num + 1)
            lines = ["-------------------------------------------", "Time: %s" % time,
                     "-------------------------------------------"]
            lines += [str(record) for record in taken[:num]]
            if len(taken) > num:
                lines.append("...")
            lines.append("")
            sys.stdout.write("\n".join(lines) + "\n")  # one write: blocks never interleave
            sys.stdout.flush()
        self.foreachRDD(takeAndPrint)

    def saveAsTextFiles(self, prefix, suffix=None):
        """Each batch to the directory "prefix-<ms>[.suffix]": part-NNNNN files of str(element)
        lines and _SUCCESS; the directory appears at once (written aside, then renamed)."""
        def save(ms, rdd):
            # As Spark Streaming, which turns off output validation: a batch redone on recovery
            # replaces its directory.
            _save_text(rdd._parts, prefix + "-" + str(ms) + ("." + suffix if suffix else ""), overwrite=True)
        self._foreach_ms(save)


