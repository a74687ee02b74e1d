"""The lab's venuecounter.py (LAB10.md Step 5), copied verbatim into lab/, run by dstream-submit
against a real loopback socket on port 9999 (the port the program names) fed by this test with
../shared/data/lab10/meetup.data.1. Its printed output is checked against the data."""
import errno
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading

import pytest

from conftest import WAIT

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PROGRAM = os.path.join(HERE, "lab", "venuecounter.py")
DATA = os.path.join(os.environ.get("DSTREAM_LAB_DATA", os.path.join(REPO, "..", "shared", "data", "lab10")),
                    "meetup.data.1")
LAB = os.environ.get("DSTREAM_LAB", os.path.join(REPO, "..", "shared", "lab10", "LAB10.md"))
DASHES = "-------------------------------------------"


def test_the_copied_program_is_the_labs_text():
    if not os.path.exists(LAB):
        pytest.skip("LAB10.md not found at %s: cannot compare the copy with the lab" % LAB)
    text = open(LAB, encoding="utf-8").read()
    start = text.index("`venuecounter.py`. For the purpose")
    a = text.index("```\n", start) + 4
    assert open(PROGRAM, encoding="utf-8").read() == text[a:text.index("```", a)]


def _listen_9999():
    socks = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 9999))
            s.listen(1)
            socks.append(s)
        except OSError as e:
            s.close()
            if e.errno == errno.EADDRINUSE:
                for t in socks:
                    t.close()
                pytest.skip("port 9999 (which venuecounter.py names) is in use on %s" % host)
    return socks


def _blocks(text):
    """pprint blocks: (time line, [element lines])."""
    out = []
    lines = text.split("\n")
    i = 0
    while i + 2 < len(lines):
        if lines[i] == DASHES and lines[i + 1].startswith("Time: ") and lines[i + 2] == DASHES:
            j = i + 3
            items = []
            while j < len(lines) and lines[j] != "":
                items.append(lines[j])
                j += 1
            out.append((lines[i + 1], items))
            i = j + 1
        else:
            i += 1
    return out


def test_venuecounter_runs_unchanged_through_dstream_submit():
    if not os.path.exists(DATA):
        pytest.skip("the lab's data %s is not here (../shared/data/lab10/): the lab run needs it" % DATA)
    records = open(DATA, encoding="utf-8").read().splitlines()
    venues = [j["venue"] for x in records for j in json.loads("[" + x + "]") if "venue" in j]
    listeners = _listen_9999()
    env = dict(os.environ)
    python = os.environ.get("DSTREAM_PYTHON", sys.executable)
    proc = subprocess.Popen([python, os.path.join(REPO, "python", "bin", "dstream-submit"), PROGRAM,
                             "localhost", "9999"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    out, cond = [], threading.Condition()

    def read():
        for line in proc.stdout:
            with cond:
                out.append(line)
                cond.notify_all()
    threading.Thread(target=read, daemon=True).start()
    conn = None
    try:
        sel = selectors.DefaultSelector()
        for s in listeners:
            sel.register(s, selectors.EVENT_READ)
        ready = sel.select(timeout=WAIT)
        assert ready, "venuecounter.py did not connect to port 9999"
        conn, _ = ready[0][0].fileobj.accept()
        conn.sendall(("\n".join(records) + "\n").encode("utf-8"))

        def complete():
            text = "".join(out)
            blocks = _blocks(text[:text.rfind("\n\n") + 2])  # whole blocks only
            batches = [blocks[k:k + 3] for k in range(0, len(blocks) - 2, 3)]
            return sum(int(b[0][1][0]) for b in batches) >= len(records)
        with cond:
            assert cond.wait_for(complete, timeout=3 * WAIT), "output so far:\n" + "".join(out)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if conn:
            conn.close()
        for s in listeners:
            s.close()
    blocks = _blocks("".join(out))
    batches = [blocks[k:k + 3] for k in range(0, len(blocks) - 2, 3)]
    assert sum(int(b[0][1][0]) for b in batches) == len(records)
    assert sum(int(b[1][1][0]) for b in batches) == len(venues)
    printed = [item for b in batches for item in b[2][1] if item != "..."]
    shown = {str(v) for v in venues}
    assert printed and all(p in shown for p in printed)  # str() of the venue dicts, as pyspark prints
    first = next(b for b in batches if int(b[1][1][0]) > 0)
    assert first[2][1][0] == str(venues[0])
    if int(first[1][1][0]) > 10:
        assert first[2][1][-1] == "..." and len(first[2][1]) == 11
    for b in batches:
        assert b[0][0] == b[1][0] == b[2][0]  # the three outputs of a batch share its time
