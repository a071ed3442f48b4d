"""Ranks that disagree are refused, not trained (issue 21 §2): one 3-rank torchrun run tries each disagreement and a
short last batch of items, with a timeout and a check that no process is left behind"""
import os, time
from pathlib import Path
import pytest
import torch
from torch import nn
from sgdlab import DataLoader, fit, linear_data
from sgdlab.distributed import run_distributed
from test_distributed_faults import HEAD, _nothing_left, time_limit  # noqa: F401 (an autouse fixture: 150 s a test)

COMMON = r'''
import torch
from torch import nn
from sgdlab import DataLoader, fit, linear_data

def lin(x, y, bs=12, size=2, **kw):
    "A linear model trained for one epoch; `size` 3 gives it a parameter of another shape"
    a = nn.Parameter(torch.zeros(size))
    return fit(lambda xb: xb@a[:2], x, y, params=[a], lr=0.1, bs=bs, epochs=1, **kw)

def short_last(data):
    "97 rows at bs=12: the last global batch has 1 row, so with 3 ranks, ranks 1 and 2 get none"
    a = nn.Parameter(torch.tensor([1., -1.]))
    h = fit(lambda xb: xb@a, DataLoader(data, bs=12, shuffle=True, seed=0), params=[a], lr=0.3, epochs=2)
    return dict(params=a.detach(), loss=h.loss)
'''

SCRIPT = HEAD + COMMON + r'''
from sgdlab.distributed import init_distributed, world
init_distributed('gloo', timeout=20)
rank, k = world()
def err(f):
    try: f()
    except ValueError as e: return str(e)
x, y = linear_data(120, seed=0)
out = {}
out['length'] = err(lambda: lin(x[:100] if rank == 2 else x, y[:100] if rank == 2 else y))
out['data'] = err(lambda: lin(x + (rank == 1), y))
out['sharded'] = err(lambda: lin(x[rank::k], y[rank::k]))
out['bs'] = err(lambda: lin(x, y, bs=24 if rank == 1 else 12))
out['shape'] = err(lambda: lin(x, y, size=3 if rank == 2 else 2))
out['items'] = short_last([(x[i], y[i]) for i in range(97)])
out['tensors'] = short_last((x[:97], y[:97]))
torch.save(out, f"{d}/rank{rank}.pt")
torch.distributed.destroy_process_group()   # a rank that exits without it may abort in gloo's destructor
'''

@pytest.fixture(scope='module')
def three_ranks(tmp_path_factory):
    d = tmp_path_factory.mktemp('ranks')
    (d/'s.py').write_text(SCRIPT)
    t = time.perf_counter()
    run_distributed(d/'s.py', nprocs=3, args=(d,), timeout=120, echo=False)
    _nothing_left(d, 4)   # 3 workers and torchrun
    return [torch.load(d/f'rank{r}.pt') for r in range(3)], time.perf_counter() - t

def _same_on_every_rank(outs, case):
    msgs = [o[case] for o in outs]
    assert msgs[0] is not None, f"{case}: trained instead of refusing"
    assert msgs == [msgs[0]] * 3, msgs      # every rank raises, with the same message
    return msgs[0]

def test_different_lengths_are_refused(three_ranks):
    msg = _same_on_every_rank(three_ranks[0], 'length')
    assert 'rank 2 has 100 training rows, rank 0 has 120' in msg and 'same, whole dataset' in msg

def test_different_contents_are_refused(three_ranks):
    msg = _same_on_every_rank(three_ranks[0], 'data')
    assert "rank 1's training data differs from rank 0's" in msg and 'rank 2' not in msg

def test_pre_sharded_data_says_what_to_pass(three_ranks):
    msg = _same_on_every_rank(three_ranks[0], 'sharded')
    assert 'rank 1 has 40 training rows' not in msg    # equal lengths: the contents tell
    assert "rank 1's training data differs" in msg and "rank 2's training data differs" in msg
    assert 'x[rank::3]' in msg and 'pass the whole dataset on every rank' in msg

def test_different_batch_sizes_are_refused_before_gloo_aborts(three_ranks):
    msg = _same_on_every_rank(three_ranks[0], 'bs')
    assert 'rank 1 has bs=24, rank 0 has bs=12' in msg and 'the same bs on every rank' in msg

def test_different_parameter_shapes_are_refused(three_ranks):
    msg = _same_on_every_rank(three_ranks[0], 'shape')
    assert "rank 2's parameters have other shapes than rank 0's: 1 tensor of 3 values, rank 0: 1 tensor of 2" in msg

@pytest.mark.parametrize('case', ['items', 'tensors'])
def test_ranks_with_no_rows_in_the_last_batch_equal_one_process(three_ranks, case):
    outs, _ = three_ranks
    ns = {}
    exec(COMMON, ns)
    x, y = linear_data(120, seed=0)
    one = ns['short_last']([(x[i], y[i]) for i in range(97)] if case == 'items' else (x[:97], y[:97]))
    for o in outs:
        assert o[case]['loss'] == outs[0][case]['loss']
        assert len(o[case]['loss']) == len(one['loss']) == 18     # 9 batches, 2 epochs
        assert max(abs(u - v) for u, v in zip(o[case]['loss'], one['loss'])) < 1e-5
        torch.testing.assert_close(o[case]['params'], one['params'], atol=1e-6, rtol=0)

def test_an_empty_shard_of_items_is_shaped_like_a_batch():
    "Rank 2 of 3 gets no row of a 1-row last batch: a 0-row batch of the right kinds, not an IndexError in collate"
    items = [(torch.ones(2), i, 'a') for i in range(13)]
    last = list(DataLoader(items, bs=12, rank=2, world_size=3))[-1]
    assert last[0].shape == (0, 2) and last[1].shape == (0,) and last[1].dtype == torch.int64 and last[2] == []
    assert [len(b[1]) for b in DataLoader(items, bs=12, rank=0, world_size=3)] == [4, 1]
