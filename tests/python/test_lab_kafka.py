"""The lab over Kafka in Python: kcat feeds ../shared/data/lab10/meetup.data.* into
dstream-kafka-mock, and examples/lab10/venuecounter_kafka.py (the lab's venuecounter.py on
KafkaUtils.createDirectStream), run by dstream-submit, counts lines and venues: summed over its
batches, they are the totals computed from the files."""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import WAIT
from test_kafka import KCAT, cluster, pytestmark  # noqa: F401 (the mock fixture; skipped without it or kcat)
from test_lab import DATA, REPO, _blocks

PROGRAM = os.path.join(REPO, "examples", "lab10", "venuecounter_kafka.py")


def _totals(text):
    """(lines, venues) summed over the whole batches printed: three blocks per batch."""
    blocks = _blocks(text[:text.rfind("\n\n") + 2])
    batches = [blocks[k:k + 3] for k in range(0, len(blocks) - 2, 3)]
    return sum(int(b[0][1][0]) for b in batches), sum(int(b[1][1][0]) for b in batches)


def test_venuecounter_reads_the_lab_files_from_kafka(cluster):  # noqa: F811
    files = sorted(glob.glob(os.path.join(os.path.dirname(DATA), "meetup.data.*")))
    if len(files) < 6:
        pytest.skip("the lab's data (meetup.data.1-6 in %s) is not here" % os.path.dirname(DATA))
    records = [line for f in files for line in open(f, encoding="utf-8").read().splitlines()]
    venues = [j["venue"] for x in records for j in json.loads("[" + x + "]") if "venue" in j]
    subprocess.run([KCAT, "-P", "-b", cluster, "-t", "rsvps"], input="\n".join(records) + "\n", text=True,
                   check=True, timeout=WAIT)
    python = os.environ.get("DSTREAM_PYTHON", sys.executable)
    with tempfile.NamedTemporaryFile("w+", encoding="utf-8") as output:
        proc = subprocess.Popen([python, os.path.join(REPO, "python", "bin", "dstream-submit"), PROGRAM, cluster,
                                 "rsvps", "0.5"], stdout=output, stderr=subprocess.DEVNULL)

        def printed():
            with open(output.name, encoding="utf-8") as f:
                return f.read()
        try:
            deadline = time.monotonic() + 3 * WAIT
            while _totals(printed())[0] < len(records) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)  # polls the program's output for the totals
        finally:
            proc.send_signal(signal.SIGINT)  # a graceful stop: the batches generated so far print
            try:
                code = proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        text = printed()
    assert code in (0, 128 + signal.SIGINT), "exit code %d; output:\n%s" % (code, text)
    assert _totals(text) == (len(records), len(venues)) == (1162, 958), "output:\n" + text
