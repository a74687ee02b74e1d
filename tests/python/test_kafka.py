"""KafkaUtils.createDirectStream against dstream-kafka-mock (librdkafka's mock cluster in its own
process), fed with kcat: (key, value) pairs per batch, fromOffsets, the rate cap, bad arguments."""
import os
import shutil
import subprocess

import pytest

from conftest import Collector
from dstream import SparkConf, SparkContext, StreamingContext
from dstream.kafka import KafkaUtils, TopicAndPartition

MOCK = os.environ.get("DSTREAM_KAFKA_MOCK")
KCAT = shutil.which("kcat")
pytestmark = pytest.mark.skipif(not MOCK or not KCAT,
                                reason="needs dstream-kafka-mock (DSTREAM_KAFKA_MOCK) and kcat (Debian's kcat)")


@pytest.fixture
def cluster():
    mock = subprocess.Popen([MOCK, "--brokers", "1", "--topic", "rsvps:2", "--exit-on-eof"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = mock.stdout.readline()
    assert line.startswith("bootstrap.servers="), line
    yield line.strip().split("=", 1)[1]
    mock.stdin.close()
    mock.wait(timeout=30)


def produce(bootstrap, topic, lines, partition=None):
    """lines: "key:value" each; sent with kcat, which waits for every acknowledgement."""
    args = [KCAT, "-P", "-b", bootstrap, "-t", topic, "-K:"]
    if partition is not None:
        args += ["-p", str(partition)]
    subprocess.run(args, input="\n".join(lines) + "\n", text=True, check=True, timeout=60)


def context(conf=None):
    conf = conf or SparkConf()
    conf.set("dstream.test.manualClock", "true").set("spark.ui.enabled", "false")
    return StreamingContext(SparkContext("local[2]", "kafka-test", conf=conf), 1)


def run(ssc, stream, batches):
    got = Collector()
    stream.foreachRDD(got)
    ssc.start()
    try:
        for i in range(batches):
            ssc.TEST_advanceClock(1)
            got.wait_for(i + 1)
    finally:
        ssc.stop()
    return [sorted(b, key=repr) for _, b in got.batches[:batches]]


def test_pairs_of_every_partition_once_per_batch(cluster):
    produce(cluster, "rsvps", ["k%d:v%d" % (i % 3, i) for i in range(12)])
    ssc = context()
    stream = KafkaUtils.createDirectStream(ssc, ["rsvps"], {"metadata.broker.list": cluster,
                                                            "auto.offset.reset": "smallest"})
    out = run(ssc, stream, 2)
    assert sorted(out[0]) == sorted(("k%d" % (i % 3), "v%d" % i) for i in range(12))
    assert out[1] == []


def test_python_operations_run_on_the_records(cluster):
    produce(cluster, "rsvps", ["a:1", "b:2", "a:3"])
    ssc = context()
    stream = KafkaUtils.createDirectStream(ssc, ["rsvps"], {"bootstrap.servers": cluster,
                                                            "auto.offset.reset": "earliest"})
    out = run(ssc, stream.map(lambda kv: (kv[0], int(kv[1]))).reduceByKey(lambda a, b: a + b), 1)
    assert out[0] == [("a", 4), ("b", 2)]


def test_from_offsets_and_the_rate_cap(cluster):
    produce(cluster, "rsvps", ["k:%d" % i for i in range(10)], partition=1)
    conf = SparkConf().set("spark.streaming.kafka.maxRatePerPartition", "4")
    ssc = context(conf)
    stream = KafkaUtils.createDirectStream(ssc, ["rsvps"], {"bootstrap.servers": cluster},
                                           fromOffsets={TopicAndPartition("rsvps", 1): 3})
    out = run(ssc, stream.map(lambda kv: int(kv[1])), 3)
    assert out == [[3, 4, 5, 6], [7, 8, 9], []]


def test_bad_arguments_are_value_errors(cluster):
    ssc = context()
    try:
        with pytest.raises(ValueError, match="kafkaParams must set bootstrap.servers"):
            KafkaUtils.createDirectStream(ssc, ["rsvps"], {})
        with pytest.raises(ValueError, match="topics must be a list"):
            KafkaUtils.createDirectStream(ssc, "rsvps", {"bootstrap.servers": cluster})
        with pytest.raises(ValueError, match="not supported"):
            KafkaUtils.createDirectStream(ssc, ["rsvps"], {"bootstrap.servers": cluster}, valueDecoder=bytes)
        with pytest.raises(ValueError, match="auto.offset.reset 'sometimes'"):
            KafkaUtils.createDirectStream(ssc, ["rsvps"], {"bootstrap.servers": cluster, "auto.offset.reset": "sometimes"})
    finally:
        ssc.stop()
