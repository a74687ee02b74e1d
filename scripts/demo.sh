#!/usr/bin/env bash
# The main demo: the lab's final program (venuecounter2: lines per batch, a sliding-window
# count, venues per batch) reading generated Meetup RSVPs from dstream-replay, with every
# duration scaled by 0.1 (1 s batches, a 3 s window sliding every 1 s). It runs about 15 s,
# stops by itself and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release > /dev/null
cmake --build --preset release --target dstream-gen dstream-replay step6_venuecounter2

work=$(mktemp -d /tmp/dstream-demo-XXXXXX)
replay_pid=""
cleanup() {
  [ -n "$replay_pid" ] && kill "$replay_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bin=build/release
"$bin/tools/dstream-gen" meetup --count 20000 --output "$work/rsvps.json"
# The lab's `curl -i http://stream.meetup.com/2/rsvps | nc -lk 9999`, on a free local port.
"$bin/tools/dstream-replay" --port 0 --port-file "$work/port" --rate 300 --http-header --loop \
  "$work/rsvps.json" 2> "$work/replay.log" &
replay_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/replay.log"; echo "demo: dstream-replay did not start" >&2; exit 1; }

echo "demo: venuecounter2 on 127.0.0.1:$(cat "$work/port"), 1 s batches, for 15 s. Each batch prints, as the lab's"
echo "      program does: countByWindow(3 s, 1 s), lines.count(), venues.count(), then the first venues."
echo "      The HTTP header that dstream-replay sends first is reported as bad JSON records and skipped."
"$bin/examples/lab10/step6_venuecounter2" --host 127.0.0.1 --port "$(cat "$work/port")" \
  --scale 0.1 --run-for 15 --checkpoint "$work/checkpoint"
