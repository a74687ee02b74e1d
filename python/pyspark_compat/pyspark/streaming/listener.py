"""pyspark.streaming.listener's names for dstream's (see dstream-submit)."""
from dstream.listener import StreamingListener

__all__ = ["StreamingListener"]
