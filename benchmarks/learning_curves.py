"""The learning curves of docs/tagging.md: a table (Markdown) and a plot (SVG), from one run.

Runs ``focusqa evaluate --learning-curve`` on the demo round and every dev set that can be
read here (the ``bg-*`` sets need ../shared), then writes ``docs/learning_curves.svg`` and
prints the table to paste into docs/tagging.md. With ``--as-examples`` the evaluator hands
k random paragraphs per code as ``--examples`` instead, and with ``--without-shipped`` the
tagger starts from the codebook alone, as a project with a codebook of its own does (both:
the table only).

    .venv/bin/python benchmarks/learning_curves.py [--seeds 5] [--ks 0,2,5,10,20] [--as-examples]
                                                   [--without-shipped]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLOURS = ["#2E86AB", "#A23B72", "#F18F01", "#C73E1D", "#3B1F2B", "#6A994E", "#7F7F7F", "#E0A458"]


def curves(seeds: int, ks: list[int], as_examples: bool = False, without_shipped: bool = False):
    from focusqa.errors import FocusqaError
    from focusqa.tagging import shipped_documents
    from focusqa.tagging.devsets import demo_devset, devset_folders, load_devset
    from focusqa.tagging.learning import examples_curve, learning_curve

    simulate = examples_curve if as_examples else learning_curve
    devset, base = demo_devset()
    out = [(devset, simulate(devset, base=[] if without_shipped else base, ks=ks, seeds=range(seeds)))]
    for folder in devset_folders():
        try:
            devset = load_devset(folder)
        except FocusqaError as exc:
            print(f"not run: {exc}", file=sys.stderr)
            continue
        base = [] if without_shipped else shipped_documents(devset.codebook)
        out.append((devset, simulate(devset, base=base, ks=ks, seeds=range(seeds))))
    return out


def table(results) -> str:
    ks = [row["k"] for row in results[0][1].summary()]
    head = "| dev set | turns | readers' κ | " + " | ".join(f"k = {k}" for k in ks) + " |"
    lines = [head, "|" + "---|" * (3 + len(ks))]
    for devset, curve in results:
        rows = curve.summary()
        cells = [f"{r['kappa']:.2f} ({r['min']:.2f}–{r['max']:.2f})" for r in rows]
        lines.append(f"| {devset.name} | {len(devset.items)} | {rows[0]['ceiling']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def svg(results, width: int = 640, height: int = 360) -> str:
    """A line per dev set: mean κ over seeds against k (confirmations per code)."""
    left, right, top, bottom = 50, 170, 20, 40
    ks = [row["k"] for row in results[0][1].summary()]
    x = {k: left + i * (width - left - right) / max(1, len(ks) - 1) for i, k in enumerate(ks)}
    y = lambda v: top + (1 - max(0.0, min(1.0, v))) * (height - top - bottom)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="DejaVu Sans, sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.1f}</text>')
    for k in ks:
        parts.append(f'<text x="{x[k]:.1f}" y="{height - bottom + 16}" text-anchor="middle">{k}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" text-anchor="middle">'
                 'confirmations per code (k)</text>')
    parts.append(f'<text x="14" y="{(top + height - bottom) / 2:.0f}" transform="rotate(-90 14 '
                 f'{(top + height - bottom) / 2:.0f})" text-anchor="middle">Cohen\'s κ (top code)</text>')
    for i, (devset, curve) in enumerate(results):
        colour = COLOURS[i % len(COLOURS)]
        # Past the last colour, the lines are dashed, so no two sets look alike.
        dash = ' stroke-dasharray="6 3"' if i >= len(COLOURS) else ""
        rows = curve.summary()
        points = " ".join(f"{x[r['k']]:.1f},{y(r['kappa']):.1f}" for r in rows)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for r in rows:
            parts.append(f'<line x1="{x[r["k"]]:.1f}" x2="{x[r["k"]]:.1f}" y1="{y(r["min"]):.1f}" '
                         f'y2="{y(r["max"]):.1f}" stroke="{colour}" stroke-opacity="0.5"/>')
        ly = top + 14 + i * 16
        parts.append(f'<line x1="{width - right + 10}" x2="{width - right + 28}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{width - right + 32}" y="{ly}">{devset.name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--ks", default="0,2,5,10,20")
    parser.add_argument("--as-examples", action="store_true")
    parser.add_argument("--without-shipped", action="store_true")
    args = parser.parse_args()
    results = curves(args.seeds, [int(k) for k in args.ks.split(",")], args.as_examples, args.without_shipped)
    if not (args.as_examples or args.without_shipped):
        (ROOT / "docs" / "learning_curves.svg").write_text(svg(results), encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
