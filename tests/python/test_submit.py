"""dstream-submit: pyspark's names, --master as spark-submit takes it, the script's argv."""
import os
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
