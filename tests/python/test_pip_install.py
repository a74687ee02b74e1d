"""`pip install` of the source tree into a venv, offline (--no-index), then the installed
dstream-submit and dstream-pyspark run a tiny program.

Slow-ish (30-60 s on 2 cores): it runs as its own CTest test, python_pip_install. To stay
quick it builds only the native module, against the library of the build tree the tests run
from (`cmake --install` into a temporary prefix, then DSTREAM_PREFIX: the backend's second
way); the default way (the whole project from source) builds the same module with more
compiling.
"""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = os.environ.get("DSTREAM_PYTHON", sys.executable)
TIMEOUT = 600  # a bound on a hang only

PROGRAM = """
from pyspark import SparkContext, SparkConf
from pyspark.streaming import StreamingContext
from pyspark.streaming.listener import StreamingListener
import dstream

class Counter(StreamingListener):
    completed = 0

    def onBatchCompleted(self, batchCompleted):
        Counter.completed += 1

sc = SparkContext(appName="pip", conf=SparkConf().set("dstream.test.manualClock", "true"))
ssc = StreamingContext(sc, 1)
ssc.addStreamingListener(Counter())
got = []
ssc.queueStream([[1, 2, 3]]).map(lambda x: x * 10).foreachRDD(lambda rdd: got.extend(rdd.collect()))
ssc.start()
ssc.TEST_advanceClock(1)
ssc.stop(stopGraceFully=True)
print(sc.master, sorted(got), Counter.completed, dstream.__file__)
"""


def _build_dir():
    """The build tree whose module the tests import (on PYTHONPATH as <build>/python)."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry and glob.glob(os.path.join(entry, "dstream", "_dstream" + suffix)):
            build = os.path.dirname(os.path.abspath(entry))
            if os.path.isfile(os.path.join(build, "cmake_install.cmake")):
                return build
    return None


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, **kw)
    assert r.returncode == 0, "%s failed (%d):\n%s\n%s" % (cmd, r.returncode, r.stdout[-4000:], r.stderr[-4000:])
    return r


def test_pip_install_offline_into_a_venv(tmp_path):
    if subprocess.run([PYTHON, "-c", "import ensurepip, venv"], capture_output=True).returncode != 0:
        pytest.skip("python3-venv is not installed (no ensurepip): apt-get install python3-venv")
    if shutil.which("cmake") is None:
        pytest.skip("no cmake")
    build = _build_dir()
    if build is None:
        pytest.skip("no built module on PYTHONPATH (<build>/python) to take the library from")
    prefix = tmp_path / "prefix"
    _run(["cmake", "--install", build, "--prefix", str(prefix)])
    venv = tmp_path / "venv"
    _run([PYTHON, "-m", "venv", "--system-site-packages", str(venv)])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("PIP_")}
    env.update(DSTREAM_PREFIX=str(prefix), DSTREAM_BUILD_JOBS="2", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PATH=str(venv / "bin") + os.pathsep + env.get("PATH", ""))
    _run([str(venv / "bin" / "pip"), "install", "--no-index", REPO], env=env, cwd=str(tmp_path))

    script = tmp_path / "app.py"
    script.write_text(PROGRAM)
    out = _run(["dstream-submit", "--master", "local[2]", str(script)], env=env, cwd=str(tmp_path)).stdout
    master, got, completed, where = _fields(out)
    assert (master, got) == ("local[2]", "[10, 20, 30]") and int(completed) >= 1  # the listener was called
    assert where.startswith(str(venv))  # the installed package, not the source tree
    shell = _run(["dstream-pyspark"], input="print('master', sc.master)\n", env=dict(env, MASTER="local[1]"),
                 cwd=str(tmp_path)).stdout
    assert "master local[1]" in shell
    # pyspark's names exist only inside the commands.
    probe = _run([str(venv / "bin" / "python"), "-c",
                  "import importlib.util as u; s = u.find_spec('pyspark'); "
                  "print(s is None or 'dstream' not in s.origin)"], env=env, cwd=str(tmp_path)).stdout
    assert probe == "True\n"


def _fields(out):
    line = out.strip().splitlines()[-1]
    master, rest = line.split(" ", 1)
    got, rest = rest.split("] ", 1)
    completed, where = rest.split(" ", 1)
    return master, got + "]", completed, where
