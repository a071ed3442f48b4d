"""Issue 21 §4 in one process: a fit stopped at step k and resumed from its checkpoint equals the fit that was never
stopped, bit for bit: parameters, buffers, every list of the History, for SGD, momentum, Adam and torch's SGD, with a
one-cycle schedule and shuffling, stopped within epochs and at their boundaries. (tests/test_fault.py kills real
processes under torchrun.)"""
from functools import partial
import numpy as np
import pytest
import torch
from torch import nn
from sgdlab import (Adam, Callback, CancelFitException, CheckpointCallback, DataLoader, Learner, Recorder, SGD,
                    linear_data, load_checkpoint, one_cycle, save_atomic, stale_files)

X, Y = linear_data(100, seed=0)
VALID = linear_data(20, seed=1)
OPTS = {'sgd': SGD, 'momentum': partial(SGD, mom=0.9), 'adam': Adam, 'torch_sgd': partial(torch.optim.SGD, momentum=0.9)}

def net(seed: int) -> nn.Module:
    "A model with buffers (BatchNorm's running statistics), initialised from its own generator"
    m = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1), nn.Flatten(0))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters(): p.uniform_(-1, 1, generator=g)
    return m

class StopAt(Callback):
    "Stop at the start of step `k`, as a crash would (only the checkpoint on disk survives)"
    def __init__(self, k): self.k = k
    def before_batch(self, learn):
        if learn.step == self.k: raise CancelFitException

class Steps(Callback):
    "The steps this fit computed"
    def before_fit(self, learn): self.done = []
    def after_batch(self, learn): self.done.append(learn.step)

def run(opt='adam', cbs=(), resume=None, seed=0, epochs=3, steps=None, bs=10, lr=None, data=None, **kw):
    "A fresh model from `seed`, trained with `opt`, a one-cycle schedule, shuffled batches and a validation set"
    m = net(seed)
    x, y = (X, Y) if data is None else (data, None)
    learn = Learner(m, x, y, lr=lr or one_cycle(0.05), bs=bs, seed=None if data is not None else 0, opt_func=OPTS[opt],
                    valid=VALID, metrics={'mae': lambda p, t: (p - t).abs().mean()}, cbs=list(cbs), **kw)
    h = learn.fit(epochs, steps, resume=resume) if steps is None else learn.fit(steps=steps, resume=resume)
    return m, h

def same(a, b):
    "Two (model, History) pairs agree to the last bit"
    (ma, ha), (mb, hb) = a, b
    for (k, u), v in zip(ma.state_dict().items(), mb.state_dict().values()): assert torch.equal(u, v), k
    for f in ('loss', 'lrs', 'valid_loss', 'metrics', 'param_steps', 'steps_per_epoch', 'lr', 'bs', 'stopped', 'epoch_spans'):
        assert getattr(ha, f) == getattr(hb, f), f
    assert len(ha.params) == len(hb.params)
    for s, t in zip(ha.params + [ha.final_params], hb.params + [hb.final_params]):
        assert all(torch.equal(u, v) for u, v in zip(s, t))

@pytest.fixture(scope='module')
def full():
    return {o: run(o, cbs=[Recorder(record_params=True)]) for o in OPTS}

@pytest.mark.parametrize('opt', list(OPTS))
@pytest.mark.parametrize('k, every', [(1, 1), (7, 3), (10, 5), (10, 10), (13, 4), (20, 10), (29, 7), (30, 3)])
def test_stopped_and_resumed_equals_uninterrupted(tmp_path, full, opt, k, every):
    ck, first, second = tmp_path/'ck.pt', Steps(), Steps()
    run(opt, cbs=[Recorder(record_params=True), CheckpointCallback(ck, every), StopAt(k), first])
    saved = k // every * every
    assert load_checkpoint(ck)['step'] == saved and first.done == list(range(k))
    resumed = run(opt, cbs=[Recorder(record_params=True), CheckpointCallback(ck, every), second], resume=ck, seed=2)
    assert second.done == list(range(saved, 30))          # no step twice in this fit, none left out
    h = resumed[1]
    assert len(h.loss) == 30 and h.param_steps == list(range(30)) and len(h.valid_loss) == 3   # none duplicated
    same(resumed, full[opt])

@pytest.mark.parametrize('stops, every', [((9, 23), 4), ((5, 8), 3)])
def test_resumed_twice(tmp_path, full, stops, every):
    "Stopped, resumed, stopped again (in another epoch, or in the epoch the fit resumed in), resumed again"
    ck, (k1, k2) = tmp_path/'ck.pt', stops
    run(cbs=[Recorder(record_params=True), CheckpointCallback(ck, every), StopAt(k1)])
    run(cbs=[Recorder(record_params=True), CheckpointCallback(ck, every), StopAt(k2)], resume=ck, seed=2)
    assert load_checkpoint(ck)['step'] == k2 // every * every
    same(run(cbs=[Recorder(record_params=True), CheckpointCallback(ck, every)], resume=ck, seed=3), full['adam'])

def test_steps_plan_stopping_inside_an_epoch(tmp_path):
    ck = tmp_path/'ck.pt'
    ref = run(steps=25, lr=0.05, opt='momentum')
    run(steps=25, lr=0.05, opt='momentum', cbs=[CheckpointCallback(ck, 6), StopAt(21)])
    same(run(steps=25, lr=0.05, opt='momentum', cbs=[CheckpointCallback(ck, 6)], resume=ck, seed=2), ref)

def test_full_batch_and_items(tmp_path):
    ck = tmp_path/'ck.pt'
    run(bs=None, cbs=[CheckpointCallback(ck, 1), StopAt(2)])          # full batch: one step per epoch
    same(run(bs=None, cbs=[CheckpointCallback(ck, 1)], resume=ck, seed=2), run(bs=None))
    items = [(x, y) for x, y in zip(X, Y)]              # a list of items, collated
    dl = lambda: DataLoader(items, bs=10, shuffle=True, seed=5)
    ref = run(data=dl(), bs=None)
    run(data=dl(), bs=None, cbs=[CheckpointCallback(ck, 3), StopAt(16)])
    same(run(data=dl(), bs=None, cbs=[CheckpointCallback(ck, 3)], resume=ck, seed=2), ref)

def test_recorder_thinning_continues(tmp_path):
    "A Recorder that thins its snapshots (every other one, at half the rate) keeps thinning after a resume"
    ck, rec = tmp_path/'ck.pt', lambda: Recorder(record_params=None, max_snapshots=4)
    ref = run(cbs=[rec()])
    assert ref[1].param_steps == [0, 8, 16, 24]
    run(cbs=[rec(), CheckpointCallback(ck, 3), StopAt(19)])
    assert load_checkpoint(ck)['stride'] == 8
    same(run(cbs=[rec(), CheckpointCallback(ck, 3)], resume=ck, seed=2), ref)

class CopyAt(Callback):
    "Copy the checkpoint as it stands after step `k`"
    order = 60
    def __init__(self, src, dst, k): self.src, self.dst, self.k = src, dst, k
    def after_batch(self, learn):
        if learn.step == self.k: self.dst.write_bytes(self.src.read_bytes())

def test_unseeded_shuffling_resumes_from_the_saved_generator(tmp_path):
    ck, ck15 = tmp_path/'ck.pt', tmp_path/'ck15.pt'
    ref = run(data=DataLoader((X, Y), bs=10, shuffle=True), bs=None, cbs=[CheckpointCallback(ck, 5), CopyAt(ck, ck15, 14)])
    other = run(data=DataLoader((X, Y), bs=10, shuffle=True), bs=None)      # fresh entropy: other batches
    assert ref[1].loss[:10] != other[1].loss[:10]
    same(run(data=DataLoader((X, Y), bs=10, shuffle=True), bs=None, cbs=[CheckpointCallback(ck, 5)], resume=ck15, seed=2), ref)

def test_stale_temporary_files_are_removed_when_a_fit_starts(tmp_path):
    ck = tmp_path/'ck.pt'
    (tmp_path/'.ck.deadbeef.tmp.pt').write_bytes(b'torn')     # as a process killed between write and rename leaves
    (tmp_path/'.other.deadbeef.tmp.pt').write_bytes(b'not ours')
    run(cbs=[CheckpointCallback(ck, 10)], epochs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['.other.deadbeef.tmp.pt', 'ck.pt']
    assert stale_files(ck) == []

def test_a_failed_save_keeps_the_old_checkpoint(tmp_path):
    ck = tmp_path/'ck.pt'
    save_atomic({'step': 1}, ck)
    with pytest.raises(Exception): save_atomic({'step': 2, 'f': lambda: 0}, ck)
    assert torch.load(ck) == {'step': 1} and sorted(p.name for p in tmp_path.iterdir()) == ['ck.pt']

def test_checkpoint_loads_safely_and_holds_what_the_issue_lists(tmp_path):
    ck = tmp_path/'ck.pt'
    run(opt='momentum', cbs=[CheckpointCallback(ck, 13), StopAt(14)])
    c = load_checkpoint(ck)                                         # weights_only=True: no code runs
    assert {'model', 'opt', 'hist', 'gen', 'step', 'epoch', 'start_batch', 'n_steps', 'stride'} <= set(c)
    assert (c['step'], c['epoch'], c['start_batch'], c['n_steps']) == (13, 1, 3, 30)
    assert 'running_mean' in ''.join(c['model']) and c['opt']['state'][0]['grad_avg'].shape == (4, 2)
    assert len(c['hist']['loss']) == 13 and len(c['hist']['lrs']) == 13 and len(c['hist']['valid_loss']) == 1

def test_mismatched_resume_is_refused(tmp_path):
    ck = tmp_path/'ck.pt'
    run(cbs=[CheckpointCallback(ck, 5), StopAt(7)])
    with pytest.raises(ValueError, match='saved by a fit of 30 steps, but this fit plans 20'):
        run(cbs=[CheckpointCallback(ck, 5)], resume=ck, epochs=2)
    with pytest.raises(ValueError, match='shuffled'):
        run(data=DataLoader((X, Y), bs=10), bs=None, cbs=[CheckpointCallback(ck, 5)], resume=ck)
    with pytest.raises(ValueError, match='no callback restored'): run(resume=ck)
    with pytest.raises(FileNotFoundError, match='no checkpoint at'):
        run(cbs=[CheckpointCallback(ck, 5)], resume=tmp_path/'missing.pt')
    with pytest.raises(ValueError, match='hyper-parameters'): run(opt='sgd', cbs=[CheckpointCallback(ck, 5)], resume=ck)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f'every={bad}'): CheckpointCallback(ck, bad)
    assert CheckpointCallback(ck, np.int64(5)).every == 5
