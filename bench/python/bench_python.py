#!/usr/bin/python3
"""Python pipelines on dstream vs a plain Python loop doing the same work in the same process.

    PYTHONPATH=$PWD/python:$PWD/build/release/python /usr/bin/python3 bench/python/bench_python.py
    ... bench_python.py --quick      # smoke: tiny input, only checks that engine and loop agree

Workloads (issue 12):
  venues     the lab's venue extraction: flatMap(lambda x: [j['venue'] for j in json.loads('['+x+']')
             if 'venue' in j]).count(); loop: the same comprehension over the lines, len().
  wordcount  flatMap(split) -> map((w, 1)) -> reduceByKey(operator.add); loop: dict counting
             (d[w] = d.get(w, 0) + 1), no function calls.
  wordcount-samefn  the same pipeline; loop: calls the same split, pair lambda and operator.add
             per record, so the ratio is the engine's overhead over the Python work it must do.
  count      lines.count() (no Python per record); loop: len() of each batch.
  countByWindow  lines.countByWindow(3, 1); loop: sum of the last 3 batch lengths.
  file-count, file-countByWindow  the same over textFileStream (one file per batch, page cache):
             the lines stay native, as in the C++ engine; file-count-as-str maps each line to a
             Python str first (what any Python function on the lines costs).

Input: in-memory batches fed by queueStream (file-*: files) on the engine's manual clock; the clock is advanced
one batch at a time and the time runs from start() to the last batch's result (stop excluded).
Meetup lines come from ../shared/data/lab10/meetup.data.* (cycled) when present, else generated.
Each figure is the best of --runs. Printed: records/s for both, ratio engine/loop, load average.
Exit status 1 if the engine's result differs from the loop's."""
import argparse
import glob
import json
import operator
import os
import random
import shutil
import sys
import tempfile
import threading
import time

from dstream import SparkConf, SparkContext, StreamingContext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def meetup_lines(n):
    files = sorted(glob.glob(os.path.join(REPO, "..", "shared", "data", "lab10", "meetup.data.*")))
    base = [l for f in files for l in open(f, encoding="utf-8").read().splitlines()]
    if not base:
        rnd = random.Random(1)
        base = [json.dumps({"venue": {"venue_name": "v%d" % rnd.randrange(500), "venue_id": i}} if rnd.random() < 0.8
                           else {"response": "no"}) for i in range(1000)]
    return [base[i % len(base)] for i in range(n)]


def word_lines(n, vocab=10000):
    rnd = random.Random(1)
    words = ["w%08d" % i for i in range(vocab)]
    return [" ".join(words[rnd.randrange(vocab)] for _ in range(10)) for _ in range(n)]


def engine(batches, build, master, source="queue"):
    """Runs build(stream) over the batches on the manual clock; returns (seconds, results).
    source "queue": queueStream of the Python lists; "files": one file per batch moved into a
    watched directory (textFileStream, page cache), stamped inside its batch's interval."""
    start = 1_700_000_000
    conf = SparkConf().set("dstream.test.manualClock", "true").set("dstream.test.manualClockStart", start)
    sc = SparkContext(master, "bench", conf=conf)
    ssc = StreamingContext(sc, 1)
    tmp = tempfile.mkdtemp(prefix="dstream-bench-")
    staged = []
    if source == "files":
        watched = os.path.join(tmp, "in")
        os.mkdir(watched)
        for i, b in enumerate(batches):
            path = os.path.join(tmp, "batch-%d" % i)
            with open(path, "w") as f:
                f.write("\n".join(b) + "\n")
            os.utime(path, (start + i + 0.5, start + i + 0.5))
            staged.append((path, os.path.join(watched, "batch-%d" % i)))
        stream = ssc.textFileStream(watched)
    else:
        stream = ssc.queueStream([list(b) for b in batches])
    out = build(stream)
    got, cond = [], threading.Condition()

    def collect(rdd):
        r = rdd.collect()
        with cond:
            got.append(r)
            cond.notify_all()
    out.foreachRDD(collect)
    try:
        ssc.start()
        t0 = time.perf_counter()
        for i in range(len(batches)):
            if staged:
                os.rename(*staged[i])
            ssc.TEST_advanceClock(1)
            with cond:
                assert cond.wait_for(lambda: len(got) > i, timeout=600), "batch %d did not finish" % i
        t = time.perf_counter() - t0
    finally:
        ssc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return t, got


def venue_of(x):
    return [j['venue'] for j in json.loads('[' + x + ']') if 'venue' in j]


WORKLOADS = {
    # name: (input, engine pipeline, loop over batches -> per-batch results comparable with the engine's)
    "venues": (meetup_lines,
               lambda s: s.flatMap(lambda x: [j['venue'] for j in json.loads('[' + x + ']') if 'venue' in j]).count(),
               lambda bs: [[sum(len([j['venue'] for j in json.loads('[' + x + ']') if 'venue' in j]) for x in b)]
                           for b in bs]),
    "wordcount": (word_lines,
                  lambda s: s.flatMap(lambda l: l.split()).map(lambda w: (w, 1)).reduceByKey(operator.add),
                  None),
    # The same pipeline against a loop that calls the pipeline's own functions (split, the pair
    # lambda, operator.add): the engine's overhead over the Python work it must do.
    "wordcount-samefn": (word_lines,
                         lambda s: s.flatMap(lambda l: l.split()).map(lambda w: (w, 1)).reduceByKey(operator.add),
                         None),
    "count": (word_lines, lambda s: s.count(), lambda bs: [[len(b)] for b in bs]),
    "countByWindow": (word_lines, lambda s: s.countByWindow(3, 1),
                      lambda bs: [[sum(len(b) for b in bs[max(0, i - 2):i + 1])] for i in range(len(bs))]),
    # A source's lines, counted natively (no str made) and, for contrast, after a map that makes
    # every line a Python str.
    "file-count": (word_lines, lambda s: s.count(), lambda bs: [[len(b)] for b in bs], "files"),
    "file-countByWindow": (word_lines, lambda s: s.countByWindow(3, 1),
                           lambda bs: [[sum(len(b) for b in bs[max(0, i - 2):i + 1])] for i in range(len(bs))],
                           "files"),
    "file-count-as-str": (word_lines, lambda s: s.map(lambda x: x).count(), lambda bs: [[len(b)] for b in bs],
                          "files"),
}


# No Python per record: the loop (len of a list) is checked for agreement, its speed not shown.
NATIVE = {"count", "countByWindow", "file-count", "file-countByWindow", "file-count-as-str"}


def wordcount_loop(bs):
    out = []
    for b in bs:
        d = {}
        for l in b:
            for w in l.split():
                d[w] = d.get(w, 0) + 1
        out.append(list(d.items()))
    return out


def wordcount_samefn_loop(bs):
    split, pair, add = (lambda l: l.split()), (lambda w: (w, 1)), operator.add
    out = []
    for b in bs:
        d = {}
        for l in b:
            for w in split(l):
                k, v = pair(w)
                d[k] = add(d[k], v) if k in d else v
        out.append(list(d.items()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny input; checks agreement only")
    ap.add_argument("--records", type=int, default=20000, help="records per batch")
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--only", default=",".join(WORKLOADS))
    a = ap.parse_args()
    if a.quick:
        a.records, a.batches, a.runs = 500, 3, 1
    load_before = os.getloadavg()
    rows, bad = [], []
    for name in a.only.split(","):
        make, build, loop, source = (WORKLOADS[name] + ("queue",))[:4]
        loop = loop or (wordcount_samefn_loop if name == "wordcount-samefn" else wordcount_loop)
        n = a.records * a.batches
        data = make(n)
        batches = [data[i * a.records:(i + 1) * a.records] for i in range(a.batches)]
        te, tl = float("inf"), float("inf")
        for _ in range(a.runs):
            t, got = engine(batches, build, a.master, source)
            te = min(te, t)
            t0 = time.perf_counter()
            want = loop(batches)
            tl = min(tl, time.perf_counter() - t0)
        if [sorted(g) for g in got] != [sorted(w) for w in want]:
            bad.append(name)
        rows.append((name, n / te, None if name in NATIVE else n / tl, None if name in NATIVE else tl / te))
    load_after = os.getloadavg()
    print("dstream Python pipelines vs a plain Python loop, %s, %d batches x %d records, best of %d"
          % (a.master, a.batches, a.records, a.runs))
    print("%-18s %14s %14s %8s" % ("workload", "dstream rec/s", "loop rec/s", "ratio"))
    for name, e, l, r in rows:
        if l is None:  # the loop is len(): its speed says nothing; compare with the C++ figures
            print("%-18s %14.0f %14s %8s" % (name, e, "(len)", "-"))
        else:
            print("%-18s %14.0f %14.0f %7.2fx" % (name, e, l, r))
    print("load average %.2f before, %.2f after (1 min); %d cores" % (load_before[0], load_after[0], os.cpu_count()))
    if bad:
        print("MISMATCH between dstream and the loop: %s" % ", ".join(bad))
        return 1
    print("dstream and the loop agree on every workload")
    return 0


if __name__ == "__main__":
    sys.exit(main())
