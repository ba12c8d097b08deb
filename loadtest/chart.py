#!/usr/bin/env python3
"""Turn a loadtest/run.sh results JSON into an SVG chart (python3 standard library only).

    python3 loadtest/chart.py [RESULTS.json [OUT.svg]]

Without arguments: the newest loadtest/results/*.json, written next to it as .svg.
One panel per scenario (each with its own scale, as rps differ by 100x between scenarios): a bar per system
with its max-throughput rps (median over rounds), the ratio to nginx under the bar, and p99 in ms.
"""
import glob
import json
import os
import statistics
import sys
from xml.sax.saxutils import escape

COLORS = {"ringway": "#d9480f", "nginx": "#2b8a3e", "haproxy": "#1971c2", "direct": "#868e96", "ringway-b": "#f08c00",
          "bare": "#7048e8"}
# Legend names where the system's name alone says too little. "bare" is the floor reference, examples/bare_proxy.rs:
# a monoio proxy without KrakenD semantics, measured in a, b and f only (n/a bars elsewhere).
LEGEND = {"nginx": "nginx (+njs in c)", "bare": "bare monoio proxy (floor)"}
PANEL_W, PANEL_H, COLS = 270, 250, 4
TOP = 90


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_rps(v):
    return f"{v / 1000:.1f}k" if v >= 10000 else f"{v:.0f}"


def main():
    args = sys.argv[1:]
    if args:
        src = args[0]
    else:
        files = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "*.json")))
        if not files:
            sys.exit("no results JSON under loadtest/results/")
        src = files[-1]
    out = args[1] if len(args) > 1 else os.path.splitext(src)[0] + ".svg"
    with open(src) as f:
        data = json.load(f)

    rows = [r for r in data["results"] if r.get("mode", "max") in ("max", None)]
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    systems = data.get("systems") or list(dict.fromkeys(r["system"] for r in rows))
    descs = data.get("scenarios", {})

    n_rows = (len(scenarios) + COLS - 1) // COLS
    width, height = PANEL_W * COLS + 20, TOP + n_rows * PANEL_H + 30
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    m = data.get("machine", {})
    st = data.get("settings", {})
    svg.append(f'<text x="10" y="22" font-size="16" font-weight="bold">Ringway load test {escape(data.get("timestamp", ""))}: '
               'requests/s at max throughput (higher is better)</text>')
    svg.append(f'<text x="10" y="40" fill="#555">{m.get("cores", "?")} cores, {escape(str(m.get("cpu", "")))}, load avg '
               f'{escape(str(m.get("loadavg", "?")))}; wrk -c{st.get("connections", "?")} {st.get("duration_s", "?")}s, '
               f'{st.get("rounds", 1)} round(s), medians. Shared noisy machine: compare only within a panel.</text>')
    x = 10
    for s in systems:
        svg.append(f'<rect x="{x}" y="52" width="12" height="12" fill="{COLORS.get(s, "#495057")}"/>')
        label = LEGEND.get(s, s)
        svg.append(f'<text x="{x + 16}" y="62">{escape(label)}</text>')
        x += 30 + 7 * len(label)
    svg.append(f'<text x="{x + 10}" y="62" fill="#555">under each bar: ratio to nginx; p99 latency</text>')

    for i, sc in enumerate(scenarios):
        px, py = 10 + (i % COLS) * PANEL_W, TOP + (i // COLS) * PANEL_H
        svg.append(f'<rect x="{px}" y="{py}" width="{PANEL_W - 10}" height="{PANEL_H - 10}" fill="none" stroke="#ddd"/>')
        desc = descs.get(sc, "")
        title = f"{sc}: {desc.split(':')[0]}" if desc else sc
        svg.append(f'<text x="{px + 6}" y="{py + 16}" font-weight="bold">{escape(title[:40])}</text>')
        sub = desc.split(":", 1)[1].strip() if ":" in desc else ""
        svg.append(f'<text x="{px + 6}" y="{py + 30}" fill="#555" font-size="9">{escape(sub[:55])}</text>')
        vals = {}
        for s in systems:
            rs = [r for r in rows if r["scenario"] == sc and r["system"] == s]
            if not rs:
                continue
            vals[s] = (median([r["rps"] for r in rs]), median([r["p99_ms"] for r in rs]))
        top = max([v[0] for v in vals.values() if v[0]] or [1])
        base = vals.get("nginx", (None, None))[0]
        plot_top, plot_bottom = py + 50, py + PANEL_H - 50
        bw = min(50, (PANEL_W - 40) // max(1, len(vals)) - 12)
        for j, (s, (rps, p99)) in enumerate(vals.items()):
            bx = px + 20 + j * (bw + 12)
            if rps is None:
                svg.append(f'<text x="{bx + bw / 2}" y="{plot_bottom - 4}" text-anchor="middle" fill="#999">n/a</text>')
            else:
                h = (plot_bottom - plot_top) * rps / top
                svg.append(f'<rect x="{bx}" y="{plot_bottom - h:.1f}" width="{bw}" height="{h:.1f}" '
                           f'fill="{COLORS.get(s, "#495057")}"><title>{escape(s)}: {rps:.0f} rps</title></rect>')
                svg.append(f'<text x="{bx + bw / 2}" y="{plot_bottom - h - 3:.1f}" text-anchor="middle">{fmt_rps(rps)}</text>')
            ratio = f"{rps / base:.2f}×" if rps is not None and base else "–"
            svg.append(f'<text x="{bx + bw / 2}" y="{plot_bottom + 14}" text-anchor="middle">{ratio}</text>')
            lat = f"{p99:.0f} ms" if p99 is not None and p99 >= 10 else (f"{p99:.1f} ms" if p99 is not None else "")
            svg.append(f'<text x="{bx + bw / 2}" y="{plot_bottom + 28}" text-anchor="middle" fill="#555" font-size="9">{lat}</text>')
        svg.append(f'<line x1="{px + 14}" y1="{plot_bottom}" x2="{px + PANEL_W - 20}" y2="{plot_bottom}" stroke="#333"/>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")
    print(out)


if __name__ == "__main__":
    main()
