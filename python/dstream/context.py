"""SparkConf and a small SparkContext: what a streaming program needs from pyspark's core."""
import os
import uuid

from dstream.rdd import RDD, _local_path

# Set by dstream-submit's --master, as spark-submit sets spark.master.
MASTER_ENV = "DSTREAM_SUBMIT_MASTER"


def _parse_master(master):
    """The N of local[N] (local = 1, local[*] = the machine's cores), as pyspark's local master."""
    if master == "local":
        return 1
    if master.startswith("local[") and master.endswith("]"):
        n = master[len("local["):-1]
        if n == "*":
            return os.cpu_count() or 1
        if n.isdigit() and int(n) > 0:
            return int(n)
    raise ValueError("dstream runs only local masters: 'local', 'local[N]' or 'local[*]', not %r" % master)


# pyspark's level names -> dstream::LogLevel (kDebug 0, kInfo 1, kWarning 2, kError 3; 4: nothing).
_LOG_LEVELS = {"ALL": 0, "TRACE": 0, "DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3, "FATAL": 3, "OFF": 4}


class SparkConf:
    """pyspark's SparkConf: string settings; dstream reads spark.master and spark.app.name."""

    def __init__(self, loadDefaults=True):
        self._conf = {}
        if loadDefaults and os.environ.get(MASTER_ENV):
            self._conf["spark.master"] = os.environ[MASTER_ENV]

    def set(self, key, value):
        self._conf[key] = str(value)
        return self

    def setMaster(self, value):
        return self.set("spark.master", value)

    def setAppName(self, value):
        return self.set("spark.app.name", value)

    def setIfMissing(self, key, value):
        if key not in self._conf:
            self.set(key, value)
        return self

    def setAll(self, pairs):
        for k, v in pairs:
            self.set(k, v)
        return self

    def get(self, key, defaultValue=None):
        return self._conf.get(key, defaultValue)

    def getAll(self):
        return list(self._conf.items())

    def contains(self, key):
        return key in self._conf


class SparkContext:
    """pyspark's SparkContext(master=None, appName=None, conf=None), for local masters.

    As in Spark, a master given here wins over the conf, which wins over dstream-submit's --master.
    """

    _active = None

    def __init__(self, master=None, appName=None, conf=None):
        if SparkContext._active is not None:
            raise ValueError("Cannot run multiple SparkContexts at once; existing SparkContext(app=%s, master=%s)"
                             % (SparkContext._active.appName, SparkContext._active.master))
        self._conf = conf if conf is not None else SparkConf()
        if master is not None:
            self._conf.setMaster(master)
        if appName is not None:
            self._conf.setAppName(appName)
        if not self._conf.contains("spark.master"):
            raise ValueError("A master URL must be set in your configuration")
        if not self._conf.contains("spark.app.name"):
            raise ValueError("An application name must be set in your configuration")
        self.master = self._conf.get("spark.master")
        self.appName = self._conf.get("spark.app.name")
        self._parallelism = _parse_master(self.master)
        self._stopped = False
        self._logLevel = _LOG_LEVELS["INFO"]
        self._logListeners = []  # the streaming contexts' setLogLevel
        self._checkpointDir = None
        self._uiWebUrl = None  # set by the StreamingContext, which serves the UI
        SparkContext._active = self

    @property
    def defaultParallelism(self):
        return self._parallelism

    @property
    def uiWebUrl(self):
        """pyspark's sc.uiWebUrl: the web UI of the StreamingContext made on this context
        ("http://127.0.0.1:4040"), or None (spark.ui.enabled=false, no StreamingContext yet,
        or stopped)."""
        return self._uiWebUrl() if self._uiWebUrl else None

    def getConf(self):
        return self._conf

    def parallelize(self, c, numSlices=None):
        """An RDD of c's elements in numSlices (default: defaultParallelism) nearly equal partitions."""
        data = list(c)
        n = numSlices if numSlices is not None else self._parallelism
        if n < 1:
            raise ValueError("numSlices must be at least 1, not %r" % n)
        parts = [data[len(data) * i // n:len(data) * (i + 1) // n] for i in range(n)]
        return RDD(parts, self)

    def emptyRDD(self):
        return RDD([], self)

    def setCheckpointDir(self, dirName):
        """As Spark: RDD checkpoints go to a new directory (a UUID) under dirName, created now.
        dstream's RDDs live within one batch, so nothing is written there yet; the streaming
        checkpoint is StreamingContext.checkpoint's."""
        path = os.path.join(os.path.abspath(_local_path(dirName)), str(uuid.uuid4()))
        os.makedirs(path)
        self._checkpointDir = path

    def getCheckpointDir(self):
        """The directory setCheckpointDir made, or None."""
        return self._checkpointDir

    def setLogLevel(self, logLevel):
        """The least level of the engine's log lines on stderr, as pyspark's levels name it
        (ALL, DEBUG, INFO (the default), WARN, ERROR, OFF...); applies to running contexts too."""
        level = _LOG_LEVELS.get(logLevel.upper())
        if level is None:
            raise ValueError("Supplied level %s did not match one of: %s" % (logLevel, ",".join(sorted(_LOG_LEVELS))))
        self._logLevel = level
        for listener in list(self._logListeners):
            listener(level)

    def stop(self):
        self._stopped = True
        self._logListeners.clear()
        if SparkContext._active is self:
            SparkContext._active = None
