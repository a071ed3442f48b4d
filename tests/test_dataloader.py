"DataLoader: input forms (issue 16 §1), sharding for data-parallel SGD (issue 11), the device path (issue 9)"
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.utils.data import default_collate
from sgdlab import DataLoader, collate

# --- sharding -----------------------------------------------------------------------------------

@given(n=st.integers(1, 200), per_rank=st.integers(1, 20), k=st.integers(1, 4), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 99))
@settings(max_examples=80, deadline=None)
def test_shards_put_together_are_the_single_process_batches(n, per_rank, k, shuffle, drop_last, seed):
    bs = per_rank * k
    x, y = torch.arange(n).float()[:, None], torch.arange(n)
    whole = list(DataLoader((x, y), bs=bs, shuffle=shuffle, drop_last=drop_last, seed=seed))
    shards = [DataLoader((x, y), bs=bs, shuffle=shuffle, drop_last=drop_last, seed=seed, rank=r, world_size=k) for r in range(k)]
    assert all(len(s) == len(whole) for s in shards)          # the same number of steps on every rank
    for step, parts in enumerate(zip(*shards)):
        assert torch.equal(torch.cat([yb for _, yb in parts]), whole[step][1])
        sizes = [len(yb) for _, yb in parts]
        if len(whole[step][1]) == bs: assert sizes == [per_rank] * k   # bs/K rows of every full global batch
        else: assert max(sizes) - min(sizes) <= 1                     # a short last batch split as evenly as it goes
        for xb, yb in parts: assert torch.equal(xb[:, 0].long(), yb)

def test_two_ranks_take_half_the_rows_each():
    x = torch.arange(100.)
    seen = [torch.cat(list(DataLoader(x, bs=10, shuffle=True, seed=1, rank=r, world_size=2))) for r in range(2)]
    assert [len(s) for s in seen] == [50, 50]
    assert sorted(torch.cat(seen).tolist()) == x.tolist()

def test_shard_of_items_matches_shard_of_tensors():
    items = [(i, chr(97 + i % 26)) for i in range(23)]
    a = [yb for yb, _ in DataLoader(items, bs=6, shuffle=True, seed=5, rank=1, world_size=3)]
    b = [yb for _, yb in DataLoader((torch.zeros(23), torch.arange(23)), bs=6, shuffle=True, seed=5, rank=1, world_size=3)]
    assert len(a) == len(b) and all(torch.equal(u, v) for u, v in zip(a, b))

@pytest.mark.parametrize('kw, msg', [(dict(bs=5, world_size=2), 'bs=5 is not divisible by world_size=2'),
                                     (dict(bs=4, rank=2, world_size=2), 'rank=2 must be below world_size=2'),
                                     (dict(bs=4, rank=-1, world_size=2), 'rank=-1 must be a non-negative whole number'),
                                     (dict(bs=4, world_size=0), 'world_size=0 must be a positive whole number')])
def test_bad_sharding(kw, msg):
    with pytest.raises(ValueError, match=msg): DataLoader(torch.zeros(8), **kw)

# --- input forms (issue 16 §1) --------------------------------------------------------------------

def test_single_tensor_gives_batches_of_rows_like_torch():
    x = torch.arange(40.).view(10, 4)
    ours = list(DataLoader(x, bs=4))
    theirs = list(torch.utils.data.DataLoader(x, batch_size=4))
    assert [b.shape for b in ours] == [(4, 4), (4, 4), (2, 4)]
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    assert isinstance(next(iter(DataLoader(np.ones((6, 3)), bs=4, shuffle=True, seed=0))), torch.Tensor)

def test_a_one_tuple_still_gives_one_tuples():
    (xb,) = next(iter(DataLoader((torch.arange(6),), bs=4)))
    assert xb.tolist() == [0, 1, 2, 3]

def test_list_of_labels_beside_a_tensor():
    x, labels = torch.randn(10, 3), [i % 3 for i in range(10)]
    dl = DataLoader((x, labels), bs=4, shuffle=True, seed=0)
    assert len(dl) == 3
    for xb, yb in dl: assert isinstance(yb, torch.Tensor) and len(xb) == len(yb)
    assert sorted(torch.cat([yb for _, yb in dl]).tolist()) == sorted(labels)

def test_non_numeric_list_beside_a_tensor_is_refused():
    with pytest.raises(TypeError, match=r'ds\[1\] is a list of str beside a tensor'): DataLoader((torch.zeros(3), ['a', 'b', 'c']))

def test_list_of_dicts_collates_values_by_key_like_default_collate():
    items = [{'x': torch.full((2,), float(i)), 'y': i, 'name': f'n{i}'} for i in range(5)]
    b = next(iter(DataLoader(items, bs=5)))
    want = default_collate(items)
    assert set(b) == {'x', 'y', 'name'} and b['name'] == want['name']
    assert torch.equal(b['x'], want['x']) and torch.equal(b['y'], want['y'])

def test_collate_nested_tuple_in_dict():
    b = collate([{'pair': (1, 2.)}, {'pair': (3, 4.)}])
    assert b['pair'][0].tolist() == [1, 3] and b['pair'][1].tolist() == [2., 4.]

@pytest.mark.parametrize('bs', [np.int64(5), np.int32(5), 5])
def test_numpy_integer_bs(bs):
    dl = DataLoader(torch.zeros(10), bs=bs)
    assert len(dl) == 2 and type(dl.bs) is int

@pytest.mark.parametrize('bs', [True, np.bool_(True), 2.0, '4', np.float64(4)])
def test_non_integer_bs_refused(bs):
    with pytest.raises(ValueError, match='positive whole number'): DataLoader(torch.zeros(10), bs=bs)

@pytest.mark.parametrize('ds', [torch.zeros(0, 2), (torch.zeros(0, 2), torch.zeros(0)), [], np.zeros((0, 3))])
def test_empty_data_is_a_clear_error(ds):
    with pytest.raises(ValueError, match='ds is empty'): DataLoader(ds, bs=4)

# --- device path (issue 9) ---------------------------------------------------------------------------

def test_permutation_is_moved_once_per_epoch_not_per_batch(monkeypatch):
    "Count Tensor.to calls during one shuffled epoch: one per device, however many batches"
    calls, real_to = [], torch.Tensor.to
    def counting_to(self, *a, **kw): calls.append(1); return real_to(self, *a, **kw)
    dl = DataLoader((torch.zeros(1000, 2), torch.zeros(1000)), bs=10, shuffle=True, seed=0, rank=1, world_size=2)
    monkeypatch.setattr(torch.Tensor, 'to', counting_to)
    assert len(list(dl)) == 100
    assert len(calls) == 1

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_batches_equal_cpu_batches_for_the_same_seed():
    x, y = torch.randn(1000, 3), torch.arange(1000)
    cpu = DataLoader((x, y), bs=64, shuffle=True, seed=3)
    gpu = DataLoader((x.cuda(), y.cuda()), bs=64, shuffle=True, seed=3)
    for _ in range(2):
        for (xa, ya), (xb, yb) in zip(cpu, gpu): assert xb.is_cuda and torch.equal(ya, yb.cpu()) and torch.equal(xa, xb.cpu())
