"""GPU check for issues 9 and 11 (python benchmarks/gpu_dist_check.py): needs only torch, numpy and sgdlab on PYTHONPATH.

1. DataLoader over CUDA tensors (100k rows, bs 64, shuffle): epoch time ÷ a hand loop whose randperm runs on the device,
   and the batches equal the CPU DataLoader's for the same seed.
2. NCCL with 1 rank: fit with the DataParallel callback (one all_reduce per step) ÷ fit without; DDP(1 rank) for reference;
   parameters equal. Without CUDA it runs the same on gloo/CPU, to check the script itself.
"""
import importlib.util, os, statistics, sys, time, types
# Import sgdlab's modules without running sgdlab/__init__.py, which loads the plotting modules (matplotlib may be absent)
_spec = importlib.util.find_spec('sgdlab')
_pkg = types.ModuleType('sgdlab'); _pkg.__path__ = list(_spec.submodule_search_locations); sys.modules['sgdlab'] = _pkg
import torch
from torch import nn
from sgdlab.dataloader import DataLoader
from sgdlab.learner import fit
from sgdlab.distributed import DataParallel, init_distributed, world

cuda = torch.cuda.is_available()
dev = torch.device('cuda' if cuda else 'cpu')
sync = torch.cuda.synchronize if cuda else (lambda: None)
print(f"torch {torch.__version__}, device {torch.cuda.get_device_name() if cuda else 'cpu'}")

def timed(f, reps=7):
    "Median wall seconds of `f()` over `reps` runs after 2 warm-ups"
    ts = []
    for i in range(reps + 2):
        sync(); t = time.perf_counter(); f(); sync()
        if i >= 2: ts.append(time.perf_counter() - t)
    return statistics.median(ts)

# 1. DataLoader on device tensors
n, bs = (100_000 if cuda else 20_000), 64
g = torch.Generator().manual_seed(0)
x, y = torch.randn(n, 10, generator=g), torch.randn(n, generator=g)
xd, yd = x.to(dev), y.to(dev)
dl = DataLoader((xd, yd), bs=bs, shuffle=True, seed=0)
def ours():
    for xb, yb in dl: pass
gd = torch.Generator(device=dev).manual_seed(0)
def hand():
    idx = torch.randperm(n, device=dev, generator=gd)
    for i in range(0, n, bs): j = idx[i:i+bs]; xb, yb = xd[j], yd[j]
t_ours, t_hand = timed(ours), timed(hand)
same = all(torch.equal(a.cpu(), b) for (a, _), (b, _) in zip(DataLoader((xd, yd), bs=bs, shuffle=True, seed=3), DataLoader((x, y), bs=bs, shuffle=True, seed=3)))
print(f"DataLoader epoch on {dev}: {t_ours*1e3:.1f} ms; device-randperm hand loop: {t_hand*1e3:.1f} ms; ratio {t_ours/t_hand:.2f} (target <= 1.2); same batches as CPU: {same}")

# 2. One rank of NCCL (gloo without CUDA): the wrapper's overhead
os.environ.update({k: os.environ.get(k, v) for k, v in dict(MASTER_ADDR='127.0.0.1', MASTER_PORT='29533', RANK='0', WORLD_SIZE='1', LOCAL_RANK='0').items()})
dev = init_distributed(timeout=60)
print(f"process group: backend {torch.distributed.get_backend()}, world {world()}, device {dev}")
xb, yb = torch.randn(4096, 256, generator=g).to(dev), torch.randn(4096, 1, generator=g).to(dev)
def net():
    gen = torch.Generator().manual_seed(0)
    m = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 1))
    with torch.no_grad():
        for p in m.parameters(): p.uniform_(-0.05, 0.05, generator=gen)
    return m.to(dev)
steps, res = (200 if cuda else 5), {}
for name, make, cbs in [('plain fit', net, []), ('fit + DataParallel', net, [DataParallel()]),
                        ('fit(DDP model)', lambda: nn.parallel.DistributedDataParallel(net()), [])]:
    models = []
    def run():
        m = make(); models.append(m)
        fit(m, xb, yb, lr=0.01, bs=256, seed=0, steps=steps, record_params=False, progress=False, cbs=cbs)
    res[name] = (timed(run, reps=3) / steps, torch.cat([p.detach().flatten() for p in models[-1].parameters()]))
base_t, base_p = res['plain fit']
for name, (t, p) in res.items():
    print(f"{name:>20}: {t*1e6:7.1f} µs/step, ÷ plain {t/base_t:.2f}; max |param diff| {(p - base_p).abs().max().item():.1e}")
torch.distributed.destroy_process_group()
