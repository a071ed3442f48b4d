"Accumulation ≡ large batch ≡ data parallel (issue 26): a batch of 256, 4×64 accumulated, 4 gloo ranks × 64"
import time
import pytest
import torch
from sgdlab import GradientAccumulation, fit, mnist_sample, mnist_loss
from sgdlab.distributed import run_distributed
from procs import leftovers

COMMON = r'''
import torch
from torch import nn
from sgdlab import fit, mnist_sample, mnist_loss

def small_net(seed=0):
    g, net = torch.Generator().manual_seed(seed), nn.Sequential(nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 1))
    with torch.no_grad():
        for p in net.parameters(): p.uniform_(-0.05, 0.05, generator=g)
    return net

def train(bs, cbs=()):
    "2 epochs of SGD on 768 rows of 3s and 7s: every batch of 256 is full"
    x, y, _, _ = mnist_sample()
    net = small_net()
    h = fit(net, x.view(-1, 784)[:768], y[:768], lr=1., bs=bs, seed=0, epochs=2, loss_func=mnist_loss,
            cbs=list(cbs), progress=False)
    return torch.cat([p.detach().flatten() for p in net.parameters()]), h.loss
'''

SCRIPT = COMMON + r'''
import sys
from sgdlab import init_distributed, world
init_distributed('gloo', timeout=30)
params, loss = train(256)                 # under torchrun, fit shards each batch of 256: 64 rows per rank
torch.save(dict(params=params, loss=loss, world=world()), f"{sys.argv[1]}/rank{world()[0]}.pt")
torch.distributed.destroy_process_group()
'''

@pytest.fixture(scope='module')
def three_ways(tmp_path_factory):
    d = tmp_path_factory.mktemp('acc')
    (d/'dp4.py').write_text(SCRIPT)
    run_distributed(d/'dp4.py', nprocs=4, args=(d,), timeout=150, echo=False)
    time.sleep(0.5)
    assert leftovers(str(d/'dp4.py')) == []
    ranks = [torch.load(d/f'rank{r}.pt') for r in range(4)]
    ns = {}
    exec(COMMON, ns)
    acc = GradientAccumulation(256)
    return dict(big=ns['train'](256), acc=ns['train'](64, [acc]), ranks=ranks, steps=acc.steps, ns=ns)

def test_four_ranks_ran(three_ways):
    assert [r['world'] for r in three_ways['ranks']] == [(r, 4) for r in range(4)]

def test_three_ways_equal_to_float_rounding(three_ways):
    big, acc, dp = three_ways['big'][0], three_ways['acc'][0], three_ways['ranks'][0]['params']
    assert not torch.equal(big, torch.cat([p.detach().flatten() for p in three_ways['ns']['small_net']().parameters()]))
    for other in (acc, dp): torch.testing.assert_close(other, big, atol=1e-6, rtol=0)
    for r in three_ways['ranks'][1:]: assert torch.equal(r['params'], dp)

def test_same_losses_and_optimizer_steps(three_ways):
    big_loss, acc_loss = three_ways['big'][1], three_ways['acc'][1]
    assert three_ways['steps'] == len(big_loss) == len(three_ways['ranks'][0]['loss']) == 6
    means = torch.tensor(acc_loss).view(6, 4).mean(1)
    torch.testing.assert_close(means, torch.tensor(big_loss), atol=1e-6, rtol=0)

def test_unscaled_accumulation_is_k_times_off():
    class Unscaled(GradientAccumulation):
        def after_loss(self, learn): pass
    ns = {}
    exec(COMMON, ns)
    start = torch.cat([p.detach().flatten() for p in ns['small_net']().parameters()])
    def first_step(cb):
        x, y, _, _ = mnist_sample()
        net = ns['small_net']()
        fit(net, x.view(-1, 784)[:256], y[:256], lr=1., bs=64, seed=0, epochs=1, loss_func=mnist_loss, cbs=[cb],
            progress=False)
        return torch.cat([p.detach().flatten() for p in net.parameters()]) - start
    scaled, unscaled = first_step(GradientAccumulation(256)), first_step(Unscaled(256))
    torch.testing.assert_close(unscaled, 4 * scaled, atol=1e-6, rtol=1e-4)

def test_bad_n_acc():
    with pytest.raises(ValueError, match='at least 1'): GradientAccumulation(0)
    with pytest.raises(ValueError, match='whole number'): GradientAccumulation(2.5)
