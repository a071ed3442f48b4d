"""The History stays aligned with what ran (issue 20 §2): one lr and one snapshot index per recorded loss, one entry in
every per-epoch list per epoch that ran to its end, whatever was cancelled; and an interrupted lr_find says so."""
import pytest, torch
from torch import nn
from sgdlab import (Callback, CancelBatchException, CancelEpochException, CancelFitException, CancelStepException,
                    DivergenceError, History, Learner, fit, linear_data, lr_find, mae, mse, sched_lin)

def line(n=16, seed=0): return linear_data(n, seed=seed)
def param(): return nn.Parameter(torch.tensor([-1., 1.]))

class At(Callback):
    "Raise `exc` at `event` when `when(learn)` holds"
    def __init__(self, event, exc, when): self.exc, self.when = exc, when; setattr(self, event, self._maybe)
    def _maybe(self, learn):
        if self.when(learn): raise self.exc

def run(cbs, epochs=None, steps=None, lr=0.1, bs=4, valid=True, record_params=None):
    x, y = line()
    a = param()
    kw = dict(valid=(x, y), metrics=[mae]) if valid else {}
    return fit(lambda x: x@a, x, y, params=[a], lr=lr, bs=bs, epochs=epochs, steps=steps, seed=1, cbs=cbs,
               record_params=record_params, **kw)

def test_cancel_batch_keeps_one_lr_per_loss_and_one_epoch_loss_per_epoch():
    "CancelBatch on every other batch, 4 epochs of 4 steps: 8 losses, 8 lrs (those of steps 0, 2, ...), 4 epoch losses"
    sched = sched_lin(0.1, 0.01)
    h = run([At('before_batch', CancelBatchException, lambda l: l.step % 2)], epochs=4, lr=sched)
    assert len(h.loss) == len(h.lrs) == 8
    assert h.lrs == [sched(s / 16) for s in range(0, 16, 2)]
    assert h.epoch_spans == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert h.epoch_loss == [(h.loss[i] + h.loss[i+1]) / 2 for i in range(0, 8, 2)]
    assert len(h.valid_loss) == len(h.metrics['mae']) == 4

def test_snapshots_index_the_loss_they_produced():
    "Full batch, every other step cancelled: params[i] are the parameters that gave loss[param_steps[i]]"
    x, y = line()
    h = run([At('before_batch', CancelBatchException, lambda l: l.step % 2)], epochs=6, bs=None, valid=False,
            record_params=True)
    assert h.param_steps == [0, 1, 2] and len(h.loss) == 3
    for ps, i in zip(h.params, h.param_steps): assert mse(x@ps[0], y).item() == h.loss[i]

def test_a_batch_cancelled_after_its_loss_keeps_loss_and_lr():
    "Cancelled in after_backward (after the Recorder): the loss was computed, so it and its lr are recorded"
    h = run([At('after_backward', CancelBatchException, lambda l: l.step == 1)], epochs=1, lr=sched_lin(0.1, 0.01))
    assert len(h.loss) == len(h.lrs) == 4

def test_cancel_step_records_the_loss_and_the_lr():
    h = run([At('before_step', CancelStepException, lambda l: l.step % 2 == 0)], epochs=2, lr=sched_lin(0.1, 0.01))
    assert len(h.loss) == len(h.lrs) == 8 and len(h.epoch_loss) == 2

def test_an_epoch_cancelled_before_it_starts_is_neither_trained_nor_validated():
    "Cancelling epoch 1 of 3 in before_epoch gives exactly the run of 2 epochs: nothing was trained, nothing recorded"
    h = run([At('before_epoch', CancelEpochException, lambda l: l.epoch == 1)], epochs=3)
    h2 = run([], epochs=2)
    assert h.loss == h2.loss and h.valid_loss == h2.valid_loss and h.metrics == h2.metrics
    assert h.epoch_loss == h2.epoch_loss and len(h.valid_loss) == 2

def test_an_epoch_cancelled_midway_is_in_no_per_epoch_list():
    "Epoch 1 cancelled after 2 of its 4 steps: its 2 losses stay in `loss`, but it has no epoch loss, no validation"
    h = run([At('after_batch', CancelEpochException, lambda l: l.step == 5)], epochs=3)
    assert len(h.loss) == 10 and h.epoch_spans == [(0, 4), (6, 10)]
    assert len(h.epoch_loss) == len(h.valid_loss) == len(h.metrics['mae']) == 2
    assert h.epoch_loss[1] == pytest.approx(sum(h.loss[6:10]) / 4)

def test_steps_ending_inside_an_epoch_give_that_epoch_an_entry_everywhere():
    h = run([], steps=6)
    assert h.epoch_spans == [(0, 4), (4, 6)] and len(h.valid_loss) == 2
    assert h.epoch_loss == [pytest.approx(sum(h.loss[:4]) / 4), pytest.approx(sum(h.loss[4:6]) / 2)]
    assert h._repr_markdown_().count('\n| 1 |') == 1  # the table shows the partial epoch

def test_cancel_fit_midway_leaves_the_partial_epoch_out():
    h = run([At('after_batch', CancelFitException, lambda l: l.step == 5)], epochs=3)
    assert len(h.loss) == 6 and h.epoch_spans == [(0, 4)] and len(h.valid_loss) == 1 and h.stopped == 'cancelled'

def test_a_diverged_fit_keeps_one_lr_per_loss():
    x, y = line()
    a = param()
    with pytest.raises(DivergenceError) as e:
        fit(lambda x: x@a, x, y, params=[a], lr=sched_lin(50., 60.), bs=4, epochs=20, seed=1)
    h = e.value.hist
    assert len(h.lrs) == len(h.loss) and not torch.tensor(h.loss[-1]).isfinite()

def test_epoch_spans_survive_save_and_load(tmp_path):
    h = run([At('after_batch', CancelEpochException, lambda l: l.step == 5)], epochs=3)
    h2 = History.load(h.save(tmp_path / 'h.pt'))
    assert h2.epoch_spans == h.epoch_spans and h2.epoch_loss == h.epoch_loss
    assert History(loss=[1., 2., 3., 4.], steps_per_epoch=2).epoch_loss == [1.5, 3.5]  # without spans: by steps

def test_an_interrupted_lr_find_raises_after_restoring_the_parameters():
    "Ctrl-C in the sweep: no result that looks complete; the parameters are back as they were"
    x, y = line(64)
    model = nn.Linear(2, 1)
    with torch.no_grad(): model.weight.copy_(torch.tensor([[0.5, -0.5]])); model.bias.zero_()   # not the global RNG's
    before = [p.detach().clone() for p in model.parameters()]
    class CtrlC(Callback):
        def after_batch(self, learn):
            if learn.step == 9: raise KeyboardInterrupt
    import sgdlab.schedule as S
    orig = S.Learner
    class L(orig):
        def __init__(self, *a, cbs=(), **k): super().__init__(*a, cbs=[*cbs, CtrlC()], **k)
    S.Learner = L
    try:
        with pytest.raises(KeyboardInterrupt, match=r'interrupted after 10 of num_it=100 steps.*restored'):
            lr_find(model, x, y[:, None], bs=8, seed=0, stop_div=False)   # batch noise must not end the sweep first
    finally: S.Learner = orig
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))

@pytest.mark.parametrize('exc', [CancelEpochException, CancelFitException, KeyboardInterrupt])
def test_an_exception_that_skips_after_batch_still_leaves_one_lr_per_loss(exc):
    "Raised in after_step, after the loss was recorded: after_batch is skipped, yet the lr of that loss is kept"
    h = run([At('after_step', exc, lambda l: l.step == 5)], epochs=3, lr=sched_lin(0.1, 0.01))
    assert len(h.loss) == len(h.lrs) and h.lrs[5] == sched_lin(0.1, 0.01)(5 / 12)

def test_the_first_step_checks_run_on_the_first_batch_that_is_not_cancelled():
    "Batch 0 cancelled before its loss: the checks of the first step run on batch 1 instead of never"
    x, y = line()
    a, unused = param(), nn.Parameter(torch.zeros(1))
    skip0 = At('before_batch', CancelBatchException, lambda l: l.step == 0)
    with pytest.warns(UserWarning, match='does not depend on parameter 1'):
        fit(lambda x: x@a, x, y, params=[a, unused], lr=0.1, bs=4, epochs=1, cbs=[skip0])
    with pytest.raises(ValueError, match='returned a tensor of shape'):
        fit(lambda x: x@a, x, y, params=[a], lr=0.1, bs=4, epochs=1, cbs=[skip0], loss_func=lambda p, t: (p - t) ** 2)
