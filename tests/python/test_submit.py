"""dstream-submit: pyspark's names, --master as spark-submit takes it, the script's argv."""
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUBMIT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "python", "bin", "dstream-submit")
PYTHON = os.environ.get("DSTREAM_PYTHON", sys.executable)

SCRIPT = """
import sys
from pyspark import SparkContext, SparkConf
from pyspark.streaming import StreamingContext
import dstream
assert SparkContext is dstream.SparkContext and StreamingContext is dstream.StreamingContext
sc = SparkContext(appName="submit-test") if sys.argv[1] == "conf" else SparkContext("local[3]", "x")
print(sc.master, sc.defaultParallelism, sys.argv[1:], __name__)
"""


def submit(tmp_path, *args):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    r = subprocess.run([PYTHON, SUBMIT, *[a.replace("SCRIPT", str(script)) for a in args]],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_master_option_is_the_default_master(tmp_path):
    assert submit(tmp_path, "--master", "local[2]", "SCRIPT", "conf", "x") == \
        (0, "local[2] 2 ['conf', 'x'] __main__\n", "")
    assert submit(tmp_path, "--master=local[4]", "SCRIPT", "conf")[1] == "local[4] 4 ['conf'] __main__\n"


def test_a_master_in_the_program_wins_over_the_option(tmp_path):
    assert submit(tmp_path, "--master", "local[2]", "SCRIPT", "code")[1] == "local[3] 3 ['code'] __main__\n"


def test_usage_errors(tmp_path):
    rc, _, err = submit(tmp_path, "--deploy-mode", "cluster", "SCRIPT")
    assert rc == 2 and "unknown option --deploy-mode" in err
    assert submit(tmp_path)[0] == 2


def test_pyspark_is_not_importable_outside_dstream_submit():
    r = subprocess.run([PYTHON, "-c", "import dstream, importlib.util; print(importlib.util.find_spec('pyspark') is None "
                        "or 'pyspark_compat' not in importlib.util.find_spec('pyspark').origin)"],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout == "True\n", r.stderr


LEAVES_RUNNING = """
from pyspark import SparkContext
from pyspark.streaming import StreamingContext
ssc = StreamingContext(SparkContext("local[2]", "x"), 0.1)
ssc.queueStream([[1, 2]]).map(lambda x: x * 2).pprint()
ssc.start()
print("started", flush=True)
"""

FAILS = """
from pyspark import SparkContext
from pyspark.streaming import StreamingContext
ssc = StreamingContext(SparkContext("local[2]", "x"), 0.1)
ssc.queueStream([[1, 0]]).map(lambda x: 1 / x).pprint()
ssc.start()
ssc.awaitTermination()
"""

WAITS = """
import os, sys
from pyspark import SparkContext
from pyspark.streaming import StreamingContext
ssc = StreamingContext(SparkContext("local[2]", "x"), 0.1)
ssc.textFileStream(sys.argv[1]).pprint()
ssc.start()
print("started", flush=True)
ssc.awaitTermination()
"""


def _run(tmp_path, text, *args):
    script = tmp_path / "app.py"
    script.write_text(text)
    return subprocess.run([PYTHON, SUBMIT, str(script), *args], capture_output=True, text=True, timeout=60)


def test_a_program_that_ends_without_stop_exits(tmp_path):
    r = _run(tmp_path, LEAVES_RUNNING)
    assert r.returncode == 0 and "started" in r.stdout, r.stderr


def test_a_failing_function_ends_the_program_with_its_traceback(tmp_path):
    r = _run(tmp_path, FAILS)
    assert r.returncode == 1
    assert "StreamingError" in r.stderr and "ZeroDivisionError: division by zero" in r.stderr
    assert "lambda x: 1 / x" in r.stderr


def test_ctrl_c_stops_gracefully(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(WAITS)
    proc = subprocess.Popen([PYTHON, SUBMIT, str(script), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:  # batches may print around the line
        if "started" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err


QUIET_FAILS = """
from pyspark import SparkContext
from pyspark.streaming import StreamingContext
sc = SparkContext("local[2]", "x")
ssc = StreamingContext(sc, 0.1)
sc.setLogLevel("OFF")
ssc.queueStream([[1, 0]]).map(lambda x: 1 / x).pprint()
ssc.start()
ssc.awaitTermination()
"""


def test_setLogLevel_OFF_silences_the_engine_log_not_the_error(tmp_path):
    r = _run(tmp_path, QUIET_FAILS)
    assert r.returncode == 1
    assert "ZeroDivisionError" in r.stderr
    assert "dstream: error:" not in r.stderr
    r = _run(tmp_path, FAILS)
    assert "dstream: error:" in r.stderr  # the default, INFO, shows it
