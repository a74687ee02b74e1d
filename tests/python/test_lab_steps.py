"""LAB10.md's Python, verbatim: Steps 2, 3, 4 (typed into dstream-pyspark, as the lab types them
into pyspark) and Step 6's venuecounter2.py (run by dstream-submit). Step 5's venuecounter.py is
tests/python/test_lab.py. Every program is extracted from LAB10.md's code fences at test time, so
nothing here is a copy that could drift from the lab.

Feeds: the lab's own port 9999 on loopback, served by this test (every connection gets the lines
of ../shared/data/lab10/meetup.data.1, as `nc -lk 9999` fed by the lab's curl would), and the
lab's own directory /tmp/datastreams, into which the test moves meetup.data.1..3 one at a time
(atomically, as the lab asks). The lab's batches are 1, 10 and 30 seconds, so the slow programs
all run at once (a module fixture starts them) and each test waits for its own output; no timing
is asserted, only bounded by generous waits.

The lab's submissions 1 and 2 are exercises without code in the lab; nothing to run verbatim."""
import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

import pytest

from conftest import WAIT

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHELL = os.path.join(REPO, "python", "bin", "dstream-pyspark")
SUBMIT = os.path.join(REPO, "python", "bin", "dstream-submit")
PYTHON = os.environ.get("DSTREAM_PYTHON", sys.executable)
DATA = os.environ.get("DSTREAM_LAB_DATA", os.path.join(REPO, "..", "shared", "data", "lab10"))
LAB = os.environ.get("DSTREAM_LAB", os.path.join(REPO, "..", "shared", "lab10", "LAB10.md"))
DASHES = "-------------------------------------------"
WATCHED = "/tmp/datastreams"      # the lab's directory (Steps 1 and 3)
STEP3_FILES = ["meetup.data.1", "meetup.data.2", "meetup.data.3"]  # the lab's three cp commands
LONG = 4 * WAIT                   # bound for the 10 s and 30 s batch programs (never a timing check)


# ---------------------------------------------------------------------------------------------
# Extraction from LAB10.md


def _fences(text):
    """(heading of the section, fence body) for every ``` fence, in order."""
    out, section, lines, i = [], "", text.split("\n"), 0
    while i < len(lines):
        if lines[i].startswith("## "):
            section = lines[i]
        if lines[i].startswith("```"):
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            out.append((section, "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    return out


def _shell_input(body):
    """The lines typed at the pyspark prompt: '>>>' lines without the prompt, and the lines that
    continue them (the lab breaks `slines = lines.flatMap(...` over two lines)."""
    typed = []
    # Step 1 and 2's fences are typeset with no-break spaces (U+00A0) between words
    # (">>>from\xa0pyspark\xa0import..."); no Python accepts U+00A0 in code (SyntaxError: invalid
    # non-printable character), so a reader typing the line types a space: so does this test.
    # That is the only change; Steps 3-6 have none.
    for line in body.split("\n"):
        if line.startswith(">>>"):
            typed.append(line[3:])
        elif line.strip() and typed and not line.startswith("$"):
            typed.append(line)
    return typed


def _lab():
    if not os.path.exists(LAB):
        pytest.skip("LAB10.md not found at %s: the programs are taken from it" % LAB)
    # (no-break spaces: see _shell_input)
    fences = [(s, b.replace("\xa0", " ")) for s, b in _fences(open(LAB, encoding="utf-8").read())]
    step2 = [b for s, b in fences if s.startswith("## Step-2")]
    step3 = [b for s, b in fences if s.startswith("## Step-3")]
    step4 = [b for s, b in fences if s.startswith("## Step-4")]
    step6 = [b for s, b in fences if s.startswith("## Step-6")]
    # Step 2, first run: three fences typed one after the other (1 s batches).
    first = [b for b in step2 if ">>>" in b][:3]
    assert "StreamingContext(sc, 1)" in first[0] and "socketTextStream" in first[1]
    # Step 2, second run after restarting pyspark: the 30 s batch fence.
    second = next(b for b in step2 if "StreamingContext(sc, 30)" in b)
    # Step 3: the fence after "Load the following spark streaming program", then ssc.start().
    load = next(b for b in step3 if b.startswith("$MASTER=local[2] pyspark") and "json" in b)
    start = next(b for b in step3[step3.index(load):] if b.strip() == ">>>ssc.start()")
    # Step 4: the script for the shell (it uses the shell's sc). Its fence ends in prose that is
    # not code: "In a separate terminal window run the command below." and the curl | nc command
    # line; the program is the lines before that prose.
    s4 = next(b for b in step4 if "socketTextStream" in b)
    s4 = s4[:s4.index("\nIn a separate terminal window")].rstrip("\n").split("\n")
    # Step 6: venuecounter2.py. The same prose sits inside its fence after ssc.awaitTermination():
    # "Now start the stream using the command below." and "$curl -i ... | nc -lk 9999"; the
    # program is the lines before it.
    s6 = next(b for b in step6 if "countByWindow(30,10)" in b and "awaitTermination" in b)
    s6 = s6[:s6.index("\nNow start the stream")].rstrip("\n") + "\n"
    return {"step2": sum((_shell_input(b) for b in first), []), "step2_30": _shell_input(second),
            "step3": _shell_input(load) + _shell_input(start), "step4": s4, "step6": s6}


def test_extracted_programs_are_the_labs_lines():
    lab = _lab()
    assert lab["step2"] == ["from pyspark import SparkContext", "from pyspark.streaming import StreamingContext",
                            "ssc = StreamingContext(sc, 1)", 'lines = ssc.socketTextStream("localhost", 9999)',
                            "uclines= lines.map(lambda word: word.upper())", "uclines.pprint()", "ssc.start()"]
    assert lab["step3"][-1] == "ssc.start()" and "json.loads('['+x+']') if 'venue' in j] )" in lab["step3"]
    assert lab["step4"][-1] == "ssc.start()"
    assert lab["step6"].startswith("from pyspark import SparkContext\n")
    assert lab["step6"].endswith("ssc.awaitTermination()\n")


# ---------------------------------------------------------------------------------------------
# Feeds and runs


class Server:
    """`nc -lk 9999` fed with the data: every connection receives all lines, then stays open."""

    def __init__(self, lines, port=9999):
        self.payload = ("\n".join(lines) + "\n").encode("utf-8")
        self.socks, self.conns, self.stopped = [], [], False
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            s = socket.socket(family, socket.SOCK_STREAM)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((host, port))
                s.listen(8)
            except OSError as e:
                s.close()
                if e.errno == errno.EADDRINUSE:
                    self.close()
                    pytest.skip("port %d (which the lab's programs name) is in use on %s" % (port, host))
                continue  # no IPv6 loopback: IPv4 only
            self.socks.append(s)
            threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s):
        while not self.stopped:
            try:
                c, _ = s.accept()
            except OSError:
                return
            self.conns.append(c)
            try:
                c.sendall(self.payload)
            except OSError:
                pass

    def close(self):
        self.stopped = True
        for s in self.socks + self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


class Run:
    """A process whose stdout is collected line by line (the shell's prompts stripped)."""

    def __init__(self, args, env, stdin_lines=None, cwd=None):
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL if stdin_lines is None else subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, env=env, cwd=cwd)
        self.lines, self.cond = [], threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        if stdin_lines is not None:  # typed at the prompt; stdin stays open (no EOF: the shell stays)
            self.proc.stdin.write("\n".join(stdin_lines) + "\n")
            self.proc.stdin.flush()

    def _read(self):
        for line in self.proc.stdout:
            line = re.sub(r"^((>>>|\.\.\.) )+", "", line.rstrip("\n"))
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def blocks(self):
        """Whole pprint blocks so far: [(time line, [element lines])]."""
        with self.cond:
            lines = list(self.lines)
        out, i = [], 0
        while i + 2 < len(lines):
            if lines[i] == DASHES and lines[i + 1].startswith("Time: ") and lines[i + 2] == DASHES:
                j, items = i + 3, []
                while j < len(lines) and lines[j] != "":
                    items.append(lines[j])
                    j += 1
                if j == len(lines):
                    break  # not finished yet
                out.append((lines[i + 1], items))
                i = j + 1
            else:
                i += 1
        return out

    def wait(self, pred, what, timeout=LONG):
        with self.cond:
            ok = self.cond.wait_for(lambda: self.proc.poll() is not None or pred(), timeout=timeout)
        if not pred():
            self.err.seek(0)
            pytest.fail("%s\nstdout:\n%s\nstderr (tail):\n%s" % (what, "\n".join(self.lines),
                        self.err.read().decode("utf-8", "replace")[-3000:]))
        return ok

    def stop(self):
        """The shell: ssc.stop() and exit() typed at the prompt; dstream-submit: Ctrl-C."""
        if self.proc.poll() is None and self.proc.stdin:
            try:
                self.proc.stdin.write("ssc.stop()\nexit()\n")
                self.proc.stdin.flush()
                self.proc.stdin.close()
                self.proc.wait(timeout=WAIT)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def _venues(records):
    return [j["venue"] for x in records for j in json.loads("[" + x + "]") if "venue" in j]


def _records(name):
    return open(os.path.join(DATA, name), encoding="utf-8").read().splitlines()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    programs = _lab()
    if not os.path.isdir(DATA):
        pytest.skip("the lab's data %s is not here (../shared/data/lab10/): the lab runs need it" % DATA)
    tmp = tmp_path_factory.mktemp("lab")
    env = dict(os.environ, MASTER="local[2]")
    server = Server(_records("meetup.data.1"))
    os.makedirs(WATCHED, exist_ok=True)  # the lab's Step 0: mkdir /tmp/datastreams
    if not os.access(WATCHED, os.W_OK):
        server.close()
        pytest.skip("%s (the lab's directory) is not writable by this user" % WATCHED)
    (tmp / "venuecounter2.py").write_text(programs["step6"])
    runs = {}
    try:
        runs["step2"] = Run([PYTHON, SHELL], env, programs["step2"])
        runs["step2_30"] = Run([PYTHON, SHELL], env, programs["step2_30"])
        runs["step3"] = Run([PYTHON, SHELL], env, programs["step3"])
        runs["step4"] = Run([PYTHON, SHELL], env, programs["step4"])
        runs["step6"] = Run([PYTHON, SUBMIT, str(tmp / "venuecounter2.py"), "localhost", "9999"],
                            env, None, cwd=str(tmp))
        yield runs, tmp
    finally:
        stoppers = [threading.Thread(target=r.stop) for r in runs.values()]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        server.close()


def test_step3_files_venue_counts_per_file(lab):
    """Each file of the lab's cp commands is moved in after the previous one was counted, so each
    lands in a batch of its own: that batch's count is the file's venue count (json.loads here)."""
    runs, tmp = lab
    run = runs["step3"]
    run.wait(lambda: len(run.blocks()) >= 1, "step3: no batch printed")  # running: later files are new
    seen = 0
    for k, name in enumerate(STEP3_FILES):
        venues = _venues(_records(name))
        staged = tmp / ("staged-" + name)
        shutil.copyfile(os.path.join(DATA, name), staged)
        target = os.path.join(WATCHED, "dstream-test-%d-%s" % (os.getpid(), name))
        shutil.move(str(staged), target)  # a rename when on one filesystem (atomic, as the lab asks)
        try:
            # blocks alternate: cnt.pprint() then slines.pprint() of the same batch
            def batch_with_data():
                b = run.blocks()
                pairs = [(b[i], b[i + 1]) for i in range(seen - seen % 2, len(b) - 1, 2)]
                return next((p for p in pairs if p[0][1] and p[0][1][0] != "0"), None)
            run.wait(lambda: batch_with_data() is not None, "step3: %s was not counted" % name)
            cnt, slines = batch_with_data()
            assert cnt[0] == slines[0]
            assert cnt[1] == [str(len(venues))], name
            assert slines[1][:10] == [str(v) for v in venues[:10]]
            b = run.blocks()
            seen = b.index(slines) + 1
        finally:
            os.remove(target)


def _batches(run, n):
    """The program's pprint blocks grouped by batch (n outputs per batch, same time line)."""
    b = run.blocks()
    return [b[k:k + n] for k in range(0, len(b) - n + 1, n)]


def test_step4_socket_venues_in_the_shell(lab):
    runs, _ = lab
    run = runs["step4"]
    records = _records("meetup.data.1")
    venues = _venues(records)
    run.wait(lambda: sum(int(b[0][1][0]) for b in _batches(run, 3)) >= len(records),
             "step4: not all records counted")
    batches = _batches(run, 3)
    for b in batches:
        assert b[0][0] == b[1][0] == b[2][0]
    assert sum(int(b[0][1][0]) for b in batches) == len(records)
    assert sum(int(b[1][1][0]) for b in batches) == len(venues)
    first = next(b for b in batches if int(b[1][1][0]) > 0)
    assert first[2][1][0] == str(venues[0])


def test_step6_venuecounter2_window_is_the_sum_of_the_last_three_batches(lab):
    """wlcnt, lcnt, c, jslines print in this order per batch; wlcnt must be the sum of lcnt over
    the batch and the two before it (Submission 4a), until the data leaves the window."""
    runs, _ = lab
    run = runs["step6"]
    records = _records("meetup.data.1")

    def done():
        bs = _batches(run, 4)
        firsts = [i for i, b in enumerate(bs) if int(b[1][1][0]) > 0]
        return firsts and len(bs) >= firsts[0] + 4  # the data has left the 30 s window
    run.wait(done, "step6: the window did not slide past the data")
    bs = _batches(run, 4)
    for b in bs:
        assert b[0][0] == b[1][0] == b[2][0] == b[3][0]
    lcnt = [int(b[1][1][0]) for b in bs]
    wlcnt = [int(b[0][1][0]) for b in bs]
    assert sum(lcnt) == len(records)
    for i in range(len(bs)):
        assert wlcnt[i] == sum(lcnt[max(0, i - 2):i + 1]), (wlcnt, lcnt)
    assert sum(int(b[2][1][0]) for b in bs) == len(_venues(records))


def test_step2_socket_upper_case_1s_and_30s_batches(lab):
    runs, _ = lab
    records = _records("meetup.data.1")
    for name in ("step2", "step2_30"):
        run = runs[name]
        run.wait(lambda: any(items for _, items in run.blocks()), name + ": no batch with lines")
        items = next(items for _, items in run.blocks() if items)
        assert items[0] == records[0].upper()
        assert all(i == "..." or i in {r.upper() for r in records} for i in items)
