"The Learner and its callbacks: the loop, cancelling, recording within a budget, modes, devices, schedules, saving, and the errors for bad input."
import math, warnings
from functools import partial
import numpy as np
import pytest, torch
from hypothesis import given, settings, strategies as st
from torch import nn
from sgdlab import (SGD, Callback, CancelBatchException, CancelEpochException, CancelFitException, DataLoader,
                    DivergenceError, EarlyStoppingCallback, History, Learner, Recorder, SaveModelCallback, fit, linear_data, mae, mse)

def line(n=100, seed=0): return linear_data(n, seed=seed)
def param(): return nn.Parameter(torch.tensor([-1., 1.]))

@given(n=st.integers(2, 80), bs=st.integers(1, 30), steps=st.integers(1, 40), seed=st.integers(0, 999))
@settings(max_examples=25, deadline=None)
def test_steps_runs_exactly_that_many_steps_across_epochs(n, bs, steps, seed):
    x, y = line(n, seed)
    a = param()
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.05, steps=steps, bs=bs, seed=seed)
    b, dl, done = param(), DataLoader((x, y), bs=bs, shuffle=True, seed=seed), 0
    opt = SGD([b], lr=0.05)
    while done < steps:
        for xb, yb in dl:
            if done == steps: break
            loss = mse(xb@b, yb); loss.backward(); opt.step(); opt.zero_grad()
            done += 1
    assert len(hist) == steps and torch.equal(a.detach(), b.detach())

def test_epochs_and_steps_are_exclusive_and_positive():
    x, y = line(10)
    a = param()
    for kw, msg in [(dict(epochs=2, steps=3), 'not both'), (dict(steps=0), 'steps=0'), (dict(epochs=1.5), 'epochs=1.5'),
                    (dict(steps=True), 'steps=True')]:
        with pytest.raises(ValueError, match=msg): fit(lambda x: x@a, x, y, params=[a], lr=0.1, **kw)
    assert len(fit(lambda x: x@a, x, y, params=[a], lr=0.1, steps=np.int64(3))) == 3

def test_callbacks_run_in_order_and_see_the_learner():
    x, y = line(20)
    a, seen = param(), []
    class A(Callback):
        order = 5
        def after_loss(self, learn): seen.append(('A', learn.step, learn.loss.item() > 0))
    class B(Callback):
        order = 1
        def after_loss(self, learn): seen.append(('B', learn.step, learn.preds.shape == learn.yb.shape))
    fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=2, cbs=[A(), B()])
    assert seen == [('B', 0, True), ('A', 0, True), ('B', 1, True), ('A', 1, True)]

def test_every_event_fires_in_fastai_order():
    x, y = line(20)
    a, events = param(), []
    class Log(Callback): pass
    for e in ['before_fit', 'before_epoch', 'before_batch', 'after_pred', 'after_loss', 'after_backward', 'before_step',
              'after_step',
              'after_batch', 'after_epoch', 'before_validate', 'after_validate', 'after_fit']:
        setattr(Log, e, lambda self, learn, e=e: events.append(e))
    fit(lambda x: x@a, x, y, params=[a], lr=0.1, steps=1, valid=(x, y), cbs=[Log()])
    assert events == ['before_fit', 'before_epoch', 'before_batch', 'after_pred', 'after_loss', 'after_backward',
                      'before_step', 'after_step',
                      'after_batch', 'before_validate', 'after_validate', 'after_epoch', 'after_fit']

def test_cancel_batch_takes_no_step_and_leaves_no_gradient():
    x, y = line(20)
    a = param()
    class SkipSecond(Callback):
        def after_backward(self, learn):
            if learn.step == 1: raise CancelBatchException
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=3, record_params=True, cbs=[SkipSecond()])
    assert torch.equal(h.params[1][0], h.params[2][0]) and not torch.equal(h.params[0][0], h.params[1][0])
    b = param()
    opt = SGD([b], lr=0.1)
    for i in range(3):
        if i == 1: continue
        loss = mse(x@b, y); loss.backward(); opt.step(); opt.zero_grad()
    assert torch.equal(a.detach(), b.detach())

def test_cancel_epoch_and_cancel_fit():
    x, y = line(40)
    a = param()
    class HalfEpochs(Callback):
        def before_epoch(self, learn): self.n = 0
        def after_batch(self, learn):
            self.n += 1
            if self.n == 2: raise CancelEpochException
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=3, bs=10, seed=0, cbs=[HalfEpochs()])
    assert len(h) == 6 and h.stopped is None
    class StopAt(Callback):
        def after_step(self, learn):
            if learn.step == 4: raise CancelFitException
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=10, cbs=[StopAt()])
    assert len(h) == 5 and h.stopped == 'cancelled' and h.final_params is not None

def test_a_user_callback_of_a_builtin_type_replaces_the_default():
    x, y = line(20)
    a = param()
    learn = Learner(lambda x: x@a, x, y, params=[a], lr=0.1, cbs=[Recorder(record_params=False)])
    assert sum(isinstance(c, Recorder) for c in learn.cbs) == 1
    assert learn.fit(3).params == []
    with pytest.raises(TypeError, match='is not a Callback'): Learner(lambda x: x@a, x, y, params=[a], lr=0.1, cbs=[print])

def test_long_fits_keep_a_bounded_number_of_snapshots_and_the_ends():
    x, y = line(20)
    a = param()
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, steps=2500)
    assert len(h.params) <= 1000 and h.param_steps[0] == 0 and len(h.params) == len(h.param_steps)
    assert h.param_steps == sorted(h.param_steps) and h.param_steps[-1] >= 2500 - 4
    assert torch.equal(h.final_params[0], a.detach())
    for s, ps in list(zip(h.param_steps, h.params))[::97]:
        assert math.isclose(mse(x@ps[0], y).item(), h.loss[s], rel_tol=1e-5)
    assert len(fit(lambda x: x@a, x, y, params=[a], lr=0.1, steps=1500, record_params=True).params) == 1500

def test_record_params_default_at_its_boundary():
    x = torch.randn(8, 9999)
    y = torch.randn(8, 1)
    small, big = nn.Linear(9999, 1), nn.Linear(10_000, 1)  # 10,000 and 10,001 numbers
    assert len(fit(small, x, y, lr=1e-3, epochs=2).params) == 2
    assert len(fit(big, torch.randn(8, 10_000), y, lr=1e-3, epochs=2).params) == 0

def test_divergence_is_caught_within_16_steps_and_the_history_cut_there():
    x, y = line(100, 42)
    a = param()
    seen = []
    class Count(Callback):
        def after_batch(self, learn): seen.append(learn.step)
    with pytest.raises(DivergenceError) as e: fit(lambda x: x@a, x, y, params=[a], lr=3.0, epochs=500, cbs=[Count()])
    h = e.value.hist
    first_bad = len(h.loss) - 1
    assert not math.isfinite(h.loss[-1]) and len(seen) - 1 - first_bad <= 15
    assert max(h.param_steps) == first_bad and h.stopped == 'diverged'

def test_print_every_never_prints_a_non_finite_loss(capsys):
    x, y = line(100, 42)
    a = param()
    with pytest.raises(DivergenceError): fit(lambda x: x@a, x, y, params=[a], lr=3.0, epochs=500, print_every=10)
    out = capsys.readouterr().out
    assert 'step    0: loss' in out and 'inf' not in out and 'nan' not in out

def test_validation_divergence_stops_at_once():
    x, y = line(20)
    a = param()
    with pytest.raises(DivergenceError, match='validation loss after epoch 0 became inf'):
        fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=5, valid=(x * 1e20, y))

def test_train_mode_for_training_eval_mode_for_validation_and_mode_restored():
    torch.manual_seed(0)
    x, y = torch.randn(64, 3), torch.randn(64, 1)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 1))
    modes = []
    class Spy(Callback):
        def after_pred(self, learn): modes.append(('train', learn.model.training))
        def after_validate(self, learn): modes.append(('valid', stats_during_valid == learn.model[1].running_mean.clone()))
    stats_during_valid = None
    class Snap(Callback):
        order = 21
        def before_validate(self, learn):
            nonlocal stats_during_valid
            stats_during_valid = learn.model[1].running_mean.clone()
    model.eval()
    hist = fit(model, x, y, lr=0.01, epochs=2, bs=16, seed=0, valid=(x, y), cbs=[Spy(), Snap()])
    assert all(m for k, m in modes if k == 'train') and not model.training
    assert all(torch.equal(v, v) if isinstance(v, torch.Tensor) else v for k, v in modes if k == 'valid')
    with torch.no_grad(): expected = mse(model(x), y).item()
    assert math.isclose(hist.valid_loss[-1], expected, rel_tol=1e-6)

def test_validation_does_not_update_batchnorm_statistics():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    before = []
    class Grab(Callback):
        def before_validate(self, learn): before.append(learn.model[1].running_mean.clone())
        def after_validate(self, learn): assert torch.equal(before[-1], learn.model[1].running_mean)
    fit(model, x, y, lr=0.01, epochs=2, valid=(x + 5, y), cbs=[Grab()])
    assert len(before) == 2

def test_metrics_need_valid_have_distinct_names_and_are_named_in_errors():
    x, y = line(30)
    a = param()
    with pytest.raises(ValueError, match='pass valid='): fit(lambda x: x@a, x, y, params=[a], lr=0.1, metrics=[mae])
    with pytest.raises(ValueError, match="two metrics are named '<lambda>'"):
        fit(lambda x: x@a, x, y, params=[a], lr=0.1, valid=(x, y), metrics=[lambda p, t: 0., lambda p, t: 1.])
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=2, valid=(x, y), metrics={'zero': lambda p, t: 0., 'one': lambda p, t: 1.})
    assert h.metrics == {'zero': [0., 0.], 'one': [1., 1.]}
    def broken(p, t): raise KeyError('oops')
    with pytest.raises(KeyError) as e: fit(lambda x: x@a, x, y, params=[a], lr=0.1, valid=(x, y), metrics=[broken])
    assert "metric 'broken' raised this" in ' '.join([str(e.value), *getattr(e.value, '__notes__', [])])
    with pytest.raises(ValueError, match=r"metric 'per_row' returned a tensor of shape \(30,\)"):
        fit(lambda x: x@a, x, y, params=[a], lr=0.1, valid=(x, y), metrics={'per_row': lambda p, t: (p - t).abs()})

@pytest.mark.parametrize('make, exc, msg', [
    (lambda x, y: dict(x=x.clone().index_put_((torch.tensor([2]), torch.tensor([0])), torch.tensor(float('inf'))), y=y), ValueError, 'x holds a non-finite value (inf) at row 2, column 0'),
    (lambda x, y: dict(x=x[:0], y=y[:0]), ValueError, 'no rows; there is nothing to train on'),
    (lambda x, y: dict(x=x, y=y, valid=(x,)), ValueError, 'valid= must be a pair'),
    (lambda x, y: dict(x=x, y=y, valid=(x, y[:5])), ValueError, 'valid x has 30 rows but valid y has 5'),
    (lambda x, y: dict(x=x, y=y, bs=2.5), ValueError, 'bs=2.5'),
    (lambda x, y: dict(x=x, y=None), ValueError, 'y is missing'),
    (lambda x, y: dict(x=x, y=y, loss_func=lambda p, t: (p - t)**2), ValueError, 'must return one number'),
    (lambda x, y: dict(x=x, y=y[:, None]), ValueError, r'fit: model(x) does not match y: predictions (30,) and targets (30, 1)'),
    (lambda x, y: dict(x=x.long(), y=y), TypeError, 'x holds integers (torch.int64)'),
    (lambda x, y: dict(x=x, y=y, epochs=0), ValueError, 'epochs=0'),
    (lambda x, y: dict(x=x, y=y, lr=float('nan')), ValueError, 'lr=nan'),
])
def test_bad_input_gets_a_clear_error(make, exc, msg):
    x, y = line(30)
    a = param()
    kw = dict(lr=0.1) | make(x, y)
    with pytest.raises(exc) as e: fit(lambda x: x@a, kw.pop('x'), kw.pop('y'), params=[a], **kw)
    assert msg in str(e.value), str(e.value)

def test_unused_parameters_are_named():
    x, y = line(30)
    a, stale = param(), nn.Parameter(torch.zeros(3))
    with pytest.warns(UserWarning, match=r'parameter 1 \(shape \(3,\)\)'): fit(lambda x: x@a, x, y, params=[a, stale], lr=0.1)
    with pytest.raises(ValueError, match='does not depend on any trained parameter'): fit(lambda x: x@a.detach(), x, y, params=[a], lr=0.1)
    b = nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match='no parameter got a gradient'): fit(lambda x: x@a, x, y, params=[b], lr=0.1)

def test_a_model_that_mixes_devices_is_named():
    x, y = line(30)
    a, b = param(), torch.zeros(1, device='meta')
    with pytest.raises(RuntimeError, match='fit: model\\(x\\) mixes devices.*meta'): fit(lambda x: x@a + b, x, y, params=[a], lr=0.1)

def test_bs_larger_than_n_is_one_batch():
    x, y = line(10)
    a = param()
    assert fit(lambda x: x@a, x, y, params=[a], lr=0.1, bs=50, epochs=3).steps_per_epoch == 1

def test_a_dataloader_in_place_of_x_y_trains_unshuffled():
    x, y = line(40)
    a = param()
    h = fit(lambda x: x@a, DataLoader((x, y), bs=10), lr=0.1, params=[a], epochs=2)
    b = param()
    opt = SGD([b], lr=0.1)
    for _ in range(2):
        for i in range(0, 40, 10):
            loss = mse(x[i:i+10]@b, y[i:i+10]); loss.backward(); opt.step(); opt.zero_grad()
    assert torch.equal(a.detach(), b.detach()) and len(h) == 8
    with pytest.raises(ValueError, match='already a DataLoader'): fit(lambda x: x@a, DataLoader((x, y)), y, params=[a], lr=0.1)

def test_a_schedule_sets_the_lr_of_every_step_for_sgdlab_and_torch_optimizers():
    x, y = line(30)
    sched = lambda pos: 0.1 * (1 - pos)
    for opt_func in (SGD, torch.optim.SGD):
        a = param()
        h = fit(lambda x: x@a, x, y, params=[a], lr=sched, steps=10, opt_func=opt_func)
        assert h.lrs == pytest.approx([0.1 * (1 - i / 10) for i in range(10)]) and h.lr is None
        b = param()
        for i in range(10):
            loss = mse(x@b, y); loss.backward()
            with torch.no_grad(): b.add_(b.grad, alpha=-h.lrs[i]); b.grad = None
        torch.testing.assert_close(a.detach(), b.detach(), rtol=0, atol=1e-6)
    assert 'lr scheduled' in repr(h)

def test_history_summary_uses_epoch_means():
    h = History(loss=[4., 2., 1.5, .5], steps_per_epoch=2, lr=0.1, bs=5)
    assert 'epoch-mean loss 3.0000 -> 1.0000' in repr(h)

def test_history_saves_and_loads_under_torchs_safe_default(tmp_path):
    x, y = line(30)
    a = param()
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=5, valid=(x, y), metrics=[mae])
    p = h.save(tmp_path/'h.pt')
    h2 = History.load(p)
    assert h2.loss == h.loss and h2.metrics == h.metrics and h2.param_steps == h.param_steps
    assert all(torch.equal(u[0], v[0]) for u, v in zip(h.params, h2.params)) and torch.equal(h2.final_params[0], a.detach())
    torch.load(p)  # the default weights_only=True loader accepts it
    with pytest.raises(PermissionError, match="History.save: cannot write in the folder '/sys'"): h.save('/sys/h.pt')

def test_early_stopping_and_save_model_on_a_module(tmp_path):
    torch.manual_seed(0)
    x, y = torch.randn(40, 2), torch.randn(40, 1)
    model = nn.Linear(2, 1)
    saver = SaveModelCallback(fname=tmp_path/'m.pth')
    h = fit(model, x, y, lr=0.5, epochs=30, valid=(x[:10], y[:10]), cbs=[EarlyStoppingCallback(patience=2), saver])
    with torch.no_grad(): now = mse(model(x[:10]), y[:10]).item()
    assert math.isclose(now, min(h.valid_loss), rel_tol=1e-6)
    assert set(torch.load(tmp_path/'m.pth')) == {'weight', 'bias'}
    with pytest.raises(ValueError, match="cannot monitor 'acc'"): fit(model, x, y, lr=0.1, valid=(x, y), cbs=[EarlyStoppingCallback('acc')])

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cpu_data_trains_a_cuda_model_like_the_cpu_and_mixed_models_are_named():
    x, y = line(200)
    res = []
    for dev in ['cpu', 'cuda']:
        torch.manual_seed(0)
        model = nn.Linear(2, 1).to(dev)
        h = fit(model, x, y[:, None], lr=0.1, epochs=5, bs=32, seed=0, valid=(x, y[:, None]))
        res.append((model.weight.detach().cpu(), h.loss, h.valid_loss))
    torch.testing.assert_close(res[0][0], res[1][0])
    assert res[0][1] == pytest.approx(res[1][1], rel=1e-5) and res[0][2] == pytest.approx(res[1][2], rel=1e-5)
    xd, yd = linear_data(10, seed=0, device='cuda')
    assert xd.is_cuda and torch.equal(xd.cpu(), linear_data(10, seed=0)[0])
    a, b = param(), torch.zeros(1, device='cuda')
    with pytest.raises(RuntimeError, match='fit: model\\(x\\) mixes devices.*cpu.*cuda'): fit(lambda x: x@a + b, x, y, params=[a], lr=0.1)


def test_recorder_keeps_a_few_numbers_as_lists_until_it_flushes():
    "Snapshots of a tiny CPU model are lists until `flush`; after it they are the same tensors a clone would give"
    import torch
    from sgdlab import Callback, fit, linear_data
    x, y = linear_data(20, seed=0)
    a = torch.nn.Parameter(torch.tensor([-1., 1.]))
    seen = {}
    class Peek(Callback):
        def after_batch(self, learn):
            if learn.step == 5:
                seen['before'] = type(learn.hist.params[-1])
                learn.recorder.flush(learn)
                seen['after'] = learn.hist.params[-1]
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=10, cbs=[Peek()])
    assert seen['before'] is list and type(seen['after']) is tuple and seen['after'][0].shape == (2,)
    assert h.param_steps == list(range(10)) and all(type(s) is tuple and s[0].dtype == torch.float32 for s in h.params)
    assert torch.equal(h.params[0][0], torch.tensor([-1., 1.])) and not h.params[0][0].requires_grad


class _Rank0Counter(Callback):
    "A callback for the process of rank 0 only, counting the batches it saw"
    rank0_only = True
    def before_fit(self, learn): self.n = 0
    def after_batch(self, learn): self.n += 1

def test_rank0_only_callbacks_run_in_a_single_process():
    "Outside data-parallel training the one process is rank 0: a `rank0_only` callback runs there, at every event"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    x, y = linear_data(20, seed=0)
    cb = _Rank0Counter()
    learn = Learner(lambda xb: xb@a, x, y, params=[a], lr=0.1, bs=5, cbs=[cb])
    assert learn.rank == 0
    learn.fit(2)
    assert cb.n == 8 and learn.rank == 0
