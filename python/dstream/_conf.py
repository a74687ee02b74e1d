"""The SparkConf keys that reach the engine, checked and converted once, when a StreamingContext
is created: rate control (spark.streaming.backpressure.*, spark.streaming.receiver.maxRate),
dstream's receiver byte limit, and the web UI (spark.ui.*). A bad value raises ValueError
naming its key."""

# Spark's defaults (dstream's ContextOptions / SocketStreamOptions have the same ones).
_BACKPRESSURE = "spark.streaming.backpressure."


def _boolean(conf, key, default):
    value = conf.get(key, None)
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError("%s must be true or false, not %r" % (key, value))


def _number(conf, key, default, kind, lowest, rule, highest=None):
    value = conf.get(key, None)
    if value is None:
        return default
    try:
        number = kind(str(value).strip())
    except ValueError:
        raise ValueError("%s must be %s, not %r" % (key, rule, value)) from None
    if number != number or number < lowest or (highest is not None and number > highest):  # NaN too
        raise ValueError("%s must be %s, not %r" % (key, rule, value))
    return number


def _positive(conf, key, default):
    value = _number(conf, key, default, float, 0, "a number > 0")
    if value <= 0:
        raise ValueError("%s must be a number > 0, not %r" % (key, conf.get(key)))
    return value


def engine_options(conf):
    """The native Context's options (a dict) from a SparkConf."""
    return {
        "backpressure": _boolean(conf, _BACKPRESSURE + "enabled", False),
        "initialRate": _number(conf, _BACKPRESSURE + "initialRate", 0, int, 0, "a whole number of records/s >= 0"),
        "proportional": _number(conf, _BACKPRESSURE + "pid.proportional", 1.0, float, 0, "a number >= 0"),
        "integral": _number(conf, _BACKPRESSURE + "pid.integral", 0.2, float, 0, "a number >= 0"),
        "derived": _number(conf, _BACKPRESSURE + "pid.derived", 0.0, float, 0, "a number >= 0"),
        "minRate": _positive(conf, _BACKPRESSURE + "pid.minRate", 100.0),
        "receiverMaxRate": _number(conf, "spark.streaming.receiver.maxRate", 0, int, 0,
                                   "a whole number of records/s >= 0 (0: unlimited)"),
        "maxReceivedBytes": _number(conf, "dstream.receiver.maxReceivedBytes", None, int, 0,
                                    "a whole number of bytes >= 0 (0: unlimited)"),
        "uiEnabled": _boolean(conf, "spark.ui.enabled", True),
        "uiPort": _number(conf, "spark.ui.port", 4040, int, 0, "a port number in 0..65535", 65535),
    }
