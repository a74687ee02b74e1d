"""Turns bench/run's results into the Markdown table and the targets verdicts."""


def _find(rows, **kw):
    for r in rows or []:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def _m(x):
    return f"{x / 1e6:.2f} M"


def evaluate_targets(res):
    mem, out = res.get("mem", []), []

    def add(name, value, ok, note=""):
        out.append({"target": name, "measured": value, "met": ok, "note": note})

    g1, g2 = _find(mem, workload="grep", threads=1), _find(mem, workload="grep", threads=2)
    if g1 and g2:
        add("Grep >= 0.7x loop on 1 thread", f"{g1['ratio']:.2f}x", g1["ratio"] >= 0.7)
        add("Grep above the loop on 2 threads", f"{g2['ratio']:.2f}x", g2["ratio"] > 1.0)
    for name, wl, extra in (("Per-batch WordCount", "wordcount", {}),
                            ("Windowed WordCount (30 s, inverse)", "windowed", {"window_batches": 30}),
                            ("Windowed WordCount (30 s, no inverse)", "windowed-noinv", {"window_batches": 30})):
        r1 = _find(mem, workload=wl, threads=1, vocab=10000, **extra)
        r2 = _find(mem, workload=wl, threads=2, vocab=10000, **extra)
        if r1 and r2:
            add(f"{name} V=10,000 >= 0.5x loop on 1 thread", f"{r1['ratio']:.2f}x", r1["ratio"] >= 0.5)
            add(f"{name} V=10,000 >= 2 M rec/s on 2 threads", _m(r2["engine_rps"]) + " rec/s", r2["engine_rps"] >= 2e6)
    for t in (1, 2):
        w30 = _find(mem, workload="windowed", threads=t, window_batches=30)
        w3 = _find(mem, workload="windowed", threads=t, window_batches=3)
        if w30 and w3:
            ratio = w30["engine_ms_per_batch"] / w3["engine_ms_per_batch"]
            add(f"30-slide window <= 1.2x a 3-slide window per batch (local[{t}])", f"{ratio:.2f}x", ratio <= 1.2)
        small = [r for r in mem if not r.get("state_keys")]  # not the large-state rows
        plain = _find(small, workload="running", threads=t, checkpoint=False)
        ck = _find(small, workload="running", threads=t, checkpoint=True)
        if plain and ck:
            cost = ck["engine_ms_per_batch"] / plain["engine_ms_per_batch"] - 1
            add(f"Checkpoint every 10 batches costs <= 10% (running count, local[{t}])", f"{cost * 100:+.0f}%", cost <= 0.10)
    src = res.get("sources", [])
    s = _find(src, source="socket", what="socketTextStream count")
    if s:
        add("Socket ingest >= 1 GB/s (100-byte lines)", f"{s['gb_per_s']:.2f} GB/s", s["gb_per_s"] >= 1.0)
    f = _find(src, source="file", what="textFileStream count")
    if f:
        add("File source >= 2 GB/s from page cache", f"{f['gb_per_s']:.2f} GB/s", f["gb_per_s"] >= 2.0)
    lat = _find(res.get("latency"), batch_ms=100, offered_rate=1000000)
    if lat:
        ok = lat["total_p99_ms"] <= 150 and lat["kept_up"]
        add("100 ms batches at 1 M rec/s: p99 total delay <= 150 ms", f"{lat['total_p99_ms']:.0f} ms"
            + ("" if lat["kept_up"] else " (did not keep up)"), ok)
    st = res.get("startup")
    if st:
        add("Startup < 50 ms", f"{st['p50_ms']:.1f} ms (median)", st["p50_ms"] < 50)
    return out


def render_markdown(res):
    m = res["machine"]
    L = [f"## dstream benchmarks ({res['mode']} run, {res['seconds']} s)", "",
         f"Machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}; {m['compiler']}; commit {m['commit']}; "
         f"load average {m['load_before']:.1f} before, {m['load_after']:.1f} after.", ""]
    if res["mode"] == "quick":
        L += ["Quick run: tiny inputs, one run each. It proves the programs work and agree with the loops; "
              "its figures mean nothing.", ""]
    if res.get("mem"):
        L += ["### In memory (queueStream, ManualClock advanced as soon as a batch completes)", "",
              "| workload | V | local[N] | records/batch | dstream rec/s | per core | loop rec/s | ratio | dstream ms/batch | loop ms/batch | peak RSS MiB | keys | checksum |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["mem"]:
            name = r["workload"]
            if name.startswith("windowed"):
                name += f" {r['window_batches']} s"
            if r.get("checkpoint"):
                name += " + checkpoint"
            if r.get("state_keys"):
                name += f" + {r['state_keys']:,} state keys"
            L.append(f"| {name} | {r['vocab'] or '-'} | {r['threads']} | {r['records_per_batch']:,} | {_m(r['engine_rps'])} | "
                     f"{_m(r['engine_rps_per_core'])} | {_m(r['loop_rps'])} | {r['ratio']:.2f} | {r['engine_ms_per_batch']:.1f} | "
                     f"{r['loop_ms_per_batch']:.1f} | {r['peak_rss_mib']:.0f} | {r['keys']:,} | agree |")
        L.append("")
    if res.get("sources"):
        L += ["### Sources", "", "| source | measured | local[N] | lines | MB/s | GB/s | lines/s |", "|---|---|---|---|---|---|---|"]
        for r in res["sources"]:
            L.append(f"| {r['source']} | {r['what']} | {r['threads']} | {r['lines']:,} | {r['mb_per_s']:.0f} | "
                     f"{r['gb_per_s']:.2f} | {_m(r['lines_per_s'])} |")
        L.append("")
    if res.get("latency"):
        L += ["### Latency (SystemClock, socket source at a fixed offered rate, per-batch WordCount, local[2])", "",
              "| batch | load | offered rec/s | achieved rec/s | sched p50/p99 ms | processing p50/p99 ms | total p50/p99 ms | kept up |",
              "|---|---|---|---|---|---|---|---|"]
        for r in res["latency"]:
            L.append(f"| {r['batch_ms']} ms | {r.get('load', 'rate search')} | {r['offered_rate']:,.0f} | {r['achieved_rate']:,.0f} | "
                     f"{r['sched_p50_ms']:.0f} / {r['sched_p99_ms']:.0f} | {r['proc_p50_ms']:.0f} / {r['proc_p99_ms']:.0f} | "
                     f"{r['total_p50_ms']:.0f} / {r['total_p99_ms']:.0f} | {'yes' if r['kept_up'] else 'NO'} |")
        search = [r for r in res["latency"] if "load" not in r and r["batch_ms"] == 100]
        good = [r["offered_rate"] for r in search if r["kept_up"] and r["total_p99_ms"] < 200]
        L += ["", f"Largest rate tried with p99 total delay < 2 batch intervals (200 ms): "
                  f"{max(good):,.0f} rec/s" if good else "", ""]
        for load in ("idle", "light"):
            ok = [r["batch_ms"] for r in res["latency"] if r.get("load") == load and r["kept_up"]]
            L.append(f"Smallest batch interval kept up with, {load}: {min(ok)} ms" if ok else f"{load}: none kept up")
        L.append("")
    if res.get("startup"):
        s = res["startup"]
        L += ["### Startup", "", f"Process start to first batch output (10 ms batch), {s['runs']} runs: "
              f"median {s['p50_ms']:.1f} ms, min {s['min_ms']:.1f} ms, max {s['max_ms']:.1f} ms.", ""]
    if res.get("targets"):
        L += ["### Targets", "", "| target | measured | met |", "|---|---|---|"]
        for t in res["targets"]:
            L.append(f"| {t['target']} | {t['measured']} | {'met' if t['met'] else '**missed**'} |")
        L.append("")
    return "\n".join(L)
