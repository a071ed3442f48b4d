"""The shared timing harness of sgdlab's benchmarks: alternate two sides round by round and report the median ratio.

Each area file (core.py, optim.py, data.py, anim.py, ...) defines `FIGURES`, a dict of figure number -> function(cfg)
returning rows `(number, what, target, result)`, and ends with `if __name__ == '__main__': harness.main(FIGURES)` so that
it runs alone; run.py collects every area's figures into one table.
"""
from __future__ import annotations
import argparse, gc, os, platform, resource, statistics, sys, time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE/'out'
if str(HERE) not in sys.path: sys.path.insert(0, str(HERE))

import torch
import sgdlab

def cpu_time() -> float:
    "CPU seconds used by this process and its finished children (ffmpeg): unlike wall time, not inflated when another job takes the core"
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime

now = cpu_time  # --wall switches to time.perf_counter (see `main`)

# By default glibc gives freed memory back to the OS and maps big blocks afresh, so a loop can pay page faults on every
# step or on none, depending on where a small, long-lived tensor happened to land. That noise has nothing to do with
# the code being compared, so the script re-runs itself with glibc told to keep freed memory (both sides alike).
KEEP_MEMORY = 'glibc.malloc.trim_threshold=4294967295:glibc.malloc.mmap_threshold=33554432'

DEVICE = 'cpu'  # --device cuda times the GPU path: data and parameters on the device, wall clock, synchronised

def sync():
    "Wait for the GPU to finish queued work, so that a timing covers it (a no-op on the CPU)"
    if DEVICE != 'cpu': torch.cuda.synchronize()

def clock(f, *args, **kwargs) -> float:
    "Seconds that `f(*args, **kwargs)` takes, after a garbage collection so that neither side pays for the other's garbage"
    gc.collect()
    clk = now
    sync()
    t = clk()
    f(*args, **kwargs)
    sync()
    return clk() - t

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

def config(quick: bool, cfg=None):
    "Sizes and repeats for a full or a `quick` run, set on `cfg` (an argparse Namespace)"
    cfg = cfg or argparse.Namespace(quick=quick)
    q = quick
    cfg.reps, cfg.epoch_reps, cfg.slow_reps, cfg.anim_reps, cfg.import_reps = (5, 3, 1, 1, 3) if q else (21, 9, 3, 3, 5)
    cfg.steps = 200 if q else 500
    cfg.n_rows = 20_000 if q else 100_000
    cfg.scale_reps = 1 if q else 3
    cfg.scale_ns = [10**k for k in range(2, 6 if q else 7)]
    cfg.max_epoch_n = 10**5 if q else 10**6
    cfg.scale_bss = [16, 64, 256, 1024, 4096] if not q else [64, 1024]
    return cfg

HEADER = ['| # | figure | sgdlab / PyTorch way | ratio | target | met? |', '|---|---|---|---|---|---|']

def parser(description: str, figures) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('--quick', action='store_true', help='fewer repeats and smaller sizes')
    ap.add_argument('--threads', type=int, default=1, help='torch.set_num_threads for both sides (default 1)')
    ap.add_argument('--only', default=','.join(figures), help='comma-separated figures to run, e.g. 1,4')
    ap.add_argument('--wall', action='store_true', help='time with the wall clock instead of CPU time')
    ap.add_argument('--default-malloc', action='store_true', help="keep glibc malloc's defaults (see KEEP_MEMORY)")
    ap.add_argument('--device', default='cpu', help="'cuda' to time the GPU path (figures that support it; wall clock)")
    return ap

def setup(cfg):
    "Re-exec with glibc keeping freed memory (unless asked not to), pick the clock, set threads and sizes"
    if not cfg.default_malloc and 'GLIBC_TUNABLES' not in os.environ and sys.platform == 'linux':
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'GLIBC_TUNABLES': KEEP_MEMORY})
    global now, DEVICE
    DEVICE = cfg.device
    if cfg.wall or DEVICE != 'cpu': now = time.perf_counter
    config(cfg.quick, cfg)
    torch.set_num_threads(cfg.threads)
    os.environ.setdefault('IN_TEST', '1')  # no progress bars from anything that looks at it

def preamble(cfg) -> list[str]:
    stamp = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    clk = 'wall' if now is time.perf_counter else 'CPU time (process + children)'
    malloc = 'keeps freed memory' if os.environ.get('GLIBC_TUNABLES') == KEEP_MEMORY else 'defaults'
    return [f"sgdlab benchmarks, {stamp}{' (quick)' if cfg.quick else ''}", machine(),
            f"device: {DEVICE}{' (' + torch.cuda.get_device_name() + ')' if DEVICE != 'cpu' else ''}; torch threads: {torch.get_num_threads()}; malloc: {malloc}; clock: {clk}; {cfg.reps} alternating rounds per figure (median ratio, range in brackets)"]

def run_figures(figures, cfg) -> list[str]:
    "Run the figures named in `cfg.only`, printing each table row as it comes; return the rows"
    rows = []
    for k in cfg.only.split(','):
        k = k.strip()
        if k not in figures: continue
        for row in figures[k](cfg):
            rows.append(fmt_row(*row))
            print(rows[-1], flush=True)
    return rows

def main(figures: dict, argv=None, description: str = 'sgdlab benchmarks'):
    "Run one area's `figures` alone and print its table"
    cfg = parser(description, figures).parse_args(argv)
    setup(cfg)
    print('\n'.join(preamble(cfg)) + '\n\n' + '\n'.join(HEADER), flush=True)
    run_figures(figures, cfg)
