"""kill -9 of a Python program (through dstream-submit) that keeps a running word count with
updateStateByKey over textFileStream and resumes with getOrCreate: after every restart the
totals count each file exactly once. Real clock, real files, real processes."""
import json
import os
import random
import signal
import subprocess
import sys
import time

from conftest import WAIT

HERE = os.path.dirname(os.path.abspath(__file__))
SUBMIT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "python", "bin", "dstream-submit")
PYTHON = os.environ.get("DSTREAM_PYTHON", sys.executable)

PROGRAM = """
import json
import sys

from pyspark import SparkContext
from pyspark.streaming import StreamingContext

watched, checkpoint, out = sys.argv[1:4]


def setup():
    sc = SparkContext("local[2]", "running-count")
    sc.setLogLevel("WARN")
    ssc = StreamingContext(sc, 0.1)
    ssc.checkpoint(checkpoint)
    words = ssc.textFileStream(watched).flatMap(lambda line: line.split()).map(lambda w: (w, 1))

    def save(rdd):
        with open(out, "a") as f:
            f.write(json.dumps(dict(rdd.collect()), sort_keys=True) + "\\n")
    words.updateStateByKey(lambda new, old: sum(new) + (old or 0)).foreachRDD(save)
    return ssc


ssc = StreamingContext.getOrCreate(checkpoint, setup)
ssc.start()
ssc.awaitTermination()
"""


def file_text(i):
    return " ".join(["common"] * (i + 1) + ["only%d" % i, "mod%d" % (i % 3)])


def expected(upto):
    counts = {}
    for i in range(upto):
        for w in file_text(i).split():
            counts[w] = counts.get(w, 0) + 1
    return counts


class Program:
    def __init__(self, tmp_path):
        self.script = tmp_path / "running_count.py"
        self.script.write_text(PROGRAM)
        self.watched, self.checkpoint, self.out = tmp_path / "in", tmp_path / "checkpoint", tmp_path / "totals.jsonl"
        self.watched.mkdir()
        self.stderr = open(tmp_path / "stderr.txt", "a")
        self.proc = None
        self.lives = 0

    def start(self):
        self.proc = subprocess.Popen([PYTHON, SUBMIT, str(self.script), str(self.watched), str(self.checkpoint),
                                      str(self.out)], stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.lives += 1

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def last_totals(self):
        if not self.out.exists():
            return None
        lines = self.out.read_text().splitlines()
        # A line cut by the kill is not a result.
        for line in reversed(lines):
            try:
                return json.loads(line)
            except ValueError:
                continue
        return None

    def wait_for(self, want):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            got = self.last_totals()
            if got == want:
                return
            if got is not None:
                over = {k: v for k, v in got.items() if v > want.get(k, 0)}
                assert not over, "counted twice after a restart: %r (want %r)" % (over, want)
            assert self.proc.poll() is None, "the program exited with %s; stderr: %s" % (
                self.proc.returncode, (self.out.parent / "stderr.txt").read_text()[-2000:])
            time.sleep(0.02)
        raise AssertionError("totals %r never became %r (life %d)" % (self.last_totals(), want, self.lives))


def test_killed_python_program_resumes_its_running_count_exactly(tmp_path):
    rnd = random.Random(12)
    program = Program(tmp_path)
    program.start()
    try:
        program.wait_for({})  # running: files from now on are new files
        for i in range(10):
            staged = tmp_path / ("staged-%d" % i)
            staged.write_text(file_text(i) + "\n")
            os.rename(staged, program.watched / ("part-%d" % i))
            if i % 2 == 1:
                # Somewhere in the file's batch, its checkpoint, or the next batches.
                time.sleep(rnd.uniform(0, 0.3))
                program.kill()
                program.start()
            program.wait_for(expected(i + 1))
    finally:
        if program.proc.poll() is None:
            program.proc.send_signal(signal.SIGTERM)
            program.proc.wait(timeout=WAIT)
    assert program.lives == 6
