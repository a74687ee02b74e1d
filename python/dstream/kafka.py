"""pyspark.streaming.kafka: KafkaUtils.createDirectStream on dstream's Kafka direct stream.

Each batch reads a fixed offset range per partition, recorded in the checkpoint, so a batch
re-run after a crash reads the same records (doc/kafka.md). Records arrive as pyspark's default
message handler gives them: (key, value) tuples of str, key None when a record has none.
"""
from dstream.streaming import DStream


class TopicAndPartition:
    """A partition of a topic, as pyspark's TopicAndPartition (a key of fromOffsets)."""

    def __init__(self, topic, partition):
        self.topic = topic
        self.partition = int(partition)

    def __eq__(self, other):
        return isinstance(other, TopicAndPartition) and (self.topic, self.partition) == (other.topic, other.partition)

    def __hash__(self):
        return hash((self.topic, self.partition))

    def __repr__(self):
        return "TopicAndPartition(%r, %d)" % (self.topic, self.partition)


class KafkaUtils:
    @staticmethod
    def createDirectStream(ssc, topics, kafkaParams, fromOffsets=None, keyDecoder=None, valueDecoder=None,
                           messageHandler=None):
        """A DStream of (key, value) from `topics` (every partition, as they appear), or from the
        partitions of `fromOffsets` ({TopicAndPartition or (topic, partition): offset}) only.

        kafkaParams are Kafka consumer properties ("bootstrap.servers", or pyspark 0-8's
        "metadata.broker.list"; "auto.offset.reset": "largest"/"latest" (default) or
        "smallest"/"earliest"). spark.streaming.kafka.maxRatePerPartition in the SparkConf caps
        each partition's records per second of batch. Keys and values are decoded as UTF-8 (invalid
        bytes replaced); other decoders and message handlers are not supported (ValueError)."""
        if keyDecoder is not None or valueDecoder is not None or messageHandler is not None:
            raise ValueError("createDirectStream: keys and values are decoded as UTF-8 str; keyDecoder, "
                             "valueDecoder and messageHandler are not supported (map the stream instead)")
        if isinstance(topics, str):
            raise ValueError("createDirectStream: topics must be a list of topic names, not the string %r" % topics)
        params = {str(k): str(v) for k, v in dict(kafkaParams).items()}
        if "bootstrap.servers" not in params and "metadata.broker.list" in params:
            params["bootstrap.servers"] = params.pop("metadata.broker.list")
        reset = {"largest": "latest", "smallest": "earliest"}
        if params.get("auto.offset.reset") in reset:
            params["auto.offset.reset"] = reset[params["auto.offset.reset"]]
        offsets = {}
        for tp, offset in dict(fromOffsets or {}).items():
            if isinstance(tp, TopicAndPartition):
                offsets[(tp.topic, tp.partition)] = int(offset)
            else:
                topic, partition = tp
                offsets[(str(topic), int(partition))] = int(offset)
        rate = ssc.sparkContext.getConf().get("spark.streaming.kafka.maxRatePerPartition", "0")
        try:
            rate = int(rate)
        except ValueError:
            raise ValueError("spark.streaming.kafka.maxRatePerPartition must be a whole number of records/s, not %r"
                             % rate) from None
        native = ssc._ctx.kafkaDirectStream([] if offsets else list(topics), params, offsets, rate)
        return DStream(native, ssc)
