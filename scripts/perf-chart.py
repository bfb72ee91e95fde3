#!/usr/bin/env python3
"""The fanout chart of docs/performance.md: ns per recipient against members, by path.

    scripts/perf-chart.py                    # draw docs/fanout-chart.svg from docs/figures/fanout.csv
    scripts/perf-chart.py --from-criterion   # first rewrite the CSV from target/criterion
    scripts/perf-chart.py --check            # fail if the SVG is not what the CSV draws

--from-criterion reads what `cargo bench --bench fanout` left in
target/criterion: for each benchmark of a group "fanout N" whose throughput
is N elements (the whole fanout), the median time over N, in ns per
recipient. Python's standard library only.
"""

import csv
import glob
import io
import json
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV = os.path.join(ROOT, "docs", "figures", "fanout.csv")
SVG = os.path.join(ROOT, "docs", "fanout-chart.svg")

# Paths in the order of the legend, each with its colour and dash.
STYLE = {
    "by handle, in order": ("#1b5e20", ""),
    "push bits by handle, in order": ("#66bb6a", "6 3"),
    "by handle, in order, 2 threads": ("#827717", "2 3"),
    "by handle, shuffled": ("#0d47a1", ""),
    "push bits by handle, shuffled": ("#64b5f6", "6 3"),
    "by id, in order": ("#e65100", ""),
    "by id, shuffled": ("#ffb74d", "6 3"),
    "baseline (naive), in order": ("#b71c1c", ""),
    "baseline (naive), shuffled": ("#e57373", "6 3"),
}


def from_criterion(directory):
    """(path, members, ns per recipient) for every whole-fanout benchmark under `directory`."""
    rows = []
    for bench in sorted(glob.glob(os.path.join(directory, "**", "new", "benchmark.json"), recursive=True)):
        with open(bench) as f:
            meta = json.load(f)
        group = meta.get("group_id", "")
        if not group.startswith("fanout "):
            continue
        members = int(group.split()[1])
        elements = (meta.get("throughput") or {}).get("Elements")
        if elements != members:
            continue  # the per-message benchmarks of the group
        with open(os.path.join(os.path.dirname(bench), "estimates.json")) as f:
            median = json.load(f)["median"]["point_estimate"]
        rows.append((meta["function_id"], members, round(median / members, 2)))
    if not rows:
        sys.exit(f"no fanout benchmark in {directory}: run cargo bench --bench fanout first")
    return rows


def write_csv(rows):
    with open(CSV) as f:
        header = [line for line in f if line.startswith("#")]
    out = io.StringIO()
    out.writelines(header)
    w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    out.write("path,members,ns_per_recipient\n")
    for path, members, ns in sorted(rows, key=lambda r: (r[0], r[1])):
        w.writerow([path, members, ns])
    with open(CSV, "w") as f:
        f.write(out.getvalue())


def read_csv():
    with open(CSV) as f:
        lines = [line for line in f if not line.startswith("#")]
    series = {}
    for row in csv.DictReader(lines):
        series.setdefault(row["path"], []).append((int(row["members"]), float(row["ns_per_recipient"])))
    for points in series.values():
        points.sort()
    return series


def draw(series):
    """The SVG text: log-scaled members across, log-scaled ns per recipient up."""
    left, top, width, height = 80, 40, 560, 360
    xs = sorted({m for points in series.values() for m, _ in points})
    ys = [ns for points in series.values() for _, ns in points]
    x_lo, x_hi = math.log10(xs[0]) - 0.15, math.log10(xs[-1]) + 0.15
    y_lo = math.floor(math.log10(min(ys)))
    y_hi = math.ceil(math.log10(max(ys)))

    def x(m):
        return left + (math.log10(m) - x_lo) / (x_hi - x_lo) * width

    def y(ns):
        return top + height - (math.log10(ns) - y_lo) / (y_hi - y_lo) * height

    total_w, total_h = left + width + 300, top + height + 70
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
        f'viewBox="0 0 {total_w} {total_h}" font-family="sans-serif" font-size="12">',
        f'<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">Fanout: ns per recipient against members, by path</text>',
        f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="#fafafa" stroke="#bdbdbd"/>',
    ]
    for exp in range(y_lo, y_hi + 1):
        for mult in (1, 2, 5):
            v = mult * 10**exp
            if v < 10**y_lo or v > 10**y_hi:
                continue
            yy = y(v)
            colour = "#bdbdbd" if mult == 1 else "#eeeeee"
            out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + width}" y2="{yy:.1f}" stroke="{colour}"/>')
            out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:g}</text>')
    for m in xs:
        xx = x(m)
        label = f"{m // 1_000_000}M" if m >= 1_000_000 else f"{m // 1000}k"
        out.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{top + height}" stroke="#eeeeee"/>')
        out.append(f'<text x="{xx:.1f}" y="{top + height + 16}" text-anchor="middle">{label}</text>')
    out.append(f'<text x="{left + width / 2}" y="{top + height + 36}" text-anchor="middle">members (recipients of one message), log scale</text>')
    out.append(
        f'<text transform="translate(22 {top + height / 2}) rotate(-90)" text-anchor="middle">ns per recipient, log scale</text>'
    )
    order = [p for p in STYLE if p in series] + sorted(p for p in series if p not in STYLE)
    for i, path in enumerate(order):
        colour, dash = STYLE.get(path, ("#616161", "1 2"))
        points = series[path]
        d = " ".join(f"{'M' if j == 0 else 'L'}{x(m):.1f},{y(ns):.1f}" for j, (m, ns) in enumerate(points))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        for m, ns in points:
            out.append(
                f'<circle cx="{x(m):.1f}" cy="{y(ns):.1f}" r="3" fill="{colour}"><title>{path}, {m:,} members: {ns:g} ns</title></circle>'
            )
        ly = top + 10 + i * 20
        lx = left + width + 16
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        out.append(f'<text x="{lx + 34}" y="{ly + 4}">{path}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    if "--from-criterion" in argv:
        write_csv(from_criterion(os.path.join(ROOT, "target", "criterion")))
    svg = draw(read_csv())
    if "--check" in argv:
        with open(SVG) as f:
            if f.read() != svg:
                sys.exit("docs/fanout-chart.svg is not what docs/figures/fanout.csv draws: run scripts/perf-chart.py")
        return
    with open(SVG, "w") as f:
        f.write(svg)
    print("wrote docs/fanout-chart.svg")


if __name__ == "__main__":
    main(sys.argv[1:])
