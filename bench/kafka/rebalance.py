#!/usr/bin/env python3
"""The rebalance benchmark (issue 15): how long a consumer group of dstream processes leaves a
partition unprocessed when a member is killed (kill -9), leaves (its stdin closes: it stops its
partitions and leaves the group) or joins; next to the same group of plain consumers (kcat -G,
librdkafka's own consumer, cooperative-sticky like dstream's), the baseline: what the group
protocol alone costs.

dstream-kafka-mock holds a keyed 6-partition input topic and a 6-partition output topic; kcat
writes a steady keyed input. N group_counts_program members (tests/kafka: a running count per
key in each partition's own context, written exactly once to the same output partition) share
the input; kcat follows the output topic, printing each record's partition and timestamp (the
CreateTime the writing member's producer gave it). The baseline's members are kcat -G consumers
whose printed records are their output. Each round: kill -9 a member and start it again (a
join), then make another member leave (kcat: SIGTERM, a clean close) and start it again (a
join). For each partition that moved, the time from the event until it was processed again,
split with the members' log lines: dstream's "GroupMember: stopped words-P" and "runs words-P,
recovered from ..." (kcat's "incremental revoke/assignment of ...").

  bench/kafka/rebalance.py                        3 members, 3 rounds, session.timeout.ms 6000 (~5 min)
  bench/kafka/rebalance.py --session-timeout-ms 10000
  bench/kafka/rebalance.py --quick                1 round, 2 members, session.timeout.ms 4000 (~1 min)
Options: --build-dir DIR (default build/release, built already), --members N, --rounds N,
--batch-ms MS, --rate RECORDS_PER_S, --no-baseline, --out DIR (rebalance.json; default
<build-dir>/bench-results), --keep-logs.
Prints one JSON object per group and event kind (median and max of each phase in seconds, the
ratio of dstream's total to the baseline's, session.timeout.ms and the load average) and a table
on stderr. Exits 1 naming what failed.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, threading, time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PARTITIONS = 6
INPUT, OUTPUT, GROUP = "words", "counts", "rebalance-bench"
HEARTBEAT_MS = 500  # group_counts_program's heartbeat.interval.ms; the baseline uses the same
# The mock waits 3 s (group.initial.rebalance.delay.ms) before it answers a new group's first
# joins, and expires members whose session ends meanwhile: with session.timeout.ms <= 3000 one
# member is dropped and hangs in JoinGroup for minutes. A real broker keeps waiting members.
MIN_SESSION_TIMEOUT_MS = 4000
DSTREAM_LINE = re.compile(r"GroupMember: (runs|stopped|joins group)(?: %s-(\d+))?" % INPUT)
KCAT_LINE = re.compile(r"% (?:Group \S+ rebalanced: incremental (assignment|revoke) of .*?: (.*)|(Waiting for group rebalance))")
KCAT_KIND = {"assignment": "runs", "revoke": "stopped"}


class Failed(Exception):
    pass


def wait_for(what, condition, timeout_s):
    """Polls `condition` until it is true; Failed naming `what` after `timeout_s`."""
    deadline = time.time() + timeout_s
    while not condition():
        if time.time() > deadline:
            raise Failed(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(0.02)


class Records:
    """Per partition, the times (s) of the records seen, appended by a reader thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = {p: [] for p in range(PARTITIONS)}  # guarded by lock

    def add(self, p, t):
        with self.lock:
            self.times[p].append(t)

    def first_after(self, p, t):
        with self.lock:
            return next((x for x in self.times[p] if x > t), None)


class OutputTopic(Records):
    """kcat following the dstream members' output topic: each record at its CreateTime."""

    def __init__(self, bootstrap):
        super().__init__()
        self.proc = subprocess.Popen(["kcat", "-C", "-b", bootstrap, "-t", OUTPUT, "-o", "end", "-u", "-q",
                                      "-f", "%p %T\\n"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            p, t = line.split()
            self.add(int(p), int(t) / 1000)


class Member:
    """One member process, its log lines timestamped as they arrive. `plain`: a kcat -G
    consumer, whose records (timed as they are printed) are its output."""
    count = 0

    def __init__(self, a, bootstrap, scratch, plain):
        Member.count += 1
        self.name = ("k" if plain else "m") + str(Member.count)
        self.plain = plain
        self.records = Records() if plain else None
        self.lock = threading.Lock()
        self.events = []  # (time, "runs"|"stopped"|"joins group", partition or None); guarded by lock
        self.log = open(os.path.join(scratch, self.name + ".log"), "w")
        if plain:
            cmd = ["kcat", "-b", bootstrap, "-G", GROUP + "-plain", "-u", "-f", "%p\\n",
                   "-X", "partition.assignment.strategy=cooperative-sticky",
                   "-X", f"session.timeout.ms={a.session_timeout_ms}", "-X", f"heartbeat.interval.ms={HEARTBEAT_MS}", INPUT]
        else:
            cmd = [a.program, bootstrap, GROUP, INPUT, OUTPUT, os.path.join(scratch, "checkpoints"), str(a.batch_ms),
                   str(a.session_timeout_ms)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE if plain else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_log, daemon=True).start()
        if plain:
            threading.Thread(target=self._read_records, daemon=True).start()

    def _read_log(self):
        for line in self.proc.stderr:
            now = time.time()
            self.log.write(f"{now:.3f} {line}")
            if self.plain:
                m = KCAT_LINE.search(line)
                if m and m.group(3):
                    found = [("joins group", None)]
                elif m:
                    found = [(KCAT_KIND[m.group(1)], int(p)) for p in re.findall(r"%s \[(\d+)\]" % INPUT, m.group(2))]
                else:
                    found = []
            else:
                m = DSTREAM_LINE.search(line)
                found = [(m.group(1), int(m.group(2)) if m.group(2) else None)] if m else []
            with self.lock:
                self.events += [(now, kind, p) for kind, p in found]
        self.log.close()

    def _read_records(self):
        for line in self.proc.stdout:
            self.records.add(int(line), time.time())

    def event(self, kind, p, after):
        """When this member first logged `kind` for partition p after time `after`, or None."""
        with self.lock:
            return next((t for t, k, q in self.events if k == kind and q == p and t > after), None)

    def last(self, kind, p):
        """When this member last logged `kind` for partition p, or None."""
        with self.lock:
            return next((t for t, k, q in reversed(self.events) if k == kind and q == p), None)

    def owned(self):
        """The partitions this member runs now, by its log."""
        with self.lock:
            own = set()
            for _, kind, p in self.events:
                if kind == "runs":
                    own.add(p)
                elif kind == "stopped":
                    own.discard(p)
            return own

    def alive(self):
        return self.proc.poll() is None

    def leave(self):
        """dstream: its stdin closes (it stops its partitions, then leaves); kcat: SIGTERM."""
        if self.plain:
            self.proc.terminate()
        else:
            self.proc.stdin.close()


class Producer:
    """kcat -P -K: fed from a pipe: `rate` records/s, keys cycling over `keys`, in 20 ms steps."""

    def __init__(self, bootstrap, rate, keys):
        self.proc = subprocess.Popen(["kcat", "-P", "-b", bootstrap, "-t", INPUT, "-K:", "-X", "linger.ms=5"],
                                     stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.running = True
        self.thread = threading.Thread(target=self._write, args=(rate, keys), daemon=True)
        self.thread.start()

    def _write(self, rate, keys):
        n, t0 = 0, time.time()
        while self.running:
            due = int((time.time() - t0) * rate)
            lines = "".join(f"key-{i % keys}:record-{i}\n" for i in range(n, due))
            n = due
            try:
                self.proc.stdin.write(lines)
                self.proc.stdin.flush()
            except BrokenPipeError:
                return
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.thread.join()
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class Group:
    """A mock cluster, the steady input and one group of members (dstream's or plain)."""

    def __init__(self, a, scratch, plain):
        self.a, self.scratch, self.plain = a, scratch, plain
        self.timeout = max(120, 10 * a.session_timeout_ms / 1000)
        self.mock = subprocess.Popen([a.mock, "--brokers", "1", "--topic", f"{INPUT}:{PARTITIONS}", "--topic",
                                      f"{OUTPUT}:{PARTITIONS}", "--exit-on-eof"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.mock.stdout.readline().strip()
        if not line.startswith("bootstrap.servers="):
            raise Failed(f"dstream-kafka-mock printed '{line}', not bootstrap.servers=...")
        self.bootstrap = line.split("=", 1)[1]
        self.output = None if plain else OutputTopic(self.bootstrap)
        self.producer = Producer(self.bootstrap, a.rate, a.keys)
        self.members = []

    def start_member(self):
        m = Member(self.a, self.bootstrap, self.scratch, self.plain)
        self.members.append(m)
        return m

    def processed_after(self, p, t, member):
        """When `member` first processed partition p after time t (dstream: its output's
        CreateTime; kcat: when it printed the record), or None."""
        return (member.records if self.plain else self.output).first_after(p, t)

    def live(self):
        return [m for m in self.members if m.alive()]

    def owner(self):
        """partition -> the live member running it, by the members' logs."""
        return {p: m for m in self.live() for p in m.owned()}

    def settled(self):
        """Every partition runs in a live member, the live members share them evenly, and each
        partition was processed after its owner took it."""
        own = self.owner()
        if len(own) < PARTITIONS:
            return False
        shares = [len(m.owned()) for m in self.live()]
        if max(shares) - min(shares) > 1:
            return False
        return all(self.processed_after(p, m.last("runs", p), m) for p, m in own.items())

    def wait_settled(self, what):
        wait_for(f"{what}: every partition running and processed again", self.settled, self.timeout)

    def moved(self, what, t0, partitions, new_owner_of, gone_at):
        """Per partition: when (s after the event at t0) its old owner let it go, the new owner
        took it, and it was processed again. Records after `gone_at(p)` are the new owner's."""
        rows = []
        for p in partitions:
            def taken():
                m = new_owner_of(p)
                return m and m.event("runs", p, t0)
            wait_for(f"{what}: {INPUT}-{p} taken by another member", taken, self.timeout)
            gone, owner = gone_at(p), new_owner_of(p)
            wait_for(f"{what}: {INPUT}-{p} processed again", lambda: self.processed_after(p, gone, owner), self.timeout)
            rows.append({"partition": p, "gone": gone - t0, "taken": taken() - t0,
                         "output": self.processed_after(p, gone, owner) - t0})
        return rows

    def kill(self, victim):
        parts, t0 = sorted(victim.owned()), time.time()
        victim.proc.kill()
        victim.proc.wait()
        return {"member": victim.name, "partitions": self.moved("kill -9", t0, parts, lambda p: self.owner().get(p), lambda p: t0)}

    def leave(self, leaver):
        parts, t0 = sorted(leaver.owned()), time.time()
        leaver.leave()

        # Its "stopped P" line comes after it stopped P (dstream: P's context stopped, its last
        # output written): what P outputs after that line is the new owner's.
        def gone(p):
            wait_for(f"leave: {leaver.name} stops {INPUT}-{p}", lambda: leaver.event("stopped", p, t0), self.timeout)
            return leaver.event("stopped", p, t0)
        rows = self.moved("leave", t0, parts,
                          lambda p: next((m for m in self.live() if m is not leaver and p in m.owned()), None), gone)
        status = leaver.proc.wait(timeout=60)
        if status != 0 and not self.plain:
            raise Failed(f"leave: {leaver.name} exited with {status} (its log: {leaver.log.name})")
        return {"member": leaver.name, "partitions": rows}

    def join(self):
        before, t0 = self.owner(), time.time()
        joiner = self.start_member()
        self.wait_settled("join")
        parts = sorted(joiner.owned())
        if not parts:
            raise Failed(f"join: {joiner.name} took no partition")
        joined = joiner.event("joins group", None, 0)

        def gone(p):
            old = before.get(p)
            return (old.event("stopped", p, t0) if old else None) or t0
        rows = self.moved("join", t0, parts, lambda p: joiner, gone)
        return {"member": joiner.name, "partitions": rows, "joined": joined - t0 if joined else None}

    def close(self):
        for m in self.members:
            if m.alive():
                m.proc.kill()
                m.proc.wait()
        self.producer.stop()
        if not self.plain:
            self.output.proc.kill()
            self.output.proc.wait()
        self.mock.stdin.close()
        try:
            self.mock.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.mock.kill()
            self.mock.wait()


# Each event's phases: (key, label, from, to) over a moved partition's times (s after the event).
PHASES = {
    "kill": [("until_taken", "detected + rebalanced + recovered", None, "taken"),
             ("first_output", "first batch written (kcat: first record)", "taken", "output"), ("total", "total", None, "output")],
    "leave": [("until_stopped", "its partition stopped", None, "gone"),
              ("stopped_to_taken", "rebalanced + recovered", "gone", "taken"),
              ("first_output", "first batch written (kcat: first record)", "taken", "output"), ("total", "total", None, "output")],
    "join": [("until_revoked", "started + revoked from the old owner", None, "gone"),
             ("revoked_to_taken", "rebalanced + recovered", "gone", "taken"),
             ("first_output", "first batch written (kcat: first record)", "taken", "output"), ("total", "total", None, "output")],
}


def run_group(a, plain):
    """Starts the group, runs the rounds; returns {event kind: [event, ...]} and the load."""
    scratch = tempfile.mkdtemp(prefix="dstream-rebalance-")
    group = Group(a, scratch, plain)
    events = {"kill": [], "leave": [], "join": []}
    load0 = os.getloadavg()[0]
    label = "plain kcat -G" if plain else "dstream"
    try:
        for _ in range(a.members):
            group.start_member()
        group.wait_settled("start")
        for r in range(a.rounds):
            def note(kind, what):
                e = events[kind][-1]
                times = ", ".join(f"{INPUT}-{x['partition']} {x['output']:.2f} s" for x in e["partitions"])
                print(f"  {label} round {r + 1}: {what} {e['member']}: processed again after {times}", file=sys.stderr, flush=True)
            # Each round kills one member and makes the next leave, so that members take turns.
            events["kill"].append(group.kill(group.live()[r % len(group.live())]))
            note("kill", "kill -9")
            group.wait_settled("after kill")
            events["join"].append(group.join())
            note("join", "join of")
            events["leave"].append(group.leave(group.live()[(r + 1) % len(group.live())]))
            note("leave", "leave of")
            group.wait_settled("after leave")
            events["join"].append(group.join())
            note("join", "join of")
    except Failed as e:
        group.close()
        sys.exit(f"rebalance.py: FAILED ({label}): {e} (member logs in {scratch})")
    group.close()
    if a.keep_logs:
        print(f"  {label}: member logs in {scratch}", file=sys.stderr)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return events, [round(load0, 2), round(os.getloadavg()[0], 2)]


def summarise(group, kind, events, a, load):
    rows = [r for e in events for r in e["partitions"]]
    fig = {"bench": "kafka_rebalance", "group": group, "event": kind, "members": a.members, "events": len(events),
           "partitions_moved": len(rows), "session_timeout_ms": a.session_timeout_ms, "heartbeat_interval_ms": HEARTBEAT_MS,
           "batch_ms": a.batch_ms, "rate": a.rate, "load_avg": load}
    for key, _, start, end in PHASES[kind]:
        values = [r[end] - (r[start] if start else 0) for r in rows]
        fig[key] = {"median_s": round(statistics.median(values), 2), "max_s": round(max(values), 2)}
    # A member takes a rebalance's partitions one after another: the gap between two "runs"
    # lines of one kill or leave (a single rebalance; a join may take two) is one partition's
    # recovery (getOrCreate from its checkpoint, and start).
    gaps = []
    for e in events if kind != "join" else []:
        taken = sorted(r["taken"] for r in e["partitions"])
        gaps += [b - x for x, b in zip(taken, taken[1:])]
    if gaps and group == "dstream":
        fig["recovery_per_partition"] = {"median_s": round(statistics.median(gaps), 3), "max_s": round(max(gaps), 3)}
    return fig


def print_table(figs, a, seconds):
    print(f"\nsession.timeout.ms {a.session_timeout_ms}, heartbeat.interval.ms {HEARTBEAT_MS}, {a.members} members, "
          f"{PARTITIONS} partitions, {a.batch_ms} ms batches, {a.rate} records/s, {a.rounds} rounds, {seconds:.0f} s",
          file=sys.stderr)
    print("| group | event (partitions moved) | phase | median s | max s |\n|---|---|---|---|---|", file=sys.stderr)
    for f in figs:
        labels = [(key, label) for key, label, _, _ in PHASES[f["event"]]]
        labels.append(("recovery_per_partition", "one partition's recovery (gap between 'runs' lines)"))
        for key, label in labels:
            if key in f:
                extra = f" (x{f['ratio_to_plain']} the plain group)" if key == "total" and "ratio_to_plain" in f else ""
                print(f"| {f['group']} (load {f['load_avg'][0]}-{f['load_avg'][1]}) | {f['event']} ({f['partitions_moved']}) "
                      f"| {label}{extra} | {f[key]['median_s']} | {f[key]['max_s']} |", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--session-timeout-ms", type=int, default=6000)
    ap.add_argument("--batch-ms", type=int, default=200)
    ap.add_argument("--rate", type=int, default=500, help="input records/s")
    ap.add_argument("--keys", type=int, default=60)
    ap.add_argument("--no-baseline", action="store_true", help="only dstream's group, not the plain kcat -G group")
    ap.add_argument("--quick", action="store_true", help="1 round, 2 members, session.timeout.ms 4000")
    ap.add_argument("--keep-logs", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.quick:
        a.members, a.rounds, a.session_timeout_ms = 2, 1, MIN_SESSION_TIMEOUT_MS
    if a.members < 2:
        sys.exit("rebalance.py: --members must be at least 2 (a survivor takes the partitions)")
    if a.session_timeout_ms < MIN_SESSION_TIMEOUT_MS:
        sys.exit(f"rebalance.py: --session-timeout-ms must be at least {MIN_SESSION_TIMEOUT_MS}: dstream-kafka-mock "
                 "expires members that wait out its 3 s initial rebalance delay with a shorter session "
                 "(a real broker's default group.min.session.timeout.ms is 6000)")
    a.program = os.path.join(a.build_dir, "tests", "kafka", "group_counts_program")
    a.mock = os.path.join(a.build_dir, "tools", "dstream-kafka-mock")
    missing = [p for p in (a.program, a.mock) if not os.access(p, os.X_OK)] + \
              ([] if shutil.which("kcat") else ["kcat (apt-get install kcat)"])
    if missing:
        sys.exit(f"rebalance.py: missing {', '.join(missing)} (build them: cmake --build {a.build_dir} --target group_counts_program dstream-kafka-mock)")
    t0 = time.time()
    figs, runs = [], {}
    for group in ["dstream"] + ([] if a.no_baseline else ["plain"]):
        events, load = run_group(a, group == "plain")
        runs[group] = events
        figs += [summarise(group, kind, events[kind], a, load) for kind in ("kill", "leave", "join")]
    plain = {f["event"]: f for f in figs if f["group"] == "plain"}
    for f in figs:
        if f["group"] == "dstream" and f["event"] in plain:
            f["ratio_to_plain"] = round(f["total"]["median_s"] / plain[f["event"]]["total"]["median_s"], 2)
    for f in figs:
        print(json.dumps(f), flush=True)
    print_table(figs, a, time.time() - t0)
    out = a.out or os.path.join(a.build_dir, "bench-results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "rebalance.json"), "w") as f:
        json.dump({"figures": figs, "events": runs}, f, indent=1)
    print(f"rebalance.py: wrote {out}/rebalance.json", file=sys.stderr)


if __name__ == "__main__":
    main()
