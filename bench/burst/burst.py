#!/usr/bin/env python3
"""The burst benchmark (issue 14): dstream-replay sends the lab's Meetup RSVPs at a steady rate
with a burst at 10x what a deliberately slowed pipeline processes, once with backpressure and
a byte limit, once with neither; prints the figures and writes a plot of input rate, rate
limit, scheduling delay and memory over time for both runs (SVG, no third-party modules).

  bench/burst/burst.py                  the full run: 10 s steady, a 20 s burst, 40 s after (~3 min)
  bench/burst/burst.py --quick          a smoke run of a few seconds per mode
Options: --build-dir DIR (default build/release, the targets built already), --out DIR
(default <build-dir>/bench-results): burst.json and burst.svg go there; --plot PATH also
copies the SVG (e.g. bench/plots/burst.svg).
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "..", "shared", "data", "lab10", "meetup.data.1")


def run_mode(build, a, backpressure, scratch):
    """One run: dstream-replay and bench_burst, each a process of its own (RSS is the engine's)."""
    port_file, sent_file = os.path.join(scratch, "port"), os.path.join(scratch, "sent")
    for f in (port_file, sent_file):
        if os.path.exists(f):
            os.remove(f)
    duration = a.steady + a.burst + a.after
    replay = subprocess.Popen(
        [os.path.join(build, "tools", "dstream-replay"), "--port", "0", "--port-file", port_file, "--loop", "-q",
         "--rate", str(a.steady_rate), "--burst-rate", str(10 * a.capacity), "--burst-at", str(a.steady),
         "--burst-seconds", str(a.burst), "--duration", str(duration), "--exit-when-done", "--sent-file", sent_file,
         DATA], stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while not os.path.exists(port_file) and time.time() < deadline:
            time.sleep(0.05)
        port = open(port_file).read().strip()
        cmd = [os.path.join(build, "bench", "burst", "bench_burst"), "--port", port, "--capacity", str(a.capacity),
               "--batch-ms", str(a.batch_ms), "--seconds", str(duration), "--sent-file", sent_file]
        if backpressure:
            cmd += ["--backpressure", "--max-received-bytes", str(a.limit_mib << 20), "--drain", str(a.drain)]
        else:
            cmd += ["--max-received-bytes", "0", "--drain", "0"]  # the backlog is the point: no waiting for it
        load0 = os.getloadavg()[0]
        out = subprocess.run(cmd, check=True, text=True, capture_output=True).stdout
        res = json.loads(next(l for l in out.splitlines() if l.startswith("{")))
        res["load_avg"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
        res["command"] = " ".join(cmd)
        return res
    finally:
        replay.terminate()
        replay.wait()


def figures(r, a):
    """The run's figures. A batch is late when it starts a batch interval or more after its
    time; recovery is how long after the burst's end batches were still late (None: still late
    when the run ended)."""
    b, ticks, d = r["batches"], r["ticks"], a.batch_ms / 1000
    burst_end = r["connect_s"] + a.steady + a.burst
    late_until = [t + sched / 1000 for t, n, sched, *_ in b if sched / 1000 >= d]
    late_until += [k[0] for k in ticks if k[5] >= d]
    still_late = bool(ticks) and ticks[-1][5] >= d
    recovery = None if still_late else max([0.0] + [t - burst_end for t in late_until])
    return {
        "mode": "backpressure + %d MiB limit" % a.limit_mib if r["backpressure"] else "no backpressure, no limit",
        "sent": r["sent"], "counted": r["counted"],
        "exactly_once": r["sent"] == r["counted"],
        "peak_rss_mib": r["peak_rss_mib"],
        "max_pending_mib": round(max(k[3] for k in ticks) / (1 << 20), 1),
        "max_sched_delay_s": round(max([x[2] / 1000 for x in b] + [k[5] for k in ticks]), 1),
        "sched_delay_at_end_s": round(ticks[-1][5], 1),
        "recovery_after_burst_s": None if recovery is None else round(recovery, 1),
        "load_avg": r["load_avg"],
    }


def render_svg(runs, a, width=1100, height=760):
    """Three panels per run (columns), sampled every 0.5 s: the records/s the receiver took and
    its rate limit; how late the next batch is (the scheduling delay it will have, at least);
    pending bytes and RSS. The burst is shaded; the dashed line is one batch interval."""
    cols, rows = len(runs), 3
    left, top, gap_x, gap_y, right = 70, 50, 60, 55, 20
    pw = (width - left - right - gap_x * (cols - 1)) / cols
    ph = (height - top - 40 - gap_y * (rows - 1)) / rows
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">A {a.burst:g} s burst at 10x what the pipeline '
           f'processes ({a.capacity:,} RSVPs/s; steady {a.steady_rate:,}/s), batches of {a.batch_ms} ms</text>']
    tmax = max(k[0] for r in runs for k in r["ticks"]) or 1
    mib = 1 << 20
    series = [  # (title, [(name, value of a tick or None to skip it, color)])
        ("records/s", [("taken by the receiver", lambda k: k[1], "#1f77b4"),
                       ("rate limit", lambda k: k[2] if k[2] > 0 else None, "#d62728")]),
        ("scheduling delay (s)", [("next batch late by", lambda k: k[5], "#ff7f0e")]),
        ("MiB", [("pending (received, not yet in a batch)", lambda k: k[3] / mib, "#2ca02c"),
                 ("RSS", lambda k: k[4], "#9467bd")]),
    ]
    for row, (title, lines) in enumerate(series):
        vals = [f(k) for r in runs for k in r["ticks"] for _, f, _ in lines]
        ymax = max([v for v in vals if v is not None] + [a.batch_ms / 1000 if row == 1 else 1]) * 1.1
        for col, r in enumerate(runs):
            x0, y0 = left + col * (pw + gap_x), top + row * (ph + gap_y)

            def X(t):
                return x0 + pw * max(t, 0) / tmax

            def Y(v):
                return y0 + ph - ph * min(v, ymax) / ymax

            bs, be = r["connect_s"] + a.steady, r["connect_s"] + a.steady + a.burst
            out.append(f'<rect x="{X(bs):.1f}" y="{y0}" width="{X(be) - X(bs):.1f}" height="{ph:.1f}" fill="#f0f0f0"/>')
            out.append(f'<rect x="{x0:.1f}" y="{y0}" width="{pw:.1f}" height="{ph:.1f}" fill="none" stroke="#888"/>')
            head = ("backpressure on, %d MiB limit" % a.limit_mib) if r["backpressure"] else "backpressure off, no limit"
            out.append(f'<text x="{x0:.1f}" y="{y0 - 6}">{head}: {title}</text>')
            for k in range(5):
                v = ymax * k / 4
                label = f"{v:,.0f}" if ymax >= 10 else f"{v:.1f}"
                out.append(f'<line x1="{x0 - 4:.1f}" x2="{x0 + pw:.1f}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#e4e4e4"/>')
                out.append(f'<text x="{x0 - 6:.1f}" y="{Y(v) + 4:.1f}" text-anchor="end">{label}</text>')
            step = 10 if tmax > 30 else 2
            for t in range(0, int(tmax) + 1, step):
                out.append(f'<text x="{X(t):.1f}" y="{y0 + ph + 14:.1f}" text-anchor="middle">{t}s</text>')
            for j, (name, f, color) in enumerate(lines):
                pts = [(X(k[0]), Y(f(k))) for k in r["ticks"] if f(k) is not None]
                if pts:
                    out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>'
                               % (" ".join("%.1f,%.1f" % p for p in pts), color))
                out.append(f'<text x="{x0 + pw - 6:.1f}" y="{y0 + 14 + 14 * j}" text-anchor="end" fill="{color}">{name}</text>')
            if row == 1:
                y = Y(a.batch_ms / 1000)
                out.append(f'<line x1="{x0:.1f}" x2="{x0 + pw:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#999" stroke-dasharray="4,3"/>')
    out.append(f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle">time since the first batch '
               '(shaded: the burst; dashed: one batch interval)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    ap.add_argument("--out")
    ap.add_argument("--plot")
    a = ap.parse_args()
    a.capacity, a.steady_rate, a.batch_ms, a.limit_mib = 2000, 1000, 1000, 256  # 256 MiB: the default maxReceivedBytes
    a.steady, a.burst, a.after, a.drain = (2, 3, 5, 30) if a.quick else (10, 20, 40, 120)
    out = a.out or os.path.join(a.build_dir, "bench-results")
    os.makedirs(out, exist_ok=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="dstream-burst-") as scratch:
        for bp in (True, False):
            t0 = time.time()
            runs.append(run_mode(a.build_dir, a, bp, scratch))
            print(f"  burst, backpressure {'on' if bp else 'off'}: {time.time() - t0:.0f} s", file=sys.stderr)
    figs = [figures(r, a) for r in runs]
    for f in figs:
        print(json.dumps(f))
    with open(os.path.join(out, "burst.json"), "w") as f:
        json.dump({"figures": figs, "runs": runs}, f)
    svg = os.path.join(out, "burst.svg")
    with open(svg, "w") as f:
        f.write(render_svg(runs, a))
    if a.plot:
        shutil.copyfile(svg, a.plot)
    if not figs[0]["exactly_once"]:
        sys.exit(f"burst.py: FAILED: with backpressure {figs[0]['counted']} lines counted, {figs[0]['sent']} sent")
    print(f"burst.py: wrote {svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
