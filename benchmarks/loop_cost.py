"""Where a step of fit() goes (issue 24): a ladder from the hand-written loop to fit(), and another sgdlab beside it.

    python benchmarks/loop_cost.py                          # the ladder for this checkout
    python benchmarks/loop_cost.py --old /tmp/main          # and the same fits with the sgdlab of another checkout
    python benchmarks/loop_cost.py --old /tmp/main --minibatch   # also figure 4: one minibatch epoch of 100,000 rows
    git worktree add /tmp/main main                         # (one way to get main's code beside this one)

Every variant trains the lesson's line (n = 100, two parameters, full batch, CPU, one torch thread) for --steps steps.
All variants run in turn, round after round in a shuffled order, so a busy moment hits them alike; a row is the median
CPU time per step, and `÷ hand` is the median over rounds of its ratio to the hand-written loop of the same round.
"""
from __future__ import annotations
import argparse, gc, importlib.util, os, random, statistics, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path: sys.path.insert(0, str(HERE))
import harness
import torch
from torch import nn
import sgdlab

def load_sgdlab(root: Path, name: str = 'sgdlab_old'):
    "The `sgdlab` package of the checkout at `root`, imported under `name` beside this one"
    spec = importlib.util.spec_from_file_location(name, root/'sgdlab'/'__init__.py',
                                                  submodule_search_locations=[str(root/'sgdlab')])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod

def ladder(lib, x, y, steps: int) -> dict:
    "Name -> function training `steps` steps: from the hand-written loop, one piece at a time, to `lib.fit`"
    mse, SGD = lib.mse, lib.SGD
    def start(): return nn.Parameter(torch.tensor([-1., 1.]))
    def hand():
        a = start()
        for _ in range(steps):
            loss = mse(x@a, y); loss.backward()
            with torch.no_grad(): a.sub_(0.1 * a.grad); a.grad.zero_()
    def hand_sgd():
        a = start(); opt = SGD([a], lr=0.1)
        for _ in range(steps):
            loss = mse(x@a, y); loss.backward(); opt.step(); opt.zero_grad()
    def hand_sgd_loss():
        a = start(); opt = SGD([a], lr=0.1); losses = []
        for _ in range(steps):
            loss = mse(x@a, y); losses.append(loss.item()); loss.backward(); opt.step(); opt.zero_grad()
    def hand_sgd_record():
        a = start(); opt = SGD([a], lr=0.1); ps, losses, snaps = [a], [], []
        for _ in range(steps):
            snaps.append(tuple([p.detach().clone() for p in ps]))
            loss = mse(x@a, y); losses.append(loss.item()); loss.backward(); opt.step(); opt.zero_grad()
    def learner_bare():
        a = start()
        learn = lib.Learner(lambda x: x@a, x, y, params=[a], lr=0.1)
        learn.cbs = []; learn.add_cbs([])
        learn.fit(steps)
    def fit(**kw):
        def run():
            a = start()
            lib.fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=steps, progress=False, **kw)
        return run
    class NoOp(lib.Callback):
        "Handles every per-step event and does nothing"
        def before_batch(self, learn): pass
        def after_pred(self, learn): pass
        def after_loss(self, learn): pass
        def after_backward(self, learn): pass
        def after_step(self, learn): pass
        def after_batch(self, learn): pass
    return {'hand-written loop (figure 1)': hand, '  stepping with sgdlab.SGD': hand_sgd,
            '  + each loss as a number': hand_sgd_loss,
            '  + a copy of the parameters before each step': hand_sgd_record,
            'Learner with no callbacks': learner_bare, 'fit(record_params=False)': fit(record_params=False),
            'fit() (figure 1)': fit(), 'fit() with 5 no-op callbacks (figure 7)': fit(cbs=[NoOp() for _ in range(5)])}

def minibatch(lib, x, y, bs: int = 64) -> dict:
    "Figure 4: one epoch of `x, y` in minibatches of `bs`, by hand (as in core.py) and by `lib.fit`"
    def hand():
        a, g = nn.Parameter(torch.tensor([-1., 1.])), torch.Generator().manual_seed(0)
        idx = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), bs):
            j = idx[i:i+bs]
            loss = lib.mse(x[j]@a, y[j]); loss.backward()
            with torch.no_grad(): a.sub_(0.1 * a.grad); a.grad.zero_()
    def fit():
        a = nn.Parameter(torch.tensor([-1., 1.]))
        lib.fit(lambda x: x@a, x, y, params=[a], lr=0.1, bs=bs, seed=0, progress=False)
    return {'hand-written minibatch epoch (figure 4)': hand, 'fit() minibatch epoch': fit}

def run(variants: dict, rounds: int, steps: int, seed: int = 0) -> dict:
    "Name -> list of CPU seconds per step, one per round; the variants run in a shuffled order each round"
    times, rng = {k: [] for k in variants}, random.Random(seed)
    for f in variants.values(): f()   # warm up
    for _ in range(rounds):
        for k in rng.sample(list(variants), len(variants)):
            gc.collect()
            t = harness.cpu_time()
            variants[k]()
            times[k].append((harness.cpu_time() - t) / steps)
    return times

def report(times: dict, hand: str, unit: str = 'µs per step', scale: float = 1e6) -> list[str]:
    "Markdown rows: the median time in `unit`, and the median ratio to `hand` over rounds with its quartiles"
    rows = [f'| variant | {unit} | ÷ hand (quartiles) |', '|---|---|---|']
    for k, v in times.items():
        r = sorted(a / b for a, b in zip(v, times[hand]))
        q = lambda f: r[min(len(r) - 1, int(f * len(r)))]
        med = statistics.median(r)
        rows.append(f"| {k} | {statistics.median(v)*scale:.1f} | {med:.3f} ({q(.25):.3f}–{q(.75):.3f}) |")
    return rows

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--old', type=Path, help='the root of another checkout whose sgdlab to time beside this one')
    ap.add_argument('--rounds', type=int, default=41)
    ap.add_argument('--steps', type=int, default=500)
    ap.add_argument('--minibatch', action='store_true', help='also figure 4, a minibatch epoch of 100,000 rows')
    cfg = ap.parse_args(argv)
    if 'GLIBC_TUNABLES' not in os.environ and sys.platform == 'linux':   # as harness.setup: keep freed memory
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'GLIBC_TUNABLES': harness.KEEP_MEMORY})
    torch.set_num_threads(1)
    os.environ.setdefault('IN_TEST', '1')
    x, y = sgdlab.linear_data(100, seed=42)
    variants = ladder(sgdlab, x, y, cfg.steps)
    if cfg.old:
        old = load_sgdlab(cfg.old)
        for k, f in ladder(old, x, y, cfg.steps).items():
            if k.startswith('fit'): variants[f'old {k}'] = f
    load = os.getloadavg()
    t0 = time.perf_counter()
    times = run(variants, cfg.rounds, cfg.steps)
    fig7 = {v: statistics.median(a / b for a, b in zip(times[f'{v}fit() with 5 no-op callbacks (figure 7)'],
                                                      times[f'{v}fit() (figure 1)']))
            for v in ([''] + (['old '] if cfg.old else []))}
    print(harness.machine())
    print(f"{cfg.rounds} rounds of {cfg.steps} steps, {time.perf_counter() - t0:.0f} s wall; load average "
          f"{load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; CPU time, 1 torch thread\n")
    print('\n'.join(report(times, 'hand-written loop (figure 1)')))
    print('\nfigure 7, fit() with 5 no-op callbacks ÷ fit() (median over rounds): '
          + ', '.join(f"{'old' if v else 'this'} {r:.3f}" for v, r in fig7.items()))
    if cfg.minibatch:
        xb, yb = sgdlab.linear_data(100_000, seed=0)
        epochs = minibatch(sgdlab, xb, yb)
        if cfg.old: epochs['old fit() minibatch epoch'] = minibatch(old, xb, yb)['fit() minibatch epoch']
        times = run(epochs, max(3, cfg.rounds // 4), 1)
        print('\n' + '\n'.join(report(times, 'hand-written minibatch epoch (figure 4)', 'ms per epoch', 1e3)))

if __name__ == '__main__': main()
