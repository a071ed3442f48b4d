"""Core loop benchmarks: fit() against the hand-written loops it replaces, import time, and the scaling sweep (python benchmarks/core.py [--quick])"""
from __future__ import annotations
import harness
from harness import clock, compare
import subprocess, sys, time
import torch
from torch import nn
from sgdlab import Callback, fit, linear_data, mse

# ---------------------------------------------------------------------------------------------------------------
# 1. full-batch gradient descent: fit() against the lesson's loop

def hand_gd(x, y, steps: int, lr: float = 0.1) -> float:
    "The lesson's loop: loss, backward, a `no_grad` `sub_`, `zero_`; seconds per step"
    a = nn.Parameter(torch.tensor([-1., 1.], device=x.device))
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
    a = nn.Parameter(torch.tensor([-1., 1.], device=x.device))
    return clock(fit, lambda x: x@a, x, y, params=[a], lr=lr, epochs=steps, progress=False, **kwargs) / steps

def fig1(cfg):
    x, y = linear_data(100, seed=42, device=cfg.device)
    steps = cfg.steps
    on = '' if cfg.device == 'cpu' else f' on {cfg.device}'
    rows = [('1', f'fit() full-batch GD, n = 100{on}, time per step ÷ hand-written loop', 1.10 if cfg.device == 'cpu' else 1.15,
             compare(lambda: fit_gd(x, y, steps), lambda: hand_gd(x, y, steps), cfg.reps))]
    rows.append(('1', '  the same with record_params=False', None,
                 compare(lambda: fit_gd(x, y, steps, record_params=False), lambda: hand_gd(x, y, steps), cfg.reps)))
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
# 6. import time in fresh processes

def import_time(module: str) -> float:
    "Seconds to import `module` in a fresh Python process"
    clk = 'perf_counter' if harness.now is time.perf_counter else 'process_time'
    code = f"import time; t = time.{clk}(); import {module}; print(time.{clk}() - t)"
    return float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd=harness.ROOT).stdout)

def fig6(cfg):
    return [('6', 'import time of sgdlab ÷ torch, fresh processes', 1.0,
             compare(lambda: import_time('sgdlab'), lambda: import_time('torch'), cfg.import_reps)),
            ('6', '  matplotlib.pyplot alone ÷ torch (what sgdlab.viz adds)', None,
             compare(lambda: import_time('matplotlib.pyplot'), lambda: import_time('torch'), max(1, cfg.import_reps // 2), warm=False))]

# ---------------------------------------------------------------------------------------------------------------
# 7. the cost of callbacks: fit with five callbacks that do nothing at every per-step event, against fit with none

class NoOp(Callback):
    "A callback that handles every per-step event and does nothing"
    def before_batch(self, learn): pass
    def after_pred(self, learn): pass
    def after_loss(self, learn): pass
    def after_backward(self, learn): pass
    def after_step(self, learn): pass
    def after_batch(self, learn): pass

def fig7(cfg):
    x, y = linear_data(100, seed=42)
    cbs = [NoOp() for _ in range(5)]
    return [('7', 'fit() with 5 no-op callbacks (6 events each per step) ÷ fit() with none, full batch', 1.05,
             compare(lambda: fit_gd(x, y, cfg.steps, cbs=cbs), lambda: fit_gd(x, y, cfg.steps), cfg.reps))]

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

FIGURES = {'1': fig1, '4': fig4, '6': fig6, '7': fig7}

if __name__ == '__main__': harness.main(FIGURES, description=__doc__.split(chr(10))[0])
