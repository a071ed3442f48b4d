"""Data benchmarks: sgdlab's DataLoader against indexing by hand and torch.utils.data (python benchmarks/data.py [--quick])"""
from __future__ import annotations
import harness
from harness import clock, compare
import torch
from torch.utils.data import DataLoader as TorchDL, TensorDataset
from sgdlab import DataLoader, linear_data

# ---------------------------------------------------------------------------------------------------------------
# 3. one shuffled epoch over in-memory tensors

def hand_epoch(x, y, bs: int, g: torch.Generator, keep: int|None = None) -> float:
    "randperm, then index both tensors batch by batch (the first `keep` rows of each batch if given); seconds per epoch"
    def epoch():
        idx = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), bs):
            j = idx[i:i+bs] if keep is None else idx[i:i+keep]
            xb, yb = x[j], y[j]
    return clock(epoch)

def hand_epoch_on_device(x, y, bs: int) -> float:
    "randperm drawn on the data's device (the fast hand loop on a GPU), then index batch by batch; seconds per epoch"
    def epoch():
        idx = torch.randperm(len(x), device=x.device)
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
    if cfg.device != 'cpu':
        x, y = linear_data(n, seed=0, device=cfg.device)
        dl = DataLoader((x, y), bs=bs, shuffle=True, seed=0)
        return [('3', f'DataLoader epoch on {cfg.device} ({n:,} rows, bs = {bs}) ÷ hand loop with randperm on the device', 1.2,
                 compare(lambda: loop_over(dl), lambda: hand_epoch_on_device(x, y, bs), cfg.reps))]
    x, y = linear_data(n, seed=0)
    g = torch.Generator().manual_seed(0)
    dl = DataLoader((x, y), bs=bs, shuffle=True, seed=0)
    tdl = TorchDL(TensorDataset(x, y), batch_size=bs, shuffle=True, generator=torch.Generator().manual_seed(0))
    rows = [('3', f'DataLoader epoch ({n:,} rows, bs = {bs}, shuffle) ÷ randperm + indexing by hand', 1.2,
             compare(lambda: loop_over(dl), lambda: hand_epoch(x, y, bs, g), cfg.reps))]
    half = DataLoader((x, y), bs=bs, shuffle=True, seed=0, rank=0, world_size=2)
    rows.append(('3', f'  rank 0 of 2 (sharded, bs = {bs} global) ÷ the same half-batches by hand', None,
                 compare(lambda: loop_over(half), lambda: hand_epoch(x, y, bs, g, keep=bs // 2), cfg.reps)))
    r = compare(lambda: loop_over(tdl), lambda: loop_over(dl), cfg.slow_reps)
    rows.append(('3', 'torch.utils.data.DataLoader(TensorDataset) epoch ÷ sgdlab DataLoader epoch', '≥ 20', r))
    return rows

FIGURES = {'3': fig3}

if __name__ == '__main__': harness.main(FIGURES, description=__doc__.split(chr(10))[0])
