"""The SparkConf keys that reach the engine: spark.streaming.backpressure.* and
spark.streaming.receiver.maxRate (a socket receiver reads no faster than they allow),
dstream.receiver.maxReceivedBytes, and spark.ui.enabled / spark.ui.port (sc.uiWebUrl). Bad
values raise ValueError naming the key when the StreamingContext is created."""
import socket
import threading

import pytest

from conftest import WAIT, Collector
from dstream import SparkConf, SparkContext, StreamingContext

BATCH = 0.5


def _serve(lines):
    """A server that sends `lines` lines at once to its first client; returns (port, close)."""
    server = socket.create_server(("127.0.0.1", 0))

    def feed():
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.sendall("".join("line %d\n" % i for i in range(lines)).encode())
            try:
                conn.recv(1)  # hold the connection open until the client goes
            except OSError:
                pass
    threading.Thread(target=feed, daemon=True).start()
    return server.getsockname()[1], server.close


def _received_per_batch(conf, batches=6, lines=3000):
    """Runs a socketTextStream under `conf` for `batches` batches; returns [(batch ms, count)]."""
    port, close = _serve(lines)
    sc = SparkContext("local[2]", "rates", conf=conf.set("spark.ui.enabled", "false"))
    ssc = StreamingContext(sc, BATCH)
    got = Collector()
    ssc.socketTextStream("127.0.0.1", port).count().foreachRDD(got)
    ssc.start()
    try:
        got.wait_for(batches)
    finally:
        ssc.stop()
        close()
    return [(int(round(t.timestamp() * 1000)), (b or [0])[0]) for t, b in got.batches]


def _upper_bound(rate, batch_ms, first_ms):
    """The most a receiver limited to `rate` records/s can have handed to the batch at
    batch_ms: it started after the context's zero time (first batch - one interval); plus its
    token bucket's burst (rate / 10) and one read's overshoot."""
    return rate * (batch_ms - (first_ms - BATCH * 1000)) / 1000 + rate / 5 + 50


def test_receiver_maxRate_limits_every_batch():
    batches = _received_per_batch(SparkConf().set("spark.streaming.receiver.maxRate", "200"))
    first = batches[0][0]
    total = 0
    for t, n in batches:
        total += n
        assert total <= _upper_bound(200, t, first), batches
    assert total > 0, batches


def test_backpressure_initialRate_limits_the_batches_before_the_first_estimate():
    conf = SparkConf().set("spark.streaming.backpressure.enabled", "true") \
                      .set("spark.streaming.backpressure.initialRate", "200")
    batches = _received_per_batch(conf, batches=4)
    first = batches[0][0]
    with_data = [(t, n) for t, n in batches if n > 0]
    assert with_data, batches
    # The first batch with records precedes any estimate (the estimator only records it).
    t, n = with_data[0]
    assert n <= _upper_bound(200, t, first), batches


def test_initialRate_without_backpressure_is_ignored_as_in_Spark():
    batches = _received_per_batch(SparkConf().set("spark.streaming.backpressure.initialRate", "1"),
                                  batches=2, lines=50)
    # Not paced at 1 record/s: more than the 1/s pace could bring (50 lines sent at once;
    # the bound below holds for any machine that runs the batches at all).
    first = batches[0][0]
    last, _ = batches[-1]
    total = sum(n for _, n in batches)
    assert total > _upper_bound(1, last, first) or total == 50, batches


@pytest.mark.parametrize("key,value", [
    ("spark.streaming.backpressure.enabled", "yes"),
    ("spark.streaming.backpressure.initialRate", "-1"),
    ("spark.streaming.backpressure.initialRate", "fast"),
    ("spark.streaming.backpressure.pid.proportional", "-0.5"),
    ("spark.streaming.backpressure.pid.integral", "-1"),
    ("spark.streaming.backpressure.pid.derived", "nan"),
    ("spark.streaming.backpressure.pid.minRate", "0"),
    ("spark.streaming.backpressure.pid.minRate", "-3"),
    ("spark.streaming.receiver.maxRate", "-10"),
    ("spark.streaming.receiver.maxRate", "1.5"),
    ("dstream.receiver.maxReceivedBytes", "-1"),
    ("spark.ui.enabled", "off"),
    ("spark.ui.port", "65536"),
    ("spark.ui.port", "port"),
])
def test_bad_values_are_refused_naming_the_key(key, value):
    sc = SparkContext("local[1]", "bad", conf=SparkConf().set(key, value))
    try:
        with pytest.raises(ValueError) as e:
            StreamingContext(sc, 1)
        assert key in str(e.value)
        assert repr(value) in str(e.value)
    finally:
        sc.stop()


def test_good_values_are_accepted():
    conf = SparkConf()
    for key, value in [("spark.streaming.backpressure.enabled", "TRUE"),
                       ("spark.streaming.backpressure.initialRate", "1000"),
                       ("spark.streaming.backpressure.pid.proportional", "0.8"),
                       ("spark.streaming.backpressure.pid.integral", "0"),
                       ("spark.streaming.backpressure.pid.derived", "0.1"),
                       ("spark.streaming.backpressure.pid.minRate", "10"),
                       ("spark.streaming.receiver.maxRate", "5000"),
                       ("dstream.receiver.maxReceivedBytes", "1048576"),
                       ("spark.ui.enabled", "false")]:
        conf.set(key, value)
    sc = SparkContext("local[1]", "good", conf=conf)
    ssc = StreamingContext(sc, 1)
    ssc.socketTextStream("localhost", 9).pprint()
    ssc.stop()


def test_spark_ui_enabled_false_serves_no_ui():
    sc = SparkContext("local[1]", "noui", conf=SparkConf().set("spark.ui.enabled", "false"))
    ssc = StreamingContext(sc, 1)
    try:
        assert sc.uiWebUrl is None
    finally:
        ssc.stop()


def test_spark_ui_port_is_the_uis_port():
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # free again, most likely still free a moment later
    sc = SparkContext("local[1]", "ui", conf=SparkConf().set("spark.ui.port", str(port)))
    ssc = StreamingContext(sc, 1)
    try:
        url = sc.uiWebUrl
        assert url is not None and url.startswith("http://127.0.0.1:"), url
        # Spark takes the next port when the one asked for was taken meanwhile.
        assert port <= int(url.rsplit(":", 1)[1]) <= port + 16, url
    finally:
        ssc.stop()
