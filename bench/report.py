"""Turns bench/run's results into the Markdown table and the targets verdicts."""


def _find(rows, **kw):
    for r in rows or []:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def _m(x):
    return f"{x / 1e6:.2f} M"


_KIND = {"running": "updateStateByKey", "mapwithstate": "mapWithState", "window": "reduceByKeyAndWindow + inverse"}


def _keymem_pairs(rows):
    """(kind, keys, dstream row, loop row) for each measured configuration."""
    out = []
    for d in rows or []:
        if d["impl"] != "dstream":
            continue
        l = _find(rows, impl="loop", kind=d["kind"], keys=d["keys"])
        if l:
            out.append((d["kind"], d["keys"], d, l))
    return out


def _highest_kept(rows, work):
    """The 100 ms rate-search row with the highest offered rate that was kept up with."""
    kept = [r for r in rows or [] if r["batch_ms"] == 100 and "load" not in r and r.get("work") == work and r["kept_up"]]
    return max(kept, key=lambda r: r["offered_rate"]) if kept else None


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
    sender = res.get("sender") or []
    if sender:
        best = max(sender, key=lambda r: r["achieved_rate"] if r["kept_up"] else 0)
        add("Paced sender holds >= 10 M lines/s (plain client)", _m(best["achieved_rate"]) + " lines/s"
            + (f" (offered {_m(best['offered_rate'])})" if best["kept_up"] else " (none held)"),
            best["kept_up"] and best["achieved_rate"] >= 10e6 * 0.98)
    top = _highest_kept(res.get("latency"), "wordcount")
    if top:
        add("100 ms batches, highest rate kept up with (WordCount): p99 total delay <= 150 ms",
            f"{top['total_p99_ms']:.0f} ms at {_m(top['offered_rate'])} rec/s", top["total_p99_ms"] <= 150)
    ten = _find(res.get("latency"), batch_ms=10, load="10 ms at 1 M")
    if ten:
        add("10 ms batches at 1 M rec/s: p99 total delay <= 20 ms", f"{ten['total_p99_ms']:.0f} ms"
            + ("" if ten["kept_up"] else " (did not keep up)"), ten["kept_up"] and ten["total_p99_ms"] <= 20)
    for kind, keys, d, l in _keymem_pairs(res.get("keymem")):
        if keys == max(r["keys"] for r in res["keymem"]):
            ratio = d["bytes_per_key"] / l["bytes_per_key"]
            add(f"Bytes per key of {_KIND[kind]} <= 2x the loop's ({keys:,} keys)",
                f"{d['bytes_per_key']:.0f} vs {l['bytes_per_key']:.0f} B ({ratio:.2f}x)", ratio <= 2)
    lat = _find(res.get("latency"), batch_ms=100, offered_rate=1000000, work="wordcount")
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
    if res.get("sender"):
        L += ["### Paced sender (LineServer --rate, 100-byte lines, read by a plain recv() client, no engine)", "",
              "| offered lines/s | achieved lines/s | max lines ahead of the schedule | held (>= 98%) |", "|---|---|---|---|"]
        for r in res["sender"]:
            L.append(f"| {r['offered_rate']:,.0f} | {r['achieved_rate']:,.0f} | {r['max_ahead_lines']:.0f} | "
                     f"{'yes' if r['kept_up'] else 'NO'} |")
        L.append("")
    if res.get("latency"):
        L += ["### Latency (SystemClock, socket source at a fixed offered rate, local[2])", "",
              "| batch | work | load | offered rec/s | achieved rec/s | sched p50/p99 ms | processing p50/p99 ms | total p50/p99 ms | kept up |",
              "|---|---|---|---|---|---|---|---|---|"]
        for r in res["latency"]:
            L.append(f"| {r['batch_ms']} ms | {r.get('work', 'wordcount')} | {r.get('load', 'rate search')} | {r['offered_rate']:,.0f} | "
                     f"{r['achieved_rate']:,.0f} | "
                     f"{r['sched_p50_ms']:.0f} / {r['sched_p99_ms']:.0f} | {r['proc_p50_ms']:.0f} / {r['proc_p99_ms']:.0f} | "
                     f"{r['total_p50_ms']:.0f} / {r['total_p99_ms']:.0f} | {'yes' if r['kept_up'] else 'NO'} |")
        search = [r for r in res["latency"] if "load" not in r and r["batch_ms"] == 100 and r.get("work") == "wordcount"]
        good = [r["offered_rate"] for r in search if r["kept_up"] and r["total_p99_ms"] < 200]
        L += ["", f"Largest rate tried with p99 total delay < 2 batch intervals (200 ms), WordCount: "
                  f"{max(good):,.0f} rec/s" if good else "", ""]
        for work in ("wordcount", "count"):
            top = _highest_kept(res["latency"], work)
            if top:
                L.append(f"Highest rate kept up with at 100 ms batches, {work}: {top['offered_rate']:,.0f} rec/s, "
                         f"p99 total delay {top['total_p99_ms']:.0f} ms ({'<=' if top['total_p99_ms'] <= 150 else '>'} 150 ms)")
        ten = _find(res["latency"], batch_ms=10, load="10 ms at 1 M")
        if ten:
            L.append(f"10 ms batches at {ten['offered_rate']:,.0f} rec/s: p99 total delay {ten['total_p99_ms']:.0f} ms "
                     f"(goal <= 20 ms), {'kept up' if ten['kept_up'] else 'did NOT keep up'}")
        L.append("")
        for load in ("idle", "light"):
            ok = [r["batch_ms"] for r in res["latency"] if r.get("load") == load and r["kept_up"]]
            L.append(f"Smallest batch interval kept up with, {load}: {min(ok)} ms" if ok else f"{load}: none kept up")
        L.append("")
    if res.get("keymem"):
        L += ["### Bytes per key of state (heap growth, mallinfo2; each figure its own process)", "",
              "| state | keys | dstream B/key | loop B/key | ratio | dstream RSS B/key | loop RSS B/key | dstream peak RSS MiB | loop peak RSS MiB |",
              "|---|---|---|---|---|---|---|---|---|"]
        for kind, keys, d, l in _keymem_pairs(res["keymem"]):
            L.append(f"| {_KIND[kind]} | {keys:,} | {d['bytes_per_key']:.1f} | {l['bytes_per_key']:.1f} | "
                     f"{d['bytes_per_key'] / l['bytes_per_key']:.2f} | {d['rss_bytes_per_key']:.1f} | {l['rss_bytes_per_key']:.1f} | "
                     f"{d['peak_rss_mib']:.0f} | {l['peak_rss_mib']:.0f} |")
        L.append("")
    sc = res.get("scale")
    if sc:
        L += ["### Scale", "", "| workload | state keys | local[N] | records/batch | dstream ms/batch | loop ms/batch | ratio | peak RSS MiB |",
              "|---|---|---|---|---|---|---|---|"]
        for r in sc["state"]:
            L.append(f"| {r['workload']} | {r['state_keys']:,} | {r['threads']} | {r['records_per_batch']:,} | "
                     f"{r['engine_ms_per_batch']:.1f} | {r['loop_ms_per_batch']:.1f} | {r['ratio']:.2f} | {r['peak_rss_mib']:.0f} |")
        s = sc["series"]
        L += ["", f"Window of {s['window_batches']:,} batches sliding every batch (reduceByKeyAndWindow with inverse, "
                  f"{s['records_per_batch']:,} W-records a batch, local[{s['threads']}]): {s['fill_batches']:,} batches filling "
                  f"it, then {s['measured_batches']:,} with it full; checksums agree.", "",
              "| phase | dstream ms/batch p50 | p99 | max | loop ms/batch p50 | p99 | dstream RSS MiB |", "|---|---|---|---|---|---|---|",
              f"| filling | {s['engine_fill_ms_p50']:.2f} | | | {s['loop_fill_ms_p50']:.2f} | | {s['engine_rss_mib_window_full']:.0f} (when full) |",
              f"| full, sliding | {s['engine_ms_p50']:.2f} | {s['engine_ms_p99']:.2f} | {s['engine_ms_max']:.1f} | {s['loop_ms_p50']:.2f} | "
              f"{s['loop_ms_p99']:.2f} | max {s['engine_rss_mib_max_after']:.0f}, end {s['engine_rss_mib_end']:.0f} |", "",
              f"Mean ms/batch of the last tenth of the full-window batches over the first tenth: "
              f"{s['engine_last_over_first_tenth']:.2f} (1.00 = flat). Plot: {sc['plot']}."]
        if s.get("engine_heap_mib"):
            h, f = s["engine_heap_mib"], s["fill_batches"] // s["heap_every"]
            L.append(f"dstream heap in use (mallinfo2, every {s['heap_every']} batches): {h[max(f - 1, 0)]:.0f} MiB when the window "
                     f"is full, {max(h[f:] or h):.0f} MiB at most after, {h[-1]:.0f} MiB at the end.")
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


def _ticks(lo, hi, n=5):
    """About n round tick values covering [lo, hi]."""
    import math
    span = max(hi - lo, 1e-9)
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def render_series_svg(s, width=900, height=600):
    """bench_series' per-batch ms and RSS as an SVG (no plotting library): two panels over batch
    number, dstream and the loop; each point is the median (line) and max (faint) of a bucket."""
    n = len(s["engine_ms"])
    bucket = max(1, n // 900)

    def reduce(v, f):
        return [f(v[i:i + bucket]) for i in range(0, len(v), bucket)]

    def med(x):
        return sorted(x)[len(x) // 2]

    left, right, gap, top_h = 70, 20, 70, (height - 150) // 2
    every = s.get("heap_every", 1)

    def spread(v):  # heap samples (every `every` batches) held until the next one
        return [v[min(i // every, len(v) - 1)] for i in range(n)] if v else []

    mem = [("dstream RSS", s["engine_rss_mib"], "#1f77b4"), ("loop RSS (same process, after dstream)", s["loop_rss_mib"], "#ff7f0e")]
    if s.get("engine_heap_mib"):
        mem += [("dstream heap in use", spread(s["engine_heap_mib"]), "#2ca02c"),
                ("loop heap in use", spread(s["loop_heap_mib"]), "#d62728")]
    panels = [("ms per batch", [("dstream", s["engine_ms"], "#1f77b4"), ("loop", s["loop_ms"], "#ff7f0e")], 40),
              ("MiB after each batch (RSS; heap in use, mallinfo2, every " + str(every) + " batches)", mem, 40 + top_h + gap)]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">Window of {s["window_batches"]:,} batches sliding every batch, '
           f'{s["records_per_batch"]:,} W-records a batch, local[{s["threads"]}]</text>']
    pw = width - left - right
    for title, lines, y0 in panels:
        if title.startswith("ms"):
            # The y range ignores the rare spikes above the 99.9th percentile (they stay visible, clipped).
            allv = sorted(v for _, vals, _ in lines for v in vals)
            ymax = allv[min(len(allv) - 1, int(len(allv) * 0.999))] * 1.1
        else:
            ymax = max(v for _, vals, _ in lines for v in vals) * 1.1
        ymax = max(ymax, 1e-6)

        def X(i):
            return left + pw * i / max(n - 1, 1)

        def Y(v):
            return y0 + top_h - top_h * min(v, ymax) / ymax

        out.append(f'<rect x="{left}" y="{y0}" width="{pw}" height="{top_h}" fill="none" stroke="#888"/>')
        out.append(f'<text x="{left}" y="{y0 - 6}">{title}</text>')
        for t in _ticks(0, ymax):
            out.append(f'<line x1="{left - 4}" x2="{left + pw}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" stroke="#eee"/>')
            out.append(f'<text x="{left - 6}" y="{Y(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
        for t in _ticks(0, n - 1, 8):
            out.append(f'<text x="{X(t):.1f}" y="{y0 + top_h + 16}" text-anchor="middle">{int(t):,}</text>')
        fx = X(s["fill_batches"])
        out.append(f'<line x1="{fx:.1f}" x2="{fx:.1f}" y1="{y0}" y2="{y0 + top_h}" stroke="#999" stroke-dasharray="4,3"/>')
        out.append(f'<text x="{fx + 4:.1f}" y="{y0 + 14}" fill="#666">window full</text>')
        for k, (name, vals, color) in enumerate(lines):
            xs = [X(min(i * bucket + bucket // 2, n - 1)) for i in range((len(vals) + bucket - 1) // bucket)]
            if bucket > 1 and title.startswith("ms"):
                pts = " ".join(f"{x:.1f},{Y(v):.1f}" for x, v in zip(xs, reduce(vals, max)))
                out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-opacity="0.3" stroke-width="1"/>')
            pts = " ".join(f"{x:.1f},{Y(v):.1f}" for x, v in zip(xs, reduce(vals, med)))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')
            out.append(f'<text x="{left + pw - 8}" y="{y0 + 16 + 16 * k}" text-anchor="end" fill="{color}">{name}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">batch number'
               + (f' (line: median of {bucket} batches; faint: their max)' if bucket > 1 else '') + '</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
