"""dstream-pyspark, driven through a pseudo-terminal (pexpect), as the lab's Step 1 uses pyspark."""
import os
import sys

import pytest

from conftest import WAIT

pexpect = pytest.importorskip("pexpect", reason="python3-pexpect drives the shell (scripts/install-deps.sh)")

HERE = os.path.dirname(os.path.abspath(__file__))
SHELL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "python", "bin", "dstream-pyspark")
PYTHON = os.environ.get("DSTREAM_PYTHON", sys.executable)


def test_step1_in_the_shell(tmp_path):
    watched = tmp_path / "datastreams"
    watched.mkdir()
    env = dict(os.environ, MASTER="local[2]", TERM="dumb")
    child = pexpect.spawn(PYTHON, [SHELL], env=env, encoding="utf-8", timeout=WAIT)
    try:
        child.expect("SparkContext available as 'sc'")
        child.expect(">>> ")
        for line in ["from pyspark import SparkContext",
                     "from pyspark.streaming import StreamingContext",
                     "ssc = StreamingContext(sc, 0.2)",
                     'lines = ssc.textFileStream("file://%s")' % watched,
                     "uclines = lines.map(lambda word: word.upper())",
                     "uclines.pprint()"]:
            child.sendline(line)
            child.expect(">>> ")
        child.sendline("sc.master")
        child.expect(r"'local\[2\]'")
        child.expect(">>> ")
        child.sendline("ssc.start()")
        child.expect(">>> ")  # back at the prompt at once
        staged = tmp_path / "words"
        staged.write_text("hej\nkalle\n")
        os.rename(staged, watched / "words")
        child.expect("HEJ\r\nKALLE\r\n")
        child.sendline("ssc.stop()")
        child.expect(">>> ")
        child.sendline("exit()")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
