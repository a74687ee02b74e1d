"""pyspark's names for dstream's classes. Only dstream-submit puts this package on sys.path."""
from dstream import RDD, SparkConf, SparkContext

__all__ = ["SparkConf", "SparkContext", "RDD"]
