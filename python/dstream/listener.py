"""pyspark.streaming.listener: StreamingListener and the events it receives.

The events have the shapes of Spark's (what pyspark hands a listener, through py4j): methods,
not attributes, e.g. ``batchCompleted.batchInfo().batchTime().milliseconds()``; Spark's
``Option[Long]`` values (``schedulingDelay()``, ``processingStartTime()``...) are ``Option``s
with ``get()``, ``isDefined()``, ``isEmpty()`` and ``getOrElse(default)``. Times are in
milliseconds. The engine reports streaming started, batch submitted (just before it starts: a
batch starts when it is due), batch started and batch completed; it has no receiver or output
operation events, so onReceiver* and onOutputOperation* are never called.
"""

__all__ = ["StreamingListener"]


class StreamingListener:
    """Subclass it and override the events of interest; register it with
    StreamingContext.addStreamingListener. Calls come on the engine's batch thread, one at a
    time, in batch order; one that raises is logged and skipped (the batch goes on)."""

    def __init__(self):
        pass

    def onStreamingStarted(self, streamingStarted):
        """Called when the streaming has been started (``streamingStarted.time()``)."""

    def onReceiverStarted(self, receiverStarted):
        """Never called by dstream (its receivers report no events)."""

    def onReceiverError(self, receiverError):
        """Never called by dstream (its receivers report no events)."""

    def onReceiverStopped(self, receiverStopped):
        """Never called by dstream (its receivers report no events)."""

    def onBatchSubmitted(self, batchSubmitted):
        """Called when a batch is due, just before it starts (``batchSubmitted.batchInfo()``)."""

    def onBatchStarted(self, batchStarted):
        """Called when processing of a batch has started."""

    def onBatchCompleted(self, batchCompleted):
        """Called when processing of a batch has completed (also when it failed)."""

    def onOutputOperationStarted(self, outputOperationStarted):
        """Never called by dstream (the engine reports batches, not output operations)."""

    def onOutputOperationCompleted(self, outputOperationCompleted):
        """Never called by dstream (the engine reports batches, not output operations)."""


class Option:
    """Scala's Option[Long], as a py4j user of pyspark's events sees it."""

    __slots__ = ("_value",)

    def __init__(self, value=None):
        self._value = value

    def isDefined(self):
        return self._value is not None

    def nonEmpty(self):
        return self._value is not None

    def isEmpty(self):
        return self._value is None

    def get(self):
        if self._value is None:
            raise ValueError("None.get")
        return self._value

    def getOrElse(self, default):
        return default if self._value is None else self._value

    def __eq__(self, other):
        return isinstance(other, Option) and other._value == self._value

    def __hash__(self):
        return hash(self._value)

    def __repr__(self):
        return "None" if self._value is None else "Some(%r)" % (self._value,)


class Time:
    """Spark's streaming Time: a batch time in milliseconds."""

    __slots__ = ("_ms",)

    def __init__(self, milliseconds):
        self._ms = milliseconds

    def milliseconds(self):
        return self._ms

    def __eq__(self, other):
        return isinstance(other, Time) and other._ms == self._ms

    def __lt__(self, other):
        return self._ms < other._ms

    def __hash__(self):
        return hash(self._ms)

    def __repr__(self):
        return "%d ms" % self._ms


class BatchInfo:
    """Spark's BatchInfo: one batch's times (ms) and input records. numBadRecords() and
    failureReason() are dstream's additions."""

    def __init__(self, batchTime, submissionTime, processingStartTime, processingEndTime, numRecords,
                 numBadRecords=0, failureReason=None):
        self._batchTime = Time(batchTime)
        self._submissionTime = submissionTime
        self._start = processingStartTime
        self._end = processingEndTime
        self._numRecords = numRecords
        self._numBadRecords = numBadRecords
        self._failureReason = failureReason

    def batchTime(self):
        return self._batchTime

    def submissionTime(self):
        return self._submissionTime

    def processingStartTime(self):
        return Option(self._start)

    def processingEndTime(self):
        return Option(self._end)

    def schedulingDelay(self):
        """How long the batch waited before it started (ms)."""
        return Option(None if self._start is None else self._start - self._submissionTime)

    def processingDelay(self):
        """How long the batch ran (ms)."""
        return Option(None if self._start is None or self._end is None else self._end - self._start)

    def totalDelay(self):
        """From due to done (ms): scheduling delay plus processing delay."""
        return Option(None if self._end is None else self._end - self._submissionTime)

    def numRecords(self):
        """Records received by all input streams for the batch."""
        return self._numRecords

    def numBadRecords(self):
        return self._numBadRecords

    def failureReason(self):
        return Option(self._failureReason)

    def streamIdToInputInfo(self):
        return {}

    def outputOperationInfos(self):
        return {}

    def __repr__(self):
        return ("BatchInfo(batchTime=%r, submissionTime=%d, processingStartTime=%r, processingEndTime=%r, "
                "numRecords=%d)" % (self._batchTime, self._submissionTime, self.processingStartTime(),
                                    self.processingEndTime(), self._numRecords))


class _BatchEvent:
    __slots__ = ("_info",)

    def __init__(self, info):
        self._info = info

    def batchInfo(self):
        return self._info

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self._info)


class StreamingListenerBatchSubmitted(_BatchEvent):
    pass


class StreamingListenerBatchStarted(_BatchEvent):
    pass


class StreamingListenerBatchCompleted(_BatchEvent):
    pass


class StreamingListenerStreamingStarted:
    __slots__ = ("_time",)

    def __init__(self, time):
        self._time = time

    def time(self):
        """The time of the first batch (ms)."""
        return self._time

    def __repr__(self):
        return "StreamingListenerStreamingStarted(%d)" % self._time


_BATCH_EVENTS = {
    "batchSubmitted": ("onBatchSubmitted", StreamingListenerBatchSubmitted),
    "batchStarted": ("onBatchStarted", StreamingListenerBatchStarted),
    "batchCompleted": ("onBatchCompleted", StreamingListenerBatchCompleted),
}


def _dispatcher(listener):
    """The function the engine calls: dispatch(event, payload) -> the listener's method."""
    def dispatch(event, payload):
        if event == "streamingStarted":
            listener.onStreamingStarted(StreamingListenerStreamingStarted(payload))
            return
        method, cls = _BATCH_EVENTS[event]
        getattr(listener, method)(cls(BatchInfo(*payload)))
    return dispatch
