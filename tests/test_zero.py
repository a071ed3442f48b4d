"ZeRO-1 by hand (issue 26): 2 gloo ranks under torchrun equal 1 process and plain data parallelism, with half the state"
import time
import pytest
import torch
from sgdlab.distributed import run_distributed
from sgdlab.zero import ZeroAdam, shard_range
from procs import leftovers

COMMON = r'''
import torch
from torch import nn
from sgdlab import mnist_sample, mnist_loss

def small_net(seed=0):
    "Lesson 2's 784-30-1 network, initialised from a private generator"
    g, net = torch.Generator().manual_seed(seed), nn.Sequential(nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 1))
    with torch.no_grad():
        for p in net.parameters(): p.uniform_(-0.05, 0.05, generator=g)
    return net

def batches(rank=0, k=1, bs=64, n=768):
    "The same shuffled global batches of 64 on every rank, and this rank's equal share of each"
    x, y, _, _ = mnist_sample()
    x, y = x.view(-1, 784)[:n], y[:n]
    for b in torch.randperm(n, generator=torch.Generator().manual_seed(0)).split(bs):
        mine = b.tensor_split(k)[rank]
        yield x[mine], y[mine]

def train(opt_cls, rank=0, k=1, share=None):
    net = small_net()
    opt = opt_cls(net.parameters(), lr=1e-3)
    for xb, yb in batches(rank, k):
        mnist_loss(net(xb), yb).backward()
        if share: share(net)
        opt.step(); opt.zero_grad()
    return torch.cat([p.detach().flatten() for p in net.parameters()]), opt
'''

SCRIPT = COMMON + r'''
import sys, torch.distributed as dist
from sgdlab import init_distributed, ZeroAdam
init_distributed('gloo', timeout=30)
rank, k = dist.get_rank(), dist.get_world_size()
def all_reduce_mean(net):
    for p in net.parameters(): dist.all_reduce(p.grad); p.grad /= k
zero, zopt = train(ZeroAdam, rank, k)
dp, topt = train(torch.optim.Adam, rank, k, share=all_reduce_mean)
state_dp = sum(t.nbytes for s in topt.state.values() for t in s.values() if torch.is_tensor(t))
torch.save(dict(zero=zero, dp=dp, state_zero=zopt.state_bytes(), state_dp=state_dp), f"{sys.argv[1]}/rank{rank}.pt")
dist.destroy_process_group()
'''

@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    d = tmp_path_factory.mktemp('zero')
    (d/'zero2.py').write_text(SCRIPT)
    run_distributed(d/'zero2.py', nprocs=2, args=(d,), timeout=120, echo=False)
    time.sleep(0.5)
    assert leftovers(str(d/'zero2.py')) == []          # torchrun and both ranks are gone
    return [torch.load(d/f'rank{r}.pt') for r in range(2)]

@pytest.fixture(scope='module')
def one_process():
    ns = {}
    exec(COMMON, ns)
    return ns

def test_both_ranks_end_identical(ranks):
    assert torch.equal(ranks[0]['zero'], ranks[1]['zero'])

def test_zero_equals_plain_data_parallel_bit_for_bit(ranks):
    "Same summed gradient (a + b is exact either way round), same elementwise Adam: the same bits"
    assert torch.equal(ranks[0]['zero'], ranks[0]['dp'])

def test_two_ranks_equal_one_process(ranks, one_process):
    one, _ = one_process['train'](torch.optim.Adam)
    torch.testing.assert_close(ranks[0]['zero'], one, atol=1e-6, rtol=0)

def test_one_process_zero_equals_torch_adam_bit_for_bit(one_process):
    z, _ = one_process['train'](ZeroAdam)
    t, _ = one_process['train'](torch.optim.Adam)
    assert torch.equal(z, t)

def test_state_per_rank_halves(ranks, one_process):
    P = sum(p.numel() for p in one_process['small_net']().parameters())
    assert P == 23_581
    lo, hi = shard_range(P, 0, 2)
    assert [r['state_zero'] for r in ranks] == [8 * (hi - lo)] * 2 == [8 * 11_791] * 2   # 8 bytes a parameter / 2
    assert [r['state_dp'] for r in ranks] == [8 * P + 4 * 4] * 2          # full moments, and 4 step counters
    _, opt = one_process['train'](ZeroAdam)
    assert opt.state_bytes() == 8 * P

def test_step_without_backward_says_what_to_do():
    with pytest.raises(RuntimeError, match='call loss.backward'):
        ZeroAdam([torch.zeros(3, requires_grad=True)]).step()
