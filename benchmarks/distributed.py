"""Distributed benchmarks: 2-process data-parallel fit against 1 process, and gloo all_reduce time against gradient size
(python benchmarks/distributed.py [--quick])

The 2-process side runs this same file under torchrun (sgdlab.run_distributed); it reports wall-clock times per step
measured inside the ranks, since CPU time of one process says nothing about two.
"""
from __future__ import annotations
import json, os, statistics, sys, tempfile, time
from pathlib import Path
import torch
from torch import nn

WORKER = 'RANK' in os.environ and 'LOCAL_RANK' in os.environ  # started by torchrun
if not WORKER:
    import harness
    from harness import fmt_time
from sgdlab import fit
from sgdlab.distributed import init_distributed, run_distributed, world

D_IN, HIDDEN, BS = 256, 512, 256   # 394k parameters (1.6 MB of gradient), bs 256: compute dominates a step

def model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)  # benchmark only: the library itself never touches the global RNG
    return nn.Sequential(nn.Linear(D_IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1))

def data(n: int = 4096):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, D_IN, generator=g), torch.randn(n, 1, generator=g)

def fit_step_times(steps: int, reps: int) -> list[float]:
    "Wall seconds per step of `fit(steps=steps)`, `reps` times (after one warm-up), in this process or this rank"
    x, y = data()
    out = []
    for i in range(reps + 1):
        m = model()
        t = time.perf_counter()
        fit(m, x, y, lr=0.01, bs=BS, steps=steps, seed=0, record_params=False, progress=False)
        if i: out.append((time.perf_counter() - t) / steps)
    return out

def all_reduce_times(sizes, reps: int) -> dict[int, float]:
    "Median wall seconds of one all_reduce of `n` float32 values, for each `n` in `sizes`"
    import torch.distributed as dist
    res = {}
    for n in sizes:
        t, ts = torch.ones(n), []
        for i in range(reps + 2):
            dist.barrier()
            t0 = time.perf_counter(); dist.all_reduce(t); dt = time.perf_counter() - t0
            if i >= 2: ts.append(dt)
        res[n] = statistics.median(ts)
    return res

def worker(job: str, steps: int, reps: int):
    "Inside torchrun: run `job`, rank 0 prints one RESULT line of JSON"
    import torch.distributed as dist
    init_distributed('gloo', timeout=60)
    if job == 'fit': res = fit_step_times(steps, reps)
    else: res = all_reduce_times([10**k for k in range(3, 7)], reps)
    if world()[0] == 0: print('RESULT ' + json.dumps(res), flush=True)
    dist.destroy_process_group()

def launch(job: str, steps: int, reps: int, nprocs: int = 2):
    "Run `job` in `nprocs` processes under torchrun and return rank 0's result"
    out = run_distributed(__file__, nprocs=nprocs, args=(job, steps, reps), timeout=600, echo=False).stdout
    return json.loads(next(l for l in out.splitlines() if l.startswith('RESULT '))[7:])

def fig13(cfg):
    steps, reps = (20, 3) if cfg.quick else (50, 5)
    two = launch('fit', steps, reps)
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        one = fit_step_times(steps, reps)
        r = dict(ours=statistics.median(two), theirs=statistics.median(one), ratio=statistics.median(two) / statistics.median(one), spread=None)
        rows.append(('13', f'data-parallel fit, 2 gloo processes ÷ 1 process with {threads} thread{"s" * (threads > 1)}: wall time per step '
                     f'(MLP {D_IN}-{HIDDEN}-{HIDDEN}-1, global bs {BS}){"; issue 11 expects 0.5–0.7 on 2 cores" if threads == 1 else ""}', None, r))
    torch.set_num_threads(cfg.threads)
    return rows

def fig14(cfg):
    res = launch('all_reduce', 0, 10 if cfg.quick else 50)
    cells = ', '.join(f"{int(n):,} floats ({int(n)*4/1e3:,.0f} kB): {fmt_time(t)}" for n, t in res.items())
    return [('14', f'gloo all_reduce, 2 processes, median wall time: {cells}', None, None)]

FIGURES = {'13': fig13, '14': fig14}

if __name__ == '__main__':
    if WORKER: worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    else: harness.main(FIGURES, description=__doc__.split(chr(10))[0])
