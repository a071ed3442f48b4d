"What the training loop promises a callback and a user (issue 20): cancels, add_cb/remove_cb, state across fits, interop."
from functools import partial
import pytest, torch
from torch import nn
from sgdlab import (SGD, Callback, CancelBatchException, CancelEpochException, CancelFitException, CancelStepException,
                    EarlyStoppingCallback, Learner, ParamScheduler, Recorder,
                    ValidateCallback, fit, linear_data, mse, sched_lin)

def line(n=100, seed=0): return linear_data(n, seed=seed)
def param(): return nn.Parameter(torch.tensor([-1., 1.]))
def lin_learner(a, n=40, **kw):
    x, y = line(n)
    return Learner(lambda x: x@a, x, y, params=[a], **{'lr': 0.1, **kw})

# --- CancelStepException: gradient accumulation -----------------------------------------------------------------

class Accumulate(Callback):
    "Step every `n` batches: fastai's GradientAccumulation, built on CancelStepException"
    def __init__(self, n): self.n = n
    def before_step(self, learn):
        if (learn.step + 1) % self.n: raise CancelStepException

def test_cancel_step_accumulates_gradients_like_a_hand_loop():
    x, y = line(40)
    a = param()
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, bs=10, epochs=2, seed=3, cbs=[Accumulate(2)])
    b = param()
    from sgdlab import DataLoader
    opt, dl = SGD([b], lr=0.1), DataLoader((x, y), bs=10, shuffle=True, seed=3)
    for _ in range(2):
        for i, (xb, yb) in enumerate(dl):
            mse(xb@b, yb).backward()
            if i % 2: opt.step(); opt.zero_grad()
    assert torch.equal(a.detach(), b.detach()) and len(h.loss) == 8

def test_cancel_step_skips_after_step_but_not_after_batch():
    seen = []
    class Log(Callback):
        def after_step(self, learn): seen.append(('step', learn.step))
        def after_batch(self, learn): seen.append(('batch', learn.step))
    lin_learner(param(), cbs=[Accumulate(2), Log()]).fit(steps=2)
    assert seen == [('batch', 0), ('step', 1), ('batch', 1)]

# --- add_cb / remove_cb ------------------------------------------------------------------------------------------

def test_the_same_instance_twice_is_refused():
    cb = Accumulate(2)
    with pytest.raises(ValueError, match='already one of its callbacks'): lin_learner(param(), cbs=[cb, cb])
    learn = lin_learner(param(), cbs=[cb])
    with pytest.raises(ValueError, match='already one of its callbacks'): learn.add_cb(cb)

def test_two_recorders_are_refused_but_two_trackers_are_not():
    with pytest.raises(ValueError, match='both record loss, params in the History'):
        lin_learner(param(), cbs=[Recorder(), Recorder()])
    x, y = line(40)
    a = param()
    learn = Learner(lambda x: x@a, x, y, params=[a], lr=0.1, valid=(x, y), metrics=[mse],
                    cbs=[EarlyStoppingCallback('valid_loss'), EarlyStoppingCallback('mse')])
    assert sum(isinstance(c, EarlyStoppingCallback) for c in learn.cbs) == 2
    learn.add_cb(ValidateCallback())  # replaces the default one
    with pytest.raises(ValueError, match='both record valid_loss, metrics'): learn.add_cb(ValidateCallback())

def test_one_recorder_replaces_the_default():
    learn = lin_learner(param(), cbs=[Recorder(record_params=False)])
    assert [c.record_params for c in learn.cbs if isinstance(c, Recorder)] == [False]

def test_a_callback_removed_during_a_fit_is_not_called_again():
    class Once(Callback):
        n = 0
        def after_batch(self, learn): self.n += 1; learn.remove_cb(self)
    cb = Once()
    learn = lin_learner(param(), bs=10, cbs=[cb])
    learn.fit(2)
    assert cb.n == 1 and cb not in learn.cbs

def test_a_callback_added_during_a_fit_runs_from_the_next_event():
    class Count(Callback):
        n = 0
        def after_batch(self, learn): self.n += 1
    counter = Count()
    class AddAt2(Callback):
        def before_batch(self, learn):
            if learn.step == 2: learn.add_cb(counter)
    lin_learner(param(), bs=10, cbs=[AddAt2()]).fit(steps=6)
    assert counter.n == 4

def test_skipped_callbacks_stay_skipped_when_callbacks_change():
    "FirstStepCheck skips itself after step 0; adding a callback later must not bring it back"
    class Add(Callback):
        def after_batch(self, learn):
            if learn.step == 1: learn.add_cb(Accumulate(1))
    learn = lin_learner(param(), bs=10, cbs=[Add()])
    learn.fit(steps=3)
    assert not any(type(getattr(f, '__self__', None)).__name__ == 'FirstStepCheck' for f in learn._hooks['after_loss'])

def test_remove_cb_by_class_and_unknown():
    learn = lin_learner(param())
    learn.remove_cb(Recorder)
    assert not any(isinstance(c, Recorder) for c in learn.cbs)
    with pytest.raises(ValueError, match='not one of its callbacks'): learn.remove_cb(Recorder)

def test_cbs_cannot_be_changed_in_place():
    learn = lin_learner(param())
    with pytest.raises(TypeError, match='learn.remove_cb'): learn.cbs.remove(learn.cbs[0])
    with pytest.raises(TypeError, match='learn.add_cb'): learn.cbs.append(Recorder())

def test_a_callback_class_is_instantiated_as_fastai_does():
    learn = lin_learner(param(), cbs=[Accumulate.__mro__[1], EarlyStoppingCallback])
    assert sum(isinstance(c, EarlyStoppingCallback) for c in learn.cbs) == 1
    with pytest.raises(TypeError, match=r"Accumulate\(\) fails.*pass an instance such as Accumulate\(...\)"):
        lin_learner(param(), cbs=[Accumulate])

@pytest.mark.parametrize('order', ['5', None, float('nan'), True])
def test_a_non_numeric_order_is_a_clear_error(order):
    class Odd(Callback): pass
    Odd.order = order
    with pytest.raises(TypeError, match=f"order={order!r}; it must be a number"): lin_learner(param(), cbs=[Odd()])

# --- the Contracts of nbs/04_learner.ipynb: the promises no other test held to its word ------------------------------

class Log(Callback):
    "Records `(event, learn.step, learn.epoch)`, and what `after_epoch` sees in `learn.epoch_cancelled`"
    def __init__(self): self.seen = []
    def _log(self, e, learn): self.seen.append((e, learn.step, learn.epoch))
    def before_fit(self, learn): self._log('before_fit', learn)
    def before_batch(self, learn): self._log('before_batch', learn)
    def after_step(self, learn): self._log('after_step', learn)
    def after_batch(self, learn): self._log('after_batch', learn)
    def after_epoch(self, learn): self.seen.append(('after_epoch', learn.epoch, learn.epoch_cancelled))
    def after_fit(self, learn): self._log('after_fit', learn)
    def events(self, name): return [s for s in self.seen if s[0] == name]

class Raise(Callback):
    "Raise `exc` at `event` when `learn.step == at`"
    def __init__(self, event, exc, at): self.exc, self.at = exc, at; setattr(self, event, self._maybe)
    def _maybe(self, learn):
        if learn.step == self.at: raise self.exc

def test_after_fit_runs_when_the_fit_fails():
    "An error inside a step propagates, and after_fit has still run, once, with learn.failed set"
    class Boom(Exception): pass
    log, failed = Log(), []
    class Failed(Callback):
        def after_fit(self, learn): failed.append(learn.failed)
    learn = lin_learner(param(), bs=10, cbs=[Raise('after_backward', Boom(), 2), log, Failed()])
    with pytest.raises(Boom): learn.fit(2)
    assert log.events('after_fit') == [('after_fit', 3, 0)] and failed == [True]  # `step` counts the failed one

def test_a_cancelled_batch_still_gets_after_batch_but_no_step():
    "CancelBatchException in before_batch of step 1: after_batch runs for it, after_step does not, the weights stay"
    log, a = Log(), param()
    snap = []
    class Snap(Callback):
        def after_batch(self, learn): snap.append(a.detach().clone())
    lin_learner(a, bs=10, cbs=[Raise('before_batch', CancelBatchException, 1), log, Snap()]).fit(steps=3)
    assert [s[1] for s in log.events('after_batch')] == [0, 1, 2] and [s[1] for s in log.events('after_step')] == [0, 2]
    assert torch.equal(snap[0], snap[1]) and not torch.equal(snap[1], snap[2])

def test_after_epoch_sees_epoch_cancelled():
    "True in the after_epoch of a cancelled epoch only; an epoch cut by steps= is not cancelled"
    log = Log()
    lin_learner(param(), bs=10, cbs=[Raise('after_batch', CancelEpochException, 5), log]).fit(3)
    assert log.events('after_epoch') == [('after_epoch', 0, False), ('after_epoch', 1, True), ('after_epoch', 2, False)]
    log = Log()
    lin_learner(param(), bs=10, cbs=[log]).fit(steps=6)
    assert log.events('after_epoch') == [('after_epoch', 0, False), ('after_epoch', 1, False)]

def test_steps_ending_inside_an_epoch_give_it_its_metrics_too():
    x, y = line(40)
    a = param()
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, bs=10, steps=6, valid=(x, y), metrics=[mse])
    assert len(h.epoch_loss) == len(h.valid_loss) == len(h.metrics['mse']) == 2 and h.epoch_spans == [(0, 4), (4, 6)]
    assert h.metrics['mse'][-1] == pytest.approx(h.valid_loss[-1])

def test_cancel_fit_runs_after_fit_and_keeps_what_a_callback_set():
    "after_fit runs after CancelFitException; hist.stopped is 'cancelled', unless the callback set its own reason"
    log = Log()
    h = lin_learner(param(), bs=10, cbs=[Raise('after_batch', CancelFitException, 5), log]).fit(3)
    assert h.stopped == 'cancelled' and log.events('after_fit') == [('after_fit', 6, 1)]
    class Budget(Callback):
        def after_batch(self, learn):
            if learn.step == 2: learn.hist.stopped = 'out of budget'; raise CancelFitException
    h = lin_learner(param(), bs=10, cbs=[Budget()]).fit(3)
    assert h.stopped == 'out of budget' and len(h.loss) == 3

def test_each_fit_returns_its_own_history_and_counts_from_0():
    "The second fit starts at step 0 and epoch 0, and its History holds its own steps only"
    log, a = Log(), param()
    learn = lin_learner(a, bs=10, seed=0, cbs=[log])
    h1 = learn.fit(2)
    log.seen.clear()
    h2 = learn.fit(1)
    assert h2 is not h1 and len(h1.loss) == 8 and len(h2.loss) == 4 and h2.epoch_spans == [(0, 4)]
    assert log.seen[:2] == [('before_fit', 0, 0), ('before_batch', 0, 0)]
    assert log.events('after_fit') == [('after_fit', 4, 0)]

@pytest.mark.parametrize('opt_func', [SGD, torch.optim.SGD], ids=['sgdlab SGD', 'torch SGD'])
def test_a_number_lr_is_set_again_before_each_fit(opt_func):
    "learn.lr = 0.01 between fits: the next fit's steps move the weights by 0.01 times the gradient"
    x, y = line(40)
    a = param()
    learn = Learner(lambda x: x@a, x, y, params=[a], lr=0.1, opt_func=opt_func)  # full batch: one step per epoch
    learn.fit(1)
    learn.lr = 0.01
    before = a.detach().clone()
    b = before.clone().requires_grad_()
    mse(x@b, y).backward()
    learn.fit(1)
    assert torch.equal(a.detach(), before.add(b.grad, alpha=-0.01))  # torch's order of operations: bit for bit

def test_opt_none_starts_a_fresh_momentum():
    "After learn.opt = None the momentum buffer holds this step's gradient only, not 0.9 times the old one plus it"
    x, y = line(40)
    a = param()
    learn = Learner(lambda x: x@a, x, y, params=[a], lr=0.1, opt_func=partial(SGD, mom=0.9))
    learn.fit(3)
    old = learn.opt
    learn.opt = None
    b = a.detach().clone().requires_grad_()
    mse(x@b, y).backward()
    learn.fit(1)
    assert learn.opt is not old and torch.equal(learn.opt.state[a]['grad_avg'], b.grad)
    assert not torch.equal(old.state[a]['grad_avg'], b.grad)

def test_every_test_the_contracts_name_exists():
    "Each `file.py::test_name` (or `::test_name`, in the file named before it) in the Contracts section is a test"
    import json, re
    from pathlib import Path
    root = Path(__file__).parent
    cells = json.loads((root.parent / 'nbs/04_learner.ipynb').read_text(encoding='utf-8'))['cells']
    text = next(''.join(c['source']) for c in cells if ''.join(c['source']).startswith('## Contracts'))
    refs, file = [], None
    for f, name in re.findall(r'`(test_\w+\.py)?::(test_\w+)', text):
        file = f or file
        refs.append((file, name))
    assert len(refs) >= 25  # the section names 29 today
    missing = [(f, n) for f, n in refs if not re.search(rf'^def {n}\(', (root / f).read_text(), re.M)]
    assert not missing, f"the Contracts name tests that do not exist: {missing}"

def _line_learner(lr):
    x, y = line(40)
    a = param()
    return Learner(lambda x: x@a, x, y, params=[a], lr=lr, bs=10, seed=0)

@pytest.mark.parametrize('first', ['number', 'schedule'])
@pytest.mark.parametrize('then', ['number', 'schedule'])
def test_learn_lr_set_between_fits_is_what_the_next_fit_runs(first, then):
    "A schedule set between fits replaces the number or the schedule before it; a number replaces a schedule"
    lrs = {'number': (0.1, 0.01), 'schedule': (sched_lin(0.1, 0.2), sched_lin(0.01, 0.02))}
    learn = _line_learner(lrs[first][0])
    learn.fit(1)
    learn.lr = new = lrs[then][1]
    h = learn.fit(1)
    if then == 'number': assert (h.lr, h.lrs, learn.opt.lr) == (0.01, [], 0.01)
    else: assert h.lr is None and h.lrs == [new(i / 4) for i in range(4)] and learn.opt.lr == new(3 / 4)
    assert sum(isinstance(c, ParamScheduler) for c in learn.cbs) == (then == 'schedule')

def test_learn_lr_is_checked_when_set():
    learn = _line_learner(0.1)
    with pytest.raises(ValueError, match='lr=0 must be a positive'): learn.lr = 0
    assert learn.lr == 0.1

def test_ones_own_param_scheduler_follows_learn_lr():
    "A ParamScheduler for momentum only takes the lr schedule from learn.lr, at each fit"
    x, y = line(40)
    a = param()
    learn = Learner(lambda x: x@a, x, y, params=[a], lr=0.1, bs=10, seed=0, opt_func=partial(SGD, mom=0.9),
                    cbs=[ParamScheduler({'mom': sched_lin(0.95, 0.85)})])
    learn.fit(1)
    learn.lr = s = sched_lin(0.01, 0.02)
    h = learn.fit(1)
    assert h.lrs == [s(i / 4) for i in range(4)] and sum(isinstance(c, ParamScheduler) for c in learn.cbs) == 1

def test_fit_leaves_each_layer_in_the_mode_it_found_it_in():
    "A Dropout (or a frozen BatchNorm) put in eval mode by hand is in eval mode again after fit, validation included"
    x, y = line(40)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 1))
    for frozen in ([1, 2], []):
        model.train()
        for i in frozen: model[i].eval()
        before = [m.training for m in model.modules()]
        fit(model, x, y[:, None], lr=0.01, bs=10, epochs=2, valid=(x, y[:, None]))
        assert [m.training for m in model.modules()] == before
    model.eval()
    fit(model, x, y[:, None], lr=0.01, bs=10, epochs=1)
    assert not any(m.training for m in model.modules())

def test_every_layer_trains_in_train_mode_validates_in_eval_mode_and_is_restored_after_a_failure():
    x, y = line(40)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    model.eval()
    seen = []
    class Modes(Callback):
        def after_loss(self, learn): seen.append(('train', all(m.training for m in learn.model.modules())))
        def before_validate(self, learn): seen.append(('valid', any(m.training for m in learn.model.modules())))
    fit(model, x, y[:, None], lr=0.01, bs=20, epochs=1, valid=(x, y[:, None]), cbs=[Modes()])
    assert seen == [('train', True), ('train', True), ('valid', False)]
    class Boom(Exception): pass
    with pytest.raises(Boom): fit(model, x, y[:, None], lr=0.01, bs=20, epochs=1, cbs=[Raise('after_loss', Boom(), 1)])
    assert not any(m.training for m in model.modules())

def test_a_param_scheduler_for_lr_leaves_hist_lr_empty():
    "lr=0.1 with a ParamScheduler that schedules lr: the History must not say lr=0.1, which no step used"
    x, y = line(40)
    a = param()
    s = sched_lin(0.01, 0.02)
    h = fit(lambda x: x@a, x, y, params=[a], lr=0.1, bs=10, epochs=1, cbs=[ParamScheduler({'lr': s})])
    assert h.lr is None and h.lrs == [s(i / 4) for i in range(4)] and 'lr scheduled 0.01 to 0.0175' in repr(h)

def test_fit_2_then_2_is_fit_4_with_torchs_dataloader_too():
    "torch's DataLoader as x, shuffled by its own generator: the second fit goes on with the next epochs' orders"
    from torch.utils.data import DataLoader as TorchDL, TensorDataset
    x, y = linear_data(64, seed=0)
    def run(fits):
        torch.manual_seed(0)  # only for the layer's initial weights
        model = nn.Linear(2, 1)
        dl = TorchDL(TensorDataset(x, y[:, None]), batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(2))
        learn = Learner(model, dl, lr=0.05, opt_func=partial(SGD, mom=0.9))
        return [l for n in fits for l in learn.fit(n).loss], [p.detach().clone() for p in model.parameters()]
    (l4, p4), (l22, p22) = run([4]), run([2, 2])
    assert l4 == l22 and all(torch.equal(a, b) for a, b in zip(p4, p22))
    assert run([2])[0] != run([2, 2])[0][8:]  # the third and fourth epochs are not the first two again

def test_a_fit_that_fails_before_it_starts_restores_no_modes_of_an_earlier_fit():
    "Fit 1 found the model in eval mode; fit 2, with the model in train mode, fails in an early before_fit"
    x, y = line(40)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    class Early(Callback):
        order, fail = -50, False  # before TrainEvalCallback's before_fit
        def before_fit(self, learn):
            if self.fail: raise RuntimeError('no')
    early = Early()
    learn = Learner(model, x, y[:, None], lr=0.01, bs=20, cbs=[early])
    model.eval()
    learn.fit(1)
    model.train()
    early.fail = True
    with pytest.raises(RuntimeError, match='no'): learn.fit(1)
    assert all(m.training for m in model.modules())

def test_learn_lr_changed_at_every_fit():
    "A number, then two schedules, then a number: each fit runs the lr it was given, with one ParamScheduler at most"
    s1, s2 = sched_lin(0.1, 0.2), sched_lin(0.01, 0.02)
    learn = _line_learner(0.1)
    for lr in (s1, s2, 0.01):
        learn.lr = lr
        h = learn.fit(1)
        assert h.lrs == ([] if lr == 0.01 else [lr(i / 4) for i in range(4)])
        assert sum(isinstance(c, ParamScheduler) for c in learn.cbs) == (lr != 0.01)
