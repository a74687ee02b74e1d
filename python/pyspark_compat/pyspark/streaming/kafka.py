"""pyspark.streaming.kafka's names for dstream's (see dstream-submit)."""
from dstream.kafka import KafkaUtils, TopicAndPartition

__all__ = ["KafkaUtils", "TopicAndPartition"]
