"""The commands dstream-submit and dstream-pyspark (spark-submit and the pyspark shell).

Both put pyspark's names (the package pyspark_compat) first on sys.path, in their own process
only: a real pyspark elsewhere is not shadowed, and `import pyspark` fails outside them. The
source tree runs them as python/bin/dstream-submit and python/bin/dstream-pyspark; an installed
dstream (`pip install .`) as console commands of the same names.
"""
import os
import runpy
import sys

from dstream.context import MASTER_ENV

SUBMIT_USAGE = "usage: dstream-submit [--master local[N]] script.py [args...]"


def pyspark_compat_dir():
    """Where the package `pyspark` of pyspark's names is: inside the installed package
    (dstream/_pyspark_compat), or python/pyspark_compat beside python/dstream in the source tree."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "_pyspark_compat")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(here), "pyspark_compat")


def _expose_pyspark():
    sys.path.insert(0, pyspark_compat_dir())


def submit(argv=None):
    """dstream-submit [--master local[N]] script.py [args...]: runs script.py as __main__ with
    sys.argv = [script.py, args...] and pyspark's names importable. --master works as in
    spark-submit: it is the default master (spark.master), which a master given in the program
    overrides; without it, local[*]. Returns the exit status (130 after Ctrl-C)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _submit(argv)
    except KeyboardInterrupt:
        return 130


def _submit(argv):
    master = "local[*]"
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        a = argv[i]
        if a in ("-h", "--help"):
            print(SUBMIT_USAGE)
            return 0
        if a == "--master" and i + 1 < len(argv):
            master = argv[i + 1]
            i += 2
        elif a.startswith("--master="):
            master = a[len("--master="):]
            i += 1
        else:
            print("dstream-submit: unknown option %s (only --master is supported)\n%s" % (a, SUBMIT_USAGE),
                  file=sys.stderr)
            return 2
    if i >= len(argv):
        print(SUBMIT_USAGE, file=sys.stderr)
        return 2
    script, args = argv[i], argv[i + 1:]
    _expose_pyspark()
    os.environ[MASTER_ENV] = master
    sys.argv = [script] + args
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0


def pyspark_shell():
    """dstream-pyspark: a Python prompt with `sc` ready (SparkContext(MASTER, "PySparkShell"),
    MASTER from the environment, local[*] without it) and pyspark's names importable.
    `ssc.start()` returns to the prompt while batches print; `ssc.stop()` stops them; exit() or
    Ctrl-D leaves (a running context is stopped first)."""
    import code
    _expose_pyspark()
    from pyspark import SparkContext
    try:
        import readline  # noqa: F401  (line editing and history at the prompt, when available)
    except ImportError:
        pass
    master = os.environ.get("MASTER", "local[*]")
    sc = SparkContext(master, "PySparkShell")
    banner = ("dstream-pyspark: pyspark's streaming API on dstream's engine\n"
              "SparkContext available as 'sc' (master = %s).") % master
    code.interact(banner=banner, local={"sc": sc, "__name__": "__main__"}, exitmsg="")
    return 0
