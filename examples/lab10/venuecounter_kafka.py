"""The lab's venuecounter.py (LAB10.md Step 5) reading a Kafka topic instead of the socket:
pyspark's KafkaUtils.createDirectStream, one line per record (examples/lab10/README.md).

    dstream-submit examples/lab10/venuecounter_kafka.py BOOTSTRAP [TOPIC [BATCH_SECONDS]]

The topic (default meetups) is read from its beginning, as the lab replays files."""
import json
import sys

from pyspark import SparkContext
from pyspark.streaming import StreamingContext
from pyspark.streaming.kafka import KafkaUtils

if len(sys.argv) < 2:
    sys.exit("usage: venuecounter_kafka.py BOOTSTRAP [TOPIC [BATCH_SECONDS]]")
brokers = sys.argv[1]
topic = sys.argv[2] if len(sys.argv) > 2 else "meetups"
batch = float(sys.argv[3]) if len(sys.argv) > 3 else 10

sc = SparkContext("local[2]", "MyApp")

ssc = StreamingContext(sc, batch)

records = KafkaUtils.createDirectStream(ssc, [topic], {"metadata.broker.list": brokers,
                                                       "auto.offset.reset": "smallest"})
lines = records.map(lambda kv: kv[1])

jslines = lines.flatMap(lambda x: [j['venue'] for j in json.loads('[' + x + ']') if 'venue' in j])

lcnt = lines.count()

lcnt.pprint()

c = jslines.count()

c.pprint()

jslines.pprint()

ssc.start()

ssc.awaitTermination()
