"What the training loop promises a callback and a user (issue 20): cancels, add_cb/remove_cb, state across fits, interop."
import pytest, torch
from torch import nn
from sgdlab import (SGD, Callback, CancelBatchException, CancelStepException, EarlyStoppingCallback, Learner, Recorder,
                    ValidateCallback, fit, linear_data, mse)

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
