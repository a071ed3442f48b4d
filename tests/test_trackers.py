"""Trackers (issue 20 §1): which way is better, what an epoch scores, and the arguments they refuse.
Each test checks numbers worked out by hand or recomputed from the History, not only that a fit ran."""
import math, operator
import numpy as np
import pytest
import torch
from torch import nn
from sgdlab import (Callback, CancelEpochException, EarlyStoppingCallback, SaveModelCallback, TrackerCallback, fit,
                    linear_data, mae, mse, rmse)

def line(slope, n=20, seed=0):
    "x in [-1, 1] with a column of ones, and y = slope * x[:, 0] exactly"
    x, _ = linear_data(n, seed=seed)
    return x, slope * x[:, 0]

def walk(*cbs, epochs=6, metrics=(), lr=0.05, **kw):
    """`a` walks from 0 towards the training slope 2; the validation slope is 1, so every validation number
    falls until `a` passes 1 and then rises. Returns the parameter and the History."""
    a = nn.Parameter(torch.zeros(2))
    h = fit(lambda x: x@a, *line(2.), params=[a], lr=lr, epochs=epochs, valid=line(1., seed=1), metrics=metrics,
            cbs=cbs, **kw)
    return a, h

def scripted(values):
    "A metric that returns `values` one epoch at a time, whatever the model does"
    it = iter(values)
    return lambda preds, targs: next(it)

class Seen(TrackerCallback):
    "Records what the tracker scores each epoch"
    def before_fit(self, learn): super().before_fit(learn); self.vals = []
    def after_epoch(self, learn): self.vals.append(self.value(learn))

# --- the direction -----------------------------------------------------------------------------------------

def test_walk_turns_up():
    "The fixture itself: the validation mae falls, then rises, so the best epoch is inside the run"
    _, h = walk(metrics=[mae], epochs=30, lr=0.2)
    best = int(np.argmin(h.metrics['mae']))
    assert 0 < best < 29 and h.metrics['mae'][-1] > h.metrics['mae'][best] + 0.05

@pytest.mark.parametrize('metric', [mae, mse, rmse])
def test_save_model_keeps_the_lowest_of_sgdlabs_metrics(metric):
    "sgdlab's mse, mae and rmse are minimised: the restored weights are those of the smallest value recorded"
    saver = SaveModelCallback(metric.__name__)
    a, h = walk(saver, metrics=[metric], epochs=30, lr=0.2)
    vals = h.metrics[metric.__name__]
    assert saver.best_epoch == int(np.argmin(vals)) and saver.best == min(vals)
    xv, yv = line(1., seed=1)
    assert metric(xv@a, yv).item() == pytest.approx(min(vals), rel=1e-6)
    assert saver.lower_is_better and saver.comp is np.less

def test_early_stopping_on_error_rate_lets_an_improving_run_finish():
    "An error rate that keeps falling never stops the run (the old rule maximised it and stopped after epoch 1)"
    def error_rate(preds, targs): return (preds - targs).abs().mean()
    _, h = walk(EarlyStoppingCallback('error_rate'), metrics=[error_rate], epochs=5, lr=0.02)
    assert h.stopped is None and len(h.metrics['error_rate']) == 5
    assert all(b < a for a, b in zip(h.metrics['error_rate'], h.metrics['error_rate'][1:]))

def test_accuracy_like_names_are_maximised():
    stop = EarlyStoppingCallback('accuracy')
    _, h = walk(stop, metrics={'accuracy': scripted([0.5, 0.6, 0.55, 0.7])}, epochs=4)
    assert h.stopped == 'early stop' and len(h.metrics['accuracy']) == 3
    assert (stop.best, stop.best_epoch, stop.lower_is_better) == (0.6, 1, False)

@pytest.mark.parametrize('comp, best', [(np.less, 0), (np.greater, 1), (operator.lt, 0), (operator.gt, 1),
                                        (lambda a, b: a > b, 1)])
def test_comp_decides(comp, best):
    "comp= overrides the name, whatever function it is; the saver keeps the epoch that comp prefers"
    saver = SaveModelCallback('score', comp=comp)
    walk(saver, metrics={'score': scripted([1., 3., 2.])}, epochs=3)
    assert saver.best_epoch == best

def test_comp_overrides_a_name_that_says_lower():
    "A loss you want to *maximise* (odd, but yours to ask for)"
    saver = SaveModelCallback('valid_loss', comp=np.greater)
    _, h = walk(saver, metrics=[mae], epochs=30, lr=0.2)
    assert saver.best_epoch == int(np.argmax(h.valid_loss))

# --- min_delta, by value --------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, vals, delta, patience, stopped, best', [
    ('err', [1.0, 0.95, 0.93, 0.80], 0.06, 2, None, (0.80, 3)),        # 0.95 is not 0.06 better; 0.93 is
    ('err', [1.0, 0.95, 0.93, 0.80], 0.06, 1, 'early stop', (1.0, 0)),  # the first small step stops it
    ('err', [1.0, 0.95, 0.93, 0.80], 0.04, 2, None, (0.80, 3)),         # 0.05 better counts at 0.04; 0.02 not
    ('acc', [0.5, 0.54, 0.57, 0.6], 0.05, 2, None, (0.57, 2)),          # higher is better: the same, mirrored
    ('acc', [0.5, 0.54, 0.57, 0.6], 0.05, 1, 'early stop', (0.5, 0)),
    ('err', [1.0, 1.0, 1.0], 0.0, 2, 'early stop', (1.0, 0)),           # a tie is no improvement
])
def test_min_delta(name, vals, delta, patience, stopped, best):
    stop = EarlyStoppingCallback(name, min_delta=delta, patience=patience)
    _, h = walk(stop, metrics={name: scripted(vals)}, epochs=len(vals))
    assert h.stopped == stopped
    assert (stop.best, stop.best_epoch) == best

def test_patience_counts_epochs_since_the_best():
    stop = EarlyStoppingCallback('err', patience=3)
    _, h = walk(stop, metrics={'err': scripted([5, 4, 4.5, 4.2, 3, 3.1, 3.2, 3.3, 1])}, epochs=9)
    assert h.stopped == 'early stop' and len(h.metrics['err']) == 8 and (stop.best, stop.best_epoch) == (3, 4)

# --- what an epoch scores -------------------------------------------------------------------------------------

def test_a_partial_last_epoch_scores_its_own_mean():
    "steps=6 with 4 steps an epoch: the second epoch is scored by the mean of its 2 steps, not epoch 0's again"
    seen = Seen('train_loss')
    a = nn.Parameter(torch.zeros(2))
    h = fit(lambda x: x@a, *line(2., n=16), params=[a], lr=0.1, bs=4, seed=0, steps=6, cbs=[seen])
    assert len(h.loss) == 6 and len(h.epoch_loss) == 2  # the partial epoch is in every per-epoch list (issue 20 §2)
    assert seen.vals == [float(np.mean(h.loss[:4])), float(np.mean(h.loss[4:6]))]
    assert seen.vals == h.epoch_loss

def test_a_partial_epoch_that_is_best_is_kept():
    saver = SaveModelCallback('train_loss')
    a = nn.Parameter(torch.zeros(2))
    fit(lambda x: x@a, *line(2., n=16), params=[a], lr=0.1, bs=4, seed=0, steps=6, cbs=[saver])
    assert saver.best_epoch == 1

def test_steps_inside_the_first_epoch():
    seen = Seen('train_loss')
    a = nn.Parameter(torch.zeros(2))
    h = fit(lambda x: x@a, *line(2., n=16), params=[a], lr=0.1, bs=4, seed=0, steps=3, cbs=[seen])
    assert seen.vals == [float(np.mean(h.loss))]

class CancelEpoch(Callback):
    "Cancels the epochs in `which` before they start"
    def __init__(self, which): self.which = which
    def before_epoch(self, learn):
        if learn.epoch in self.which: raise CancelEpochException

def test_a_cancelled_epoch_is_not_scored():
    "No step ran in epoch 1: it neither improves nor counts against patience (the old code rescored epoch 0)"
    seen, stop = Seen('train_loss'), EarlyStoppingCallback('train_loss', patience=1)
    a = nn.Parameter(torch.zeros(2))
    h = fit(lambda x: x@a, *line(2., n=16), params=[a], lr=0.1, bs=4, seed=0, epochs=4,
            cbs=[CancelEpoch({1}), seen, stop])
    assert h.stopped is None and len(h.loss) == 12
    assert seen.vals == [float(np.mean(h.loss[:4])), None, float(np.mean(h.loss[4:8])), float(np.mean(h.loss[8:]))]
    assert stop.best_epoch == 3

def test_two_trackers_of_one_class_with_different_monitors():
    "Each keeps its own best: the lowest validation loss, and the highest of a metric where higher is better"
    by_loss, by_score = SaveModelCallback('valid_loss', restore=False), SaveModelCallback('score', comp=np.greater)
    _, h = walk(by_loss, by_score, metrics={'score': scripted([3., 1., 2., 0., 0., 0.])}, epochs=6)
    assert by_loss.best_epoch == int(np.argmin(h.valid_loss)) and by_score.best_epoch == 0
    assert by_loss.best_epoch != by_score.best_epoch

def test_a_second_fit_starts_afresh():
    "best and patience are per fit, as in fastai's reset_on_fit=True"
    stop = EarlyStoppingCallback('err', patience=1)
    walk(stop, metrics={'err': scripted([1., 2.])}, epochs=2)
    _, h = walk(stop, metrics={'err': scripted([5., 4., 3.])}, epochs=3)
    assert h.stopped is None and (stop.best, stop.best_epoch) == (3., 2)

def test_long_run_with_a_noisy_monitor():
    "300 epochs of a scripted noisy curve: the stop comes exactly `patience` epochs after the last new best"
    rng = np.random.default_rng(0)
    vals = list(np.maximum.accumulate(rng.random(300))[::-1] + rng.random(300) * 0.01)  # falls, with noise
    vals = [float(v) for v in vals]
    stop = EarlyStoppingCallback('err', patience=7, min_delta=0.001)
    _, h = walk(stop, metrics={'err': scripted(vals)}, epochs=300)
    best, wait, stopped_at = math.inf, 0, None
    for e, v in enumerate(vals):
        if v < best - 0.001: best, wait = v, 0
        else:
            wait += 1
            if wait >= 7: stopped_at = e; break
    assert stopped_at is not None and len(h.metrics['err']) == stopped_at + 1 and stop.best == best

# --- arguments refused when the callback is built -----------------------------------------------------------

@pytest.mark.parametrize('make, err, words', [
    (lambda: EarlyStoppingCallback(patience=-1), ValueError, ('patience=-1', '>= 1')),
    (lambda: EarlyStoppingCallback(patience=0), ValueError, ('patience=0',)),
    (lambda: EarlyStoppingCallback(patience='3'), ValueError, ("patience='3'", 'whole number')),
    (lambda: EarlyStoppingCallback(patience=2.5), ValueError, ('patience=2.5',)),
    (lambda: EarlyStoppingCallback(patience=True), ValueError, ('patience=True',)),
    (lambda: EarlyStoppingCallback(min_delta=math.nan), ValueError, ('min_delta=nan', 'finite')),
    (lambda: SaveModelCallback(min_delta=math.inf), ValueError, ('min_delta=inf',)),
    (lambda: TrackerCallback(min_delta=-0.1), ValueError, ('min_delta=-0.1', '>= 0')),
    (lambda: EarlyStoppingCallback(min_delta='0.1'), ValueError, ("min_delta='0.1'",)),
    (lambda: EarlyStoppingCallback(monitor=None), TypeError, ('monitor=None',)),
    (lambda: EarlyStoppingCallback(monitor=''), TypeError, ("monitor=''",)),
    (lambda: EarlyStoppingCallback('score'), ValueError, ("'score'", 'comp=np.less', 'comp=np.greater')),
    (lambda: EarlyStoppingCallback('acc_loss'), ValueError, ("'acc_loss'", 'comp=')),
    (lambda: EarlyStoppingCallback('valid_loss', 0.01), TypeError, ('comp=0.01', 'np.less')),
    (lambda: SaveModelCallback('valid_loss', 'best.pt'), TypeError, ("comp='best.pt'", 'fname by name')),
    (lambda: EarlyStoppingCallback(comp=lambda a, b: True), ValueError, ('no direction',)),
    (lambda: EarlyStoppingCallback(comp=torch.lt), TypeError, ('failed on two floats',)),
    (lambda: SaveModelCallback(fname=3), TypeError, ('fname=3',)),
    (lambda: SaveModelCallback(restore='no'), TypeError, ("restore='no'",)),
])
def test_bad_arguments_are_refused_at_construction(make, err, words):
    with pytest.raises(err) as e: make()
    for w in words: assert w in str(e.value)

def test_numpy_arguments_are_accepted():
    stop = EarlyStoppingCallback('err', patience=np.int64(2), min_delta=np.float32(0.5))
    assert stop.patience == 2 and type(stop.patience) is int and stop.min_delta == 0.5

def test_a_monitor_no_epoch_records_lists_what_is_recorded():
    with pytest.raises(ValueError, match=r"cannot monitor 'mae'; this fit records \['train_loss', 'valid_loss', 'acc'\]"):
        walk(EarlyStoppingCallback('mae'), metrics={'acc': scripted([1.] * 6)})

# --- non-default arguments, by value ----------------------------------------------------------------------------------

def test_restore_false_keeps_the_last_weights_and_remembers_the_best():
    saver = SaveModelCallback('mae', restore=False)
    a, h = walk(saver, metrics=[mae], epochs=30, lr=0.2)
    best = int(np.argmin(h.metrics['mae']))
    assert saver.best_epoch == best < 29
    xv, yv = line(1., seed=1)
    assert mae(xv@a, yv).item() == pytest.approx(h.metrics['mae'][-1], rel=1e-6)         # the last epoch's weights
    assert mae(xv@saver.weights[0], yv).item() == pytest.approx(min(h.metrics['mae']), rel=1e-6)  # the best, kept

def test_fname_holds_the_best_state_dict_of_a_module(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    saver = SaveModelCallback('valid_loss', fname=tmp_path/'best.pt', restore=False)
    xt, yt = line(2.); xv, yv = line(1., seed=1)
    h = fit(model, xt, yt[:, None], lr=0.2, epochs=30, valid=(xv, yv[:, None]), cbs=[saver])
    sd = torch.load(tmp_path/'best.pt', weights_only=True)
    assert set(sd) == {'weight', 'bias'}
    best = nn.Linear(2, 1); best.load_state_dict(sd)
    with torch.no_grad(): assert mse(best(xv), yv[:, None]).item() == pytest.approx(min(h.valid_loss), rel=1e-6)
    assert saver.best_epoch == int(np.argmin(h.valid_loss)) < 29

def test_min_delta_on_the_saver():
    "A later epoch that is better by less than min_delta does not replace the saved best"
    saver = SaveModelCallback('err', min_delta=0.1)
    walk(saver, metrics={'err': scripted([1.0, 0.95, 0.85, 0.84])}, epochs=4)
    assert (saver.best, saver.best_epoch) == (0.85, 2)

def test_a_monitor_that_never_improves_on_the_start(capsys):
    "NaN is never better than anything: no best epoch, nothing restored, and the message says so"
    stop, saver = EarlyStoppingCallback('err', patience=2), SaveModelCallback('err')
    a, h = walk(stop, saver, metrics={'err': scripted([math.nan] * 5)}, epochs=5)
    assert h.stopped == 'early stop' and len(h.metrics['err']) == 2
    assert stop.best_epoch is None and saver.best_epoch is None
    assert '(none improved)' in capsys.readouterr().out

def test_the_stop_message(capsys):
    walk(EarlyStoppingCallback('err', patience=2), metrics={'err': scripted([3., 2., 2.5, 2.1, 1.])}, epochs=5)
    assert capsys.readouterr().out == ("EarlyStoppingCallback: no improvement in err for 2 epochs; "
                                       "stopped after epoch 3 (best: epoch 1, 2.0000)\n")
