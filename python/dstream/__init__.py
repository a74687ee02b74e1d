"""dstream: pyspark's streaming API on dstream's C++ engine (issue 12).

The package's Python files live in python/dstream/; the native module _dstream is built by
CMake into <build>/python/dstream/. With both directories' parents on sys.path,
pkgutil.extend_path joins them into one package.
"""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from dstream.context import SparkConf, SparkContext  # noqa: E402
from dstream.rdd import RDD  # noqa: E402
from dstream.listener import StreamingListener  # noqa: E402
from dstream.streaming import DStream, StreamingContext, StreamingError  # noqa: E402

__all__ = ["SparkConf", "SparkContext", "RDD", "StreamingContext", "DStream", "StreamingError",
           "StreamingListener"]
