"""dstream's PEP 517 build backend: `pip install .` without anything from PyPI.

pyproject.toml names this module (backend-path) and requires nothing, so pip's isolated build
environment needs no download. The wheel holds:

- dstream/ (python/dstream's .py files) and its native module _dstream, built with CMake;
- dstream/_pyspark_compat/ (python/pyspark_compat): pyspark's names, which only the commands
  put on sys.path;
- the console commands dstream-submit and dstream-pyspark (dstream._commands).

The native module is built one of two ways:

- by default, from source: the whole project is configured in build/pip-<interpreter> of the
  source tree (tests, examples, tools and benchmarks off) and its target dstream_python built;
  the directory is kept, so a second `pip install .` rebuilds only what changed;
- with DSTREAM_PREFIX (environment, or `--config-settings dstream-prefix=DIR`) naming an
  installed dstream (`cmake --install <build> --prefix DIR`): only the module is built
  (python/CMakeLists.txt on its own), against that library, in a temporary directory.

DSTREAM_BUILD_JOBS (default: the machine's cores) sets the build's parallelism.
"""
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_DIR = os.path.join(ROOT, "python")
NAME = "dstream"
SUMMARY = "pyspark's streaming API (DStreams) on dstream's C++ engine"
ENTRY_POINTS = ("[console_scripts]\n"
                "dstream-submit = dstream._commands:submit\n"
                "dstream-pyspark = dstream._commands:pyspark_shell\n")


def _version():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(dstream\s+VERSION\s+([0-9.]+)", f.read())
    if not m:
        raise RuntimeError("dstream_build: no project(dstream VERSION ...) in CMakeLists.txt")
    return m.group(1)


def _tag():
    """The wheel's tag: this interpreter's, as the native module is built for it."""
    impl = "cp%d%d" % sys.version_info[:2]
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "%s-%s-%s" % (impl, impl, platform)


def _dist_info():
    return "%s-%s.dist-info" % (NAME, _version())


def _metadata_files():
    """The .dist-info files (name -> text) other than RECORD."""
    return {
        "METADATA": ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: >=3.9\n"
                     % (NAME, _version(), SUMMARY)),
        "WHEEL": ("Wheel-Version: 1.0\nGenerator: dstream_build\nRoot-Is-Purelib: false\nTag: %s\n" % _tag()),
        "entry_points.txt": ENTRY_POINTS,
        "top_level.txt": NAME + "\n",
    }


# ---- PEP 517 hooks ----
def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = os.path.join(metadata_directory, _dist_info())
    os.makedirs(info, exist_ok=True)
    for name, text in _metadata_files().items():
        with open(os.path.join(info, name), "w", encoding="utf-8") as f:
            f.write(text)
    return _dist_info()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    settings = config_settings or {}
    prefix = settings.get("dstream-prefix") or os.environ.get("DSTREAM_PREFIX")
    with tempfile.TemporaryDirectory(prefix="dstream-wheel-") as tmp:
        module = _build_module(prefix, tmp)
        name = "%s-%s-%s.whl" % (NAME, _version(), _tag())
        _write_wheel(os.path.join(wheel_directory, name), module)
    return name


# ---- the native module ----
def _run(cmd):
    print("dstream_build: " + " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def _build_module(prefix, tmp):
    """Builds dstream._dstream for this interpreter; returns the module file's path."""
    jobs = os.environ.get("DSTREAM_BUILD_JOBS") or str(os.cpu_count() or 1)
    common = ["-DCMAKE_BUILD_TYPE=Release", "-DDSTREAM_BUILD_PYTHON=ON", "-DPython3_EXECUTABLE=" + sys.executable]
    if prefix:
        build = os.path.join(tmp, "build")
        _run(["cmake", "-S", PYTHON_DIR, "-B", build, "-DCMAKE_PREFIX_PATH=" + os.path.abspath(prefix)] + common)
        module_dir = os.path.join(build, "dstream")
    else:
        build = os.path.join(ROOT, "build", "pip-" + sys.implementation.cache_tag)
        _run(["cmake", "-S", ROOT, "-B", build, "-DDSTREAM_BUILD_TESTS=OFF", "-DDSTREAM_BUILD_EXAMPLES=OFF",
              "-DDSTREAM_BUILD_TOOLS=OFF", "-DDSTREAM_BUILD_BENCHMARKS=OFF"] + common)
        module_dir = os.path.join(build, "python", "dstream")
    _run(["cmake", "--build", build, "--target", "dstream_python", "-j", jobs])
    module = os.path.join(module_dir, "_dstream" + sysconfig.get_config_var("EXT_SUFFIX"))
    if not os.path.isfile(module):
        raise RuntimeError("dstream_build: the build made no %s" % module)
    return module


# ---- the wheel ----
def _package_files(module):
    """(path in the wheel, file on disk) of the package."""
    files = []
    for src_dir, dest_dir in ((os.path.join(PYTHON_DIR, "dstream"), "dstream"),
                              (os.path.join(PYTHON_DIR, "pyspark_compat"), "dstream/_pyspark_compat")):
        for dirpath, dirnames, filenames in os.walk(src_dir):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for f in sorted(filenames):
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, f), src_dir).replace(os.sep, "/")
                    files.append((dest_dir + "/" + rel, os.path.join(dirpath, f)))
    files.append(("dstream/" + os.path.basename(module), module))
    return files


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (arcname, digest, len(data))


def _write_wheel(path, module):
    record = []
    with zipfile.ZipFile(path + ".part", "w", compression=zipfile.ZIP_DEFLATED) as whl:
        def add(arcname, data, mode=0o644):
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, data)
            record.append(_record_line(arcname, data))

        for arcname, src in _package_files(module):
            with open(src, "rb") as f:
                add(arcname, f.read(), 0o755 if src == module else 0o644)
        info = _dist_info()
        for name, text in _metadata_files().items():
            add(info + "/" + name, text.encode("utf-8"))
        record_name = info + "/RECORD"
        whl.writestr(zipfile.ZipInfo(record_name, date_time=(1980, 1, 1, 0, 0, 0)),
                     "".join(record) + record_name + ",,\n")
    shutil.move(path + ".part", path)
