"""pyspark.streaming's names for dstream's classes (see dstream-submit)."""
from dstream import DStream, StreamingContext, StreamingListener

__all__ = ["StreamingContext", "DStream", "StreamingListener"]
