#!/usr/bin/env python
"""sgdlab's benchmarks: every figure is sgdlab's time divided by the plain-PyTorch way's, both measured side by side in this run.

    python benchmarks/run.py            # the full table and the scaling plot (about 2-3 minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer repeats and smaller sizes, for a check in well under a minute
    python benchmarks/run.py --suite    # also time `nbdev-test --n-workers 2` over every notebook

Each pair of timings alternates the two sides, round after round, and a figure is the median of the per-round ratios,
so a slow moment on a busy machine hits both sides alike. Nothing here passes or fails: the script only reports.
"""
from __future__ import annotations
import argparse, gc, io, json, os, platform, resource, statistics, subprocess, sys, time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE/'out'

import torch
from torch import nn
from torch.utils.data import DataLoader as TorchDL, TensorDataset
import sgdlab
from sgdlab import SGD, DataLoader, fit, linear_data, mse, quadratic_data  # both sides use sgdlab's mse, so figures time the loop, not the loss

# ---------------------------------------------------------------------------------------------------------------
# Timing

def cpu_time() -> float:
    "CPU seconds used by this process and its finished children (ffmpeg): unlike wall time, not inflated when another job takes the core"
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime

now = cpu_time  # --wall switches to time.perf_counter

# By default glibc gives freed memory back to the OS and maps big blocks afresh, so a loop can pay page faults on every
# step or on none, depending on where a small, long-lived tensor happened to land. That noise has nothing to do with
# the code being compared, so the script re-runs itself with glibc told to keep freed memory (both sides alike).
KEEP_MEMORY = 'glibc.malloc.trim_threshold=4294967295:glibc.malloc.mmap_threshold=33554432'

def clock(f, *args, **kwargs) -> float:
    "Seconds that `f(*args, **kwargs)` takes, after a garbage collection so that neither side pays for the other's garbage"
    gc.collect()
    t = now()
    f(*args, **kwargs)
    return now() - t

def compare(ours, theirs, reps: int, warm: bool = True) -> dict:
    "Time `ours()` and `theirs()` (each returns seconds per unit) alternately for `reps` rounds, after one warm-up each if `warm`"
    if warm: ours(); theirs()
    t_ours, t_theirs, ratios = [], [], []
    for i in range(reps):
        if i % 2: a, b = ours(), theirs()
        else: b, a = theirs(), ours()
        t_ours.append(a); t_theirs.append(b); ratios.append(a / b)
    return dict(ours=statistics.median(t_ours), theirs=statistics.median(t_theirs), ratio=statistics.median(ratios),
                spread=(min(ratios), max(ratios)))


# ---------------------------------------------------------------------------------------------------------------
# 1. full-batch gradient descent: fit() against the lesson's loop

def hand_gd(x, y, steps: int, lr: float = 0.1) -> float:
    "The lesson's loop: loss, backward, a `no_grad` `sub_`, `zero_`; seconds per step"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    def loop():
        for _ in range(steps):
            loss = mse(x@a, y)
            loss.backward()
            with torch.no_grad():
                a.sub_(lr * a.grad)
                a.grad.zero_()
    return clock(loop) / steps

def fit_gd(x, y, steps: int, lr: float = 0.1, **kwargs) -> float:
    "sgdlab's default call for the same training; seconds per step"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return clock(fit, lambda x: x@a, x, y, params=[a], lr=lr, epochs=steps, progress=False, **kwargs) / steps

def fig1(cfg):
    x, y = linear_data(100, seed=42)
    steps = cfg.steps
    rows = [('1', 'fit() full-batch GD, n = 100, time per step ÷ hand-written loop', 1.10,
             compare(lambda: fit_gd(x, y, steps), lambda: hand_gd(x, y, steps), cfg.reps))]
    rows.append(('1', '  the same with record_params=False', None,
                 compare(lambda: fit_gd(x, y, steps, record_params=False), lambda: hand_gd(x, y, steps), cfg.reps)))
    return rows

# ---------------------------------------------------------------------------------------------------------------
# 2. momentum: sgdlab's SGD against torch.optim.SGD on the book's roller coaster (three parameters a, b, c)

def momentum_loop(make_opt, steps: int) -> float:
    "Seconds per step of a training loop of a quadratic `a*t**2 + b*t + c` with the optimizer `make_opt(params)`"
    t, y = quadratic_data(20, seed=42)
    t = t / 20
    ps = [nn.Parameter(torch.tensor(v)) for v in (1., 1., 1.)]
    a, b, c = ps
    opt = make_opt(ps)
    def loop():
        for _ in range(steps):
            loss = mse(a*t**2 + b*t + c, y)
            loss.backward()
            opt.step()
            opt.zero_grad()
    return clock(loop) / steps

def step_only(make_opt, steps: int) -> float:
    "Seconds per `opt.step()` alone, with the gradients fixed"
    ps = [nn.Parameter(torch.ones(())) for _ in range(3)]
    for p in ps: p.grad = torch.full((), 0.5)
    opt = make_opt(ps)
    def loop():
        for _ in range(steps): opt.step()
    return clock(loop) / steps

def fig2(cfg):
    ours = lambda ps: SGD(ps, lr=0.01, mom=0.9)
    theirs = lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9)
    return [('2', 'SGD(mom=0.9) loop ÷ torch.optim.SGD(momentum=0.9) loop, 3 parameters', 1.0,
             compare(lambda: momentum_loop(ours, cfg.steps), lambda: momentum_loop(theirs, cfg.steps), cfg.reps)),
            ('2', '  opt.step() alone', None,
             compare(lambda: step_only(ours, cfg.steps), lambda: step_only(theirs, cfg.steps), cfg.reps))]

# ---------------------------------------------------------------------------------------------------------------
# 3. one shuffled epoch over in-memory tensors

def hand_epoch(x, y, bs: int, g: torch.Generator) -> float:
    "randperm, then index both tensors batch by batch; seconds per epoch"
    def epoch():
        idx = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), bs):
            j = idx[i:i+bs]
            xb, yb = x[j], y[j]
    return clock(epoch)

def loop_over(dl) -> float:
    "Seconds for one pass over `dl`"
    def epoch():
        for xb, yb in dl: pass
    return clock(epoch)

def fig3(cfg):
    n, bs = cfg.n_rows, 64
    x, y = linear_data(n, seed=0)
    g = torch.Generator().manual_seed(0)
    dl = DataLoader((x, y), bs=bs, shuffle=True, seed=0)
    tdl = TorchDL(TensorDataset(x, y), batch_size=bs, shuffle=True, generator=torch.Generator().manual_seed(0))
    rows = [('3', f'DataLoader epoch ({n:,} rows, bs = {bs}, shuffle) ÷ randperm + indexing by hand', 1.2,
             compare(lambda: loop_over(dl), lambda: hand_epoch(x, y, bs, g), cfg.reps))]
    r = compare(lambda: loop_over(tdl), lambda: loop_over(dl), cfg.slow_reps)
    rows.append(('3', 'torch.utils.data.DataLoader(TensorDataset) epoch ÷ sgdlab DataLoader epoch', '≥ 20', r))
    return rows

# ---------------------------------------------------------------------------------------------------------------
# 4. a minibatch epoch of fit() against the hand-written minibatch loop

def hand_sgd_epoch(x, y, bs: int, lr: float = 0.1) -> float:
    "The hand-written minibatch epoch: randperm, index, loss, backward, `no_grad` `sub_`, `zero_`; seconds"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    g = torch.Generator().manual_seed(0)
    def epoch():
        idx = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), bs):
            j = idx[i:i+bs]
            xb, yb = x[j], y[j]
            loss = mse(xb@a, yb)
            loss.backward()
            with torch.no_grad():
                a.sub_(lr * a.grad)
                a.grad.zero_()
    return clock(epoch)

def fit_sgd_epoch(x, y, bs: int, lr: float = 0.1, **kwargs) -> float:
    "One epoch of sgdlab's default minibatch call; seconds"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return clock(fit, lambda x: x@a, x, y, params=[a], lr=lr, bs=bs, seed=0, progress=False, **kwargs)

def fig4(cfg):
    n, bs = cfg.n_rows, 64
    x, y = linear_data(n, seed=0)
    return [('4', f'fit() minibatch epoch ({n:,} rows, bs = {bs}) ÷ hand-written minibatch loop', 1.15,
             compare(lambda: fit_sgd_epoch(x, y, bs), lambda: hand_sgd_epoch(x, y, bs), cfg.epoch_reps)),
            ('4', '  the same with record_params=False', None,
             compare(lambda: fit_sgd_epoch(x, y, bs, record_params=False), lambda: hand_sgd_epoch(x, y, bs), cfg.epoch_reps))]

# ---------------------------------------------------------------------------------------------------------------
# 5. animate_fit against lesson-style FuncAnimation code

def fig5(cfg):
    try: from sgdlab.viz import animate_fit, save_anim
    except ImportError: return [('5', 'animate_fit: sgdlab.viz is not there yet', None, None)]
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation
    frames = 100
    x, y = linear_data(100, seed=42)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=frames, progress=False)
    path = hist.path(0).numpy()
    xs = x[:, 0].numpy()

    def lesson_style():
        "The lesson's way: a default-size figure, a scatter and a line, 100 frames that set the line from precomputed params"
        fig = plt.figure()
        plt.scatter(xs, y.numpy())
        line, = plt.plot(xs, xs*path[0, 0] + path[0, 1], c='r')
        def animate(i): line.set_ydata(xs*path[i, 0] + path[i, 1]); return line,
        anim = FuncAnimation(fig, animate, frames=frames, interval=20)
        html = anim.to_jshtml()
        plt.close(fig)
        return html

    def ours_html():
        anim = animate_fit(x, y, hist)
        html = anim.to_jshtml()
        plt.close(anim._fig)
        return html

    sizes = {}
    def timed(f, key):
        def run():
            gc.collect()
            t = now()
            sizes[key] = len(f())
            return now() - t
        return run
    fig = plt.figure(); plt.plot([0, 1]); fig.savefig(io.BytesIO(), format='png'); plt.close(fig)  # load fonts and backends once
    r = compare(timed(ours_html, 'ours'), timed(lesson_style, 'theirs'), cfg.anim_reps, warm=False)
    rows = [('5', f'animate_fit, {frames} frames to HTML ÷ lesson-style FuncAnimation: time', 0.5, r),
            ('5', '  the same: bytes of HTML', 0.5,
             dict(ours=sizes['ours'], theirs=sizes['theirs'], ratio=sizes['ours']/sizes['theirs'], spread=None, unit='bytes'))]
    OUT.mkdir(exist_ok=True)
    for ext in ('gif', 'mp4'):
        anim = animate_fit(x, y, hist)
        w, c = time.perf_counter(), cpu_time()
        save_anim(anim, OUT/f'fit.{ext}')
        w, c = time.perf_counter() - w, cpu_time() - c
        plt.close(anim._fig)
        rows.append(('5', f'  save_anim({frames} frames) to .{ext}: {w:.2f} s wall, {c:.2f} s CPU with ffmpeg; {(OUT/f"fit.{ext}").stat().st_size/1e3:.0f} kB', None, None))
    return rows

# ---------------------------------------------------------------------------------------------------------------
# 6. import time in fresh processes

def import_time(module: str) -> float:
    "Seconds to import `module` in a fresh Python process"
    clk = 'perf_counter' if now is time.perf_counter else 'process_time'
    code = f"import time; t = time.{clk}(); import {module}; print(time.{clk}() - t)"
    return float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd=ROOT).stdout)

def fig6(cfg):
    return [('6', 'import time of sgdlab ÷ torch, fresh processes', 1.3,
             compare(lambda: import_time('sgdlab'), lambda: import_time('torch'), cfg.import_reps)),
            ('6', '  matplotlib.pyplot alone ÷ torch (what sgdlab.viz adds)', None,
             compare(lambda: import_time('matplotlib.pyplot'), lambda: import_time('torch'), max(1, cfg.import_reps // 2), warm=False))]

# ---------------------------------------------------------------------------------------------------------------
# Scaling: fit against the hand-written loops as n and bs grow

def scaling(cfg):
    res = dict(gd=[], epoch=[], bs=[])
    for n in cfg.scale_ns:
        x, y = linear_data(n, seed=0)
        steps = max(5, min(cfg.steps, int(2e7 / n)))
        r = compare(lambda: fit_gd(x, y, steps, lr=0.5), lambda: hand_gd(x, y, steps, lr=0.5), cfg.scale_reps)
        res['gd'].append((n, r['ours'], r['theirs']))
        if n <= cfg.max_epoch_n:
            r = compare(lambda: fit_sgd_epoch(x, y, 64), lambda: hand_sgd_epoch(x, y, 64), cfg.scale_reps if n < 10**6 else 2, warm=n < 10**5)
            res['epoch'].append((n, r['ours'], r['theirs']))
    x, y = linear_data(cfg.n_rows, seed=0)
    for bs in cfg.scale_bss:
        steps = -(-cfg.n_rows // bs)
        r = compare(lambda: fit_sgd_epoch(x, y, bs), lambda: hand_sgd_epoch(x, y, bs), cfg.scale_reps, warm=False)
        res['bs'].append((bs, r['ours'] / steps, r['theirs'] / steps))
    return res

def plot_scaling(res, path: Path, title: str, n_rows: int):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, 3, figsize=(12, 3.6))
    panels = [('gd', 'full-batch GD: time per step', 'n (rows)'),
              ('epoch', 'minibatch (bs = 64): time per epoch', 'n (rows)'),
              ('bs', f'n = {n_rows:,}: time per step vs batch size', 'bs')]
    for ax, (k, t, xl) in zip(axs, panels):
        v = res[k]
        if not v: continue
        xs = [r[0] for r in v]
        ours, theirs = [r[1] for r in v], [r[2] for r in v]
        ax.loglog(xs, ours, 'o-', label='sgdlab fit()')
        ax.loglog(xs, theirs, 's--', label='hand-written loop')
        over = [max(o - h, 1e-7) for o, h in zip(ours, theirs)]
        if k != 'bs': ax.loglog(xs, [theirs[-1] * x / xs[-1] for x in xs], c='lightgray', lw=4, zorder=0, label='∝ n')
        if k != 'epoch': ax.loglog(xs, over, 'x:', c='gray', label='fit() − hand (overhead)')
        ax.set(title=t, xlabel=xl, ylabel='seconds')
        ax.grid(True, which='major', alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)

# ---------------------------------------------------------------------------------------------------------------
# The notebook suite

def suite_time() -> tuple[float, str]:
    "Wall time of `nbdev-test --n-workers 2 --timing --cell-timing-min 1` over every notebook, and its output"
    exe = Path(sys.executable).parent/'nbdev-test'
    t = time.perf_counter()
    p = subprocess.run([str(exe), '--n-workers', '2', '--timing', '--cell-timing-min', '1'], capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - t, (p.stdout + p.stderr).strip()

# ---------------------------------------------------------------------------------------------------------------

def fmt_time(s: float) -> str:
    return f'{s*1e6:.1f} µs' if s < 1e-3 else f'{s*1e3:.1f} ms' if s < 1 else f'{s:.2f} s'

def fmt_row(num, what, target, r) -> str:
    if r is None: return f'| {num} | {what} | | | | |'
    if r.get('unit') == 'bytes': o, t = f"{r['ours']/1e3:.0f} kB", f"{r['theirs']/1e3:.0f} kB"
    else: o, t = fmt_time(r['ours']), fmt_time(r['theirs'])
    if isinstance(target, str): tgt, met = target, r['ratio'] >= float(target.split()[-1])
    elif target is None: tgt, met = '', None
    else: tgt, met = f'≤ {target:.2f}', r['ratio'] <= target
    ratio = f"**{r['ratio']:.2f}**" if target is not None else f"{r['ratio']:.2f}"
    spread = f" ({r['spread'][0]:.2f}–{r['spread'][1]:.2f})" if r.get('spread') else ''
    return f"| {num} | {what} | {o} / {t} | {ratio}{spread} | {tgt} | {'' if met is None else 'yes' if met else '**no**'} |"

def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try: cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): pass
    return (f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"torch {torch.__version__}, sgdlab {sgdlab.__version__}")

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='fewer repeats and smaller sizes')
    ap.add_argument('--threads', type=int, default=1, help='torch.set_num_threads for both sides (default 1)')
    ap.add_argument('--only', default='1,2,3,4,5,6', help='comma-separated figures to run, e.g. 1,4')
    ap.add_argument('--no-scaling', action='store_true', help='skip the scaling sweep and its plot')
    ap.add_argument('--wall', action='store_true', help='time with the wall clock instead of CPU time')
    ap.add_argument('--suite', action='store_true', help='also time nbdev-test --n-workers 2 over every notebook')
    ap.add_argument('--default-malloc', action='store_true', help="keep glibc malloc's defaults (see KEEP_MEMORY)")
    cfg = ap.parse_args(argv)
    if not cfg.default_malloc and 'GLIBC_TUNABLES' not in os.environ and sys.platform == 'linux':
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'GLIBC_TUNABLES': KEEP_MEMORY})
    q = cfg.quick
    global now
    if cfg.wall: now = time.perf_counter
    cfg.reps, cfg.epoch_reps, cfg.slow_reps, cfg.anim_reps, cfg.import_reps = (5, 3, 1, 1, 3) if q else (21, 9, 3, 3, 5)
    cfg.steps = 200 if q else 500
    cfg.n_rows = 20_000 if q else 100_000
    cfg.scale_reps = 1 if q else 3
    cfg.scale_ns = [10**k for k in range(2, 6 if q else 7)]
    cfg.max_epoch_n = 10**5 if q else 10**6
    cfg.scale_bss = [16, 64, 256, 1024, 4096] if not q else [64, 1024]
    torch.set_num_threads(cfg.threads)
    os.environ.setdefault('IN_TEST', '1')  # no progress bars from anything that looks at it

    stamp = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    print(f"sgdlab benchmarks, {stamp}{' (quick)' if q else ''}\n{machine()}\n"
          f"torch threads: {torch.get_num_threads()}; malloc: {'keeps freed memory' if os.environ.get('GLIBC_TUNABLES') == KEEP_MEMORY else 'defaults'}; clock: {'wall' if now is time.perf_counter else 'CPU time (process + children)'}; {cfg.reps} alternating rounds per figure (median ratio, range in brackets)\n")
    header = ['| # | figure | sgdlab / PyTorch way | ratio | target | met? |', '|---|---|---|---|---|---|']
    print('\n'.join(header), flush=True)
    rows, figs = [], dict(zip('123456', (fig1, fig2, fig3, fig4, fig5, fig6)))
    t0 = time.perf_counter()
    for k in cfg.only.split(','):
        for row in figs[k.strip()](cfg):
            rows.append(fmt_row(*row))
            print(rows[-1], flush=True)
    print(f"\n(figures took {time.perf_counter()-t0:.0f} s)")
    OUT.mkdir(exist_ok=True)
    report = [f"sgdlab benchmarks, {stamp}{' (quick)' if q else ''}", machine(), f"torch threads: {torch.get_num_threads()}; malloc: {'keeps freed memory' if os.environ.get('GLIBC_TUNABLES') == KEEP_MEMORY else 'defaults'}; clock: {'wall' if now is time.perf_counter else 'CPU time (process + children)'}; {cfg.reps} rounds", '', *header, *rows]

    if not cfg.no_scaling:
        t0 = time.perf_counter()
        res = scaling(cfg)
        png = (OUT if q else HERE)/'scaling.png'
        plot_scaling(res, png, f"sgdlab fit() vs hand-written loops, {torch.get_num_threads()} thread(s); {machine()}", cfg.n_rows)
        json.dump(res, open(OUT/'scaling.json', 'w'))
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
