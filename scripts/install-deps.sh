#!/usr/bin/env bash
# Installs the Debian 12 packages dstream builds with, when they are missing.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(build-essential cmake pkg-config libgtest-dev libgmock-dev libbenchmark-dev
          libabsl-dev libsimdjson-dev libfmt-dev libcli11-dev libxxhash-dev libzstd-dev
          libcpp-httplib-dev libjs-chart.js  # the Streaming UI (src/ui): its server and charts
          chromium  # the UI's browser test (tests/ui), headless
          librdkafka-dev kcat  # Kafka (tools/kafka_mock, tests/kafka); kcat for the examples
          netcat-openbsd python3
          python3-dev pybind11-dev python3-pytest python3-pexpect  # the Python package (python/)
          python3-venv  # pip install . into a venv (its pip comes with it: ensurepip)
          clang libclang-rt-14-dev)  # the fuzz preset: clang++ and libFuzzer
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "dstream: installing missing packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
