"Data-parallel SGD (issue 11): 2 gloo processes launched by torchrun in a subprocess equal 1 process, and fail fast"
import os, sys, time
from pathlib import Path
import pytest
import torch
from torch import nn
from sgdlab import DataLoader, fit, linear_data, mse
from sgdlab.distributed import DataParallel, run_distributed, shard_dl, world, is_distributed

HERE = Path(__file__).resolve().parent

# The training runs that the 2-process script repeats, shared with the 1-process reference below.
COMMON = r'''
import torch
from torch import nn
from sgdlab import DataLoader, fit, linear_data, mnist_sample, mnist_loss, batch_accuracy

def small_net(seed):
    "Lesson 2's net, 784-30-1, initialised from a private generator (a different `seed` per rank is allowed)"
    g, net = torch.Generator().manual_seed(seed), nn.Sequential(nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 1))
    with torch.no_grad():
        for p in net.parameters(): p.uniform_(-0.05, 0.05, generator=g)
    return net

def run_linear(start):
    x, y = linear_data(101, seed=0)        # 101 rows at bs=10: the last global batch has 1 row, so one rank gets none
    a = nn.Parameter(torch.tensor([start, -1.]))
    h = fit(lambda xb: xb@a, x, y, params=[a], lr=0.3, bs=10, seed=1, epochs=3)
    return dict(params=[a.detach()], loss=h.loss)

def run_mnist(seed):
    tx, ty, vx, vy = mnist_sample()
    net = small_net(seed)
    h = fit(net, tx.view(-1, 784)[:600], ty[:600], lr=0.1, bs=64, seed=0, epochs=2, loss_func=mnist_loss,
            valid=(vx.view(-1, 784), vy), metrics=[batch_accuracy])
    return dict(params=[p.detach() for p in net.parameters()], loss=h.loss, valid_loss=h.valid_loss, acc=h.metrics['batch_accuracy'])
'''

SCRIPT = COMMON + r'''
import sys, torch.distributed as dist
from sgdlab import Callback, DivergenceError, SaveModelCallback
from sgdlab.distributed import init_distributed, world
init_distributed('gloo', timeout=15)
rank, k = world()
out = {}
out['linear'] = run_linear(start=float(rank))          # ranks start apart: rank 0's start is broadcast
out['mnist'] = run_mnist(seed=rank)

class CountRows(Callback):
    def before_fit(self, learn): self.n = 0
    def after_loss(self, learn): self.n += len(learn.yb)
x, y = linear_data(100, seed=0)
a, counter = nn.Parameter(torch.zeros(2)), CountRows()
fit(lambda xb: xb@a, x, y, params=[a], lr=0.1, bs=10, seed=0, epochs=2, cbs=[counter])
out['rows_seen'] = counter.n

fit(lambda xb: xb@a, x, y, params=[a], lr=0.1, bs=10, epochs=1, print_every=4)   # only rank 0 prints

net, (tx, ty, vx, vy) = small_net(seed=rank), mnist_sample()   # the best epoch's weights, restored on every rank
fit(net, tx.view(-1, 784)[:200], ty[:200], lr=3., bs=64, seed=0, epochs=3, loss_func=mnist_loss, valid=(vx.view(-1, 784), vy),
    cbs=[SaveModelCallback(fname=f"{sys.argv[1]}/best.pt")])
out['saved'] = dict(params=[p.detach() for p in net.parameters()], loss=[])

try: fit(lambda xb: xb@a, x, y, params=[a], lr=0.1, bs=5)
except Exception as e:   # (the ValueError may come chained under an error from another callback's after_fit)
    out['bad_bs'] = str(e if isinstance(e, ValueError) else e.__context__)

# the production route: DDP wraps the model, sgdlab's DataLoader shards the data
net = small_net(seed=0)
ddp = nn.parallel.DistributedDataParallel(net)
tx, ty, _, _ = mnist_sample()
dl = DataLoader((tx.view(-1, 784)[:640], ty[:640]), bs=64, shuffle=True, seed=0, rank=rank, world_size=k)
h = fit(ddp, dl, lr=0.1, epochs=2, loss_func=mnist_loss)
out['ddp'] = dict(params=[p.detach() for p in net.parameters()], loss=h.loss)

calls = []
def nan_on_rank1(xb):   # one rank's 4th prediction goes bad: every rank must stop, with the same error
    calls.append(1)
    return xb@a * (float('nan') if rank == 1 and len(calls) == 4 else 1.)
try: fit(nan_on_rank1, x, y, params=[a], lr=0.1, bs=10, epochs=1)
except DivergenceError as e: out['nan'] = (str(e), len(e.hist.loss))
torch.save(out, f"{sys.argv[1]}/rank{rank}.pt")
dist.destroy_process_group()
'''

RAISE = r'''
import sys, time, torch
from torch import nn
from sgdlab import Callback, fit, linear_data
from sgdlab.distributed import init_distributed, world
init_distributed('gloo', timeout=15)
class Boom(Callback):
    def after_backward(self, learn):
        if world()[0] == 1 and learn.step == 2: raise RuntimeError("rank 1 broke at step 2")
x, y = linear_data(100, seed=0)
a = nn.Parameter(torch.zeros(2))
fit(lambda xb: xb@a, x, y, params=[a], lr=0.1, bs=10, epochs=50, cbs=[Boom()])
'''

@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    d = tmp_path_factory.mktemp('dp')
    (d/'dp.py').write_text(SCRIPT)
    t = time.perf_counter()
    out = run_distributed(d/'dp.py', nprocs=2, args=(d,), timeout=150, echo=False).stdout
    assert (d/'best.pt').exists()   # written once, by rank 0
    return [torch.load(d/f'rank{r}.pt') for r in range(2)], out

@pytest.fixture(scope='module')
def one_rank():
    ns = {}
    exec(COMMON, ns)
    return dict(linear=ns['run_linear'](start=0.), mnist=ns['run_mnist'](seed=0))

def _close(a, b, tol=1e-5):
    assert len(a['loss']) == len(b['loss'])
    assert max(abs(u - v) for u, v in zip(a['loss'], b['loss'])) < tol
    for p, q in zip(a['params'], b['params']): torch.testing.assert_close(p, q, atol=tol, rtol=0)

@pytest.mark.parametrize('case', ['linear', 'mnist'])
def test_two_processes_equal_one_process(two_ranks, one_rank, case):
    (r0, r1), _ = two_ranks
    _close(r0[case], one_rank[case])

@pytest.mark.parametrize('case', ['linear', 'mnist', 'ddp', 'saved'])
def test_both_ranks_end_identical(two_ranks, case):
    (r0, r1), _ = two_ranks
    assert r0[case]['loss'] == r1[case]['loss']
    for p, q in zip(r0[case]['params'], r1[case]['params']): assert torch.equal(p, q)

def test_validation_metrics_are_global(two_ranks, one_rank):
    (r0, r1), _ = two_ranks
    assert r0['mnist']['acc'] == r1['mnist']['acc']
    assert r0['mnist']['acc'] == pytest.approx(one_rank['mnist']['acc'], abs=1e-6)

def test_each_rank_trains_on_half_the_rows(two_ranks):
    (r0, r1), _ = two_ranks
    assert r0['rows_seen'] == r1['rows_seen'] == 100     # 100 rows, 2 epochs, 2 ranks

def test_only_rank_0_prints(two_ranks):
    _, out = two_ranks
    assert [l.split(':')[0] for l in out.splitlines() if l.startswith('step')] == ['step    0', 'step    4', 'step    8']

def test_batch_size_that_the_world_size_does_not_divide(two_ranks):
    (r0, r1), _ = two_ranks
    assert 'bs=5 is not divisible by world_size=2' in r0['bad_bs']

def test_ddp_route_equals_one_process(two_ranks, one_rank):
    (r0, _), _ = two_ranks
    ns = {}
    exec(COMMON, ns)
    tx, ty, _, _ = ns['mnist_sample']()
    net = ns['small_net'](0)
    h = fit(net, tx.view(-1, 784)[:640], ty[:640], lr=0.1, bs=64, seed=0, epochs=2, loss_func=ns['mnist_loss'])
    _close(r0['ddp'], dict(params=[p.detach() for p in net.parameters()], loss=h.loss))

def test_nan_on_one_rank_stops_every_rank_at_the_same_step(two_ranks):
    (r0, r1), _ = two_ranks
    assert r0['nan'] == r1['nan']
    msg, n = r0['nan']
    assert 'at step 3' in msg and n == 4

def test_a_rank_that_raises_stops_all_ranks_quickly(tmp_path):
    (tmp_path/'boom.py').write_text(RAISE)
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match='rank 1 broke at step 2'): run_distributed(tmp_path/'boom.py', timeout=90, echo=False)
    assert time.perf_counter() - t < 60

def test_run_distributed_times_out(tmp_path):
    (tmp_path/'hang.py').write_text('import time\ntime.sleep(60)\n')
    t = time.perf_counter()
    with pytest.raises(TimeoutError, match='still running after 1'): run_distributed(tmp_path/'hang.py', timeout=1, echo=False)
    assert time.perf_counter() - t < 20

def test_run_distributed_missing_script(tmp_path):
    with pytest.raises(FileNotFoundError, match='no script'): run_distributed(tmp_path/'nope.py')

def test_one_process_is_not_distributed():
    assert world() == (0, 1) and not is_distributed()

def test_shard_dl_refuses_torch_dataloader():
    tdl = torch.utils.data.DataLoader(torch.zeros(4), batch_size=2)
    with pytest.raises(TypeError, match='DistributedSampler'): shard_dl(tdl, 0, 2)
