#!/usr/bin/env python
"""sgdlab's benchmarks: every figure is sgdlab's time divided by the plain-PyTorch way's, both measured side by side in this run.

    python benchmarks/run.py            # the full table and the scaling plot (about 2-3 minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer repeats and smaller sizes, for a check in well under a minute
    python benchmarks/run.py --suite    # also time `nbdev-test --n-workers 2` over every notebook
    python benchmarks/optim.py          # one area alone (core, optim, data, anim, ...)

Each pair of timings alternates the two sides, round after round, and a figure is the median of the per-round ratios,
so a slow moment on a busy machine hits both sides alike. Nothing here passes or fails: the script only reports.
The timing harness is harness.py; each area file holds its own figures.
"""
from __future__ import annotations
import importlib, json, subprocess, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
from harness import HERE, OUT, ROOT

AREAS = ['core', 'optim', 'data', 'anim', 'distributed']  # each a file here with a FIGURES dict

def all_figures() -> dict:
    "Figure number -> function, from every area file, in the order of their numbers"
    figs = {}
    for name in AREAS: figs.update(importlib.import_module(name).FIGURES)
    return dict(sorted(figs.items(), key=lambda kv: [int(p) if p.isdigit() else p for p in kv[0].replace('.', ' ').split()]))

# The notebook suite

def suite_time() -> tuple[float, str]:
    "Wall time of `nbdev-test --n-workers 2 --timing --cell-timing-min 1` over every notebook, and its output"
    exe = Path(sys.executable).parent/'nbdev-test'
    t = time.perf_counter()
    p = subprocess.run([str(exe), '--n-workers', '2', '--timing', '--cell-timing-min', '1'], capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - t, (p.stdout + p.stderr).strip()

def main(argv=None):
    figures = all_figures()
    ap = harness.parser(__doc__.split('\n')[0], figures)
    ap.add_argument('--no-scaling', action='store_true', help='skip the scaling sweep and its plot')
    ap.add_argument('--suite', action='store_true', help='also time nbdev-test --n-workers 2 over every notebook')
    cfg = ap.parse_args(argv)
    harness.setup(cfg)
    pre = harness.preamble(cfg)
    print('\n'.join(pre) + '\n\n' + '\n'.join(harness.HEADER), flush=True)
    t0 = time.perf_counter()
    rows = harness.run_figures(figures, cfg)
    print(f"\n(figures took {time.perf_counter()-t0:.0f} s)")
    OUT.mkdir(exist_ok=True)
    report = [*pre, '', *harness.HEADER, *rows]

    if not cfg.no_scaling:
        from core import scaling, plot_scaling
        t0 = time.perf_counter()
        res = scaling(cfg)
        png = (OUT if cfg.quick else HERE)/'scaling.png'
        plot_scaling(res, png, f"sgdlab fit() vs hand-written loops, {harness.torch.get_num_threads()} thread(s); {harness.machine()}", cfg.n_rows)
        json.dump(res, open(OUT/'scaling.json', 'w'))
        fmt_time = harness.fmt_time
        lines = ['', '| n | full-batch step: fit / hand | overhead per step | minibatch epoch (bs 64): fit / hand |', '|---|---|---|---|']
        ep = {n: (o, h) for n, o, h in res['epoch']}
        for n, o, h in res['gd']:
            e = f"{fmt_time(ep[n][0])} / {fmt_time(ep[n][1])}" if n in ep else ''
            lines.append(f"| {n:,} | {fmt_time(o)} / {fmt_time(h)} | {fmt_time(o - h)} | {e} |")
        lines += ['', '| bs | time per step: fit / hand | overhead per step |', '|---|---|---|']
        lines += [f"| {bs} | {fmt_time(o)} / {fmt_time(h)} | {fmt_time(o - h)} |" for bs, o, h in res['bs']]
        print('\n'.join(lines) + f"\n\nscaling plot: {png.relative_to(ROOT)} (sweep took {time.perf_counter()-t0:.0f} s)")
        report += lines

    if cfg.suite:
        secs, out = suite_time()
        print(f"\nnbdev-test --n-workers 2 --timing --cell-timing-min 1: {secs:.1f} s wall\n{out}")
        report += ['', f"nbdev-test --n-workers 2: {secs:.1f} s wall", out]
    (OUT/'results.md').write_text('\n'.join(report) + '\n')

if __name__ == '__main__': main()
