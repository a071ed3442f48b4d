"""Values checked against numbers worked out by hand: derived History values, the demo's step arithmetic,
the metrics' argument order and `sgd_step`'s zeroing. Each test here was written to kill a planted one-line bug
(see tests/README.md, mutation testing)."""
import math, re
import pytest
import torch
from torch import nn
from PIL import Image
from sgdlab import DataLoader, History, Learner, batch_accuracy, fit, linear_data, mnist_loss, mse, sgd_step
from sgdlab.cli import main

# --- History.epoch_loss ---------------------------------------------------------------------------

@pytest.mark.parametrize('k, want', [
    (1, [1., 2., 3., 4., 5., 6.]),
    (2, [1.5, 3.5, 5.5]),   # the last epoch is steps 4 and 5
    (3, [2., 5.]),
    (6, [3.5]),
])
def test_epoch_loss_by_hand(k, want):
    assert History(loss=[1., 2., 3., 4., 5., 6.], steps_per_epoch=k).epoch_loss == want

def test_epoch_loss_of_a_real_fit_includes_the_last_epoch():
    x, y = linear_data(10, seed=0)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=3, bs=4, seed=0)
    assert hist.steps_per_epoch == 3 and len(hist.loss) == 9   # batches of 4, 4 and 2
    l = hist.loss
    want = [(l[0] + l[1] + l[2]) / 3, (l[3] + l[4] + l[5]) / 3, (l[6] + l[7] + l[8]) / 3]
    assert hist.epoch_loss == pytest.approx(want, rel=1e-12)

def test_epoch_loss_of_an_empty_history(): assert History().epoch_loss == []

def test_epoch_loss_of_a_partial_last_epoch():
    "A History without epoch_spans leaves a partial epoch out; a fit's has it, as it has its validation (issue 20 §2)"
    assert History(loss=[1., 2., 3., 4., 5., 6., 7.], steps_per_epoch=3).epoch_loss == [2., 5.]
    x, y = linear_data(10, seed=0)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.1, steps=7, bs=4, seed=0)   # 2 epochs of 3 steps, then 1 step
    assert len(hist.loss) == 7 and hist.epoch_loss == pytest.approx(
        [sum(hist.loss[:3]) / 3, sum(hist.loss[3:6]) / 3, hist.loss[6]], rel=1e-12)

# --- what History records by default ---------------------------------------------------------------

def _wide(n_in):
    "A model with exactly n_in + 1 parameters, and 4 examples for it"
    g = torch.Generator().manual_seed(0)
    return nn.Linear(n_in, 1), torch.randn(4, n_in, generator=g), torch.randn(4, 1, generator=g)

@pytest.mark.parametrize('n_params, recorded', [(10_000, True), (10_001, False)])
def test_record_params_default_at_its_boundary(n_params, recorded):
    model, x, y = _wide(n_params - 1)
    assert sum(p.numel() for p in model.parameters()) == n_params
    hist = fit(model, x, y, lr=0.01, epochs=2)
    assert (hist.param_steps, len(hist.params)) == (([0, 1], 2) if recorded else ([], 0))
    assert (hist.final_params is not None) == recorded
    hist = fit(model, x, y, lr=0.01, epochs=2, record_params=True)   # asked for: recorded whatever the size
    assert hist.param_steps == [0, 1]

def _line_fit(steps, **kw):
    x, y = linear_data(20, seed=1)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return fit(lambda x: x@a, x, y, params=[a], lr=0.1, steps=steps, **kw), x, y, a

@pytest.mark.parametrize('steps, want', [
    (1000, list(range(1000))),         # at the budget: every step
    (1001, list(range(0, 1001, 2))),   # one over: every other step, the first and the last kept
    (2500, list(range(0, 2500, 4))),
])
def test_snapshots_are_thinned_for_long_fits(steps, want):
    hist, x, y, a = _line_fit(steps)
    assert len(hist.loss) == steps and hist.param_steps == want
    for i in (0, len(want) // 2, -1):   # each kept snapshot produced the loss of its step
        assert mse(x@hist.params[i][0], y).item() == pytest.approx(hist.loss[hist.param_steps[i]], rel=1e-5)
    assert torch.equal(hist.final_params[0], a.detach())

def test_record_params_true_keeps_every_step_of_a_long_fit():
    hist, *_ = _line_fit(1001, record_params=True)
    assert hist.param_steps == list(range(1001))

# --- the CLI's step arithmetic --------------------------------------------------------------------

def _reference(n, bs, steps, seed=42, lr=0.1):
    "The demo's run written out by hand: exactly `steps` minibatch steps from a = (-1, 1), shuffled like `fit`"
    x, y = linear_data(n, seed=seed)
    a = torch.tensor([-1., 1.], requires_grad=True)
    dl = DataLoader((x, y), bs=bs, shuffle=True, seed=seed) if bs else None
    done = 0
    while done < steps:
        for xb, yb in (dl if dl else [(x, y)]):
            if done == steps: break
            loss = ((xb@a - yb)**2).mean()
            loss.backward()
            with torch.no_grad(): a -= lr * a.grad
            a.grad = None
            done += 1
    return a.detach()

def _demo(tmp_path, capsys, *args):
    out = tmp_path/'fit.gif'
    assert main(['demo', *args, '--out', str(out)]) == 0
    text = capsys.readouterr().out
    m = re.search(r'after (\d+) steps: a = \((-?[\d.]+), (-?[\d.]+)\)', text)
    assert m, text
    with Image.open(out) as im: frames = im.n_frames
    return int(m[1]), torch.tensor([float(m[2]), float(m[3])]), frames, text

@pytest.mark.parametrize('n, bs, steps', [
    (20, 6, 7),     # 4 batches per epoch; 7 is not a multiple of 4
    (100, 10, 3),   # fewer steps than batches in one epoch
    (20, 20, 5),    # --bs equal to --n: one batch per epoch, the full batch
    (30, 7, 12),    # 5 batches per epoch, the last one short
])
def test_demo_makes_exactly_the_steps_asked_for(n, bs, steps, tmp_path, capsys):
    done, a, frames, text = _demo(tmp_path, capsys, '--n', str(n), '--bs', str(bs), '--steps', str(steps))
    assert done == steps and frames == steps + 1, text   # a frame before each step, and one where training ended
    torch.testing.assert_close(a, _reference(n, bs, steps), atol=1e-4, rtol=0)

def test_demo_bs_equal_to_n_is_full_batch_gd(tmp_path, capsys):
    _, a_mini, _, _ = _demo(tmp_path, capsys, '--n', '20', '--bs', '20', '--steps', '5')
    _, a_full, _, _ = _demo(tmp_path, capsys, '--n', '20', '--steps', '5')
    torch.testing.assert_close(a_mini, a_full, atol=1e-4, rtol=0)
    torch.testing.assert_close(a_full, _reference(20, None, 5), atol=1e-4, rtol=0)

def test_demo_prints_every_tenth_step(tmp_path, capsys):
    *_, text = _demo(tmp_path, capsys, '--steps', '25')
    assert re.findall(r'^step +(\d+):', text, re.M) == ['0', '10', '20']

# --- metrics: their own unit tests, with arguments that tell preds from targets ----------------

PREDS = torch.tensor([[3.], [2.], [0.5], [-0.5]])
TARGS = torch.tensor([[1.], [1.], [0.], [0.]])

def _sig(v): return 1 / (1 + math.exp(-v))

def test_batch_accuracy_by_hand():
    # sigmoid > 0.5 means "the first digit" (label 1): right, right, wrong, right
    assert batch_accuracy(PREDS, TARGS).item() == 0.75
    assert batch_accuracy(TARGS, PREDS).item() != 0.75   # swapped arguments give another number

def test_mnist_loss_by_hand():
    want = ((1 - _sig(3)) + (1 - _sig(2)) + _sig(0.5) + _sig(-0.5)) / 4
    assert mnist_loss(PREDS, TARGS).item() == pytest.approx(want, abs=1e-6)
    assert mnist_loss(TARGS, PREDS).item() != pytest.approx(want, abs=1e-3)

def test_metrics_at_the_decision_boundary():
    # an output of exactly 0 is sigmoid 0.5: not "> 0.5", so it predicts label 0
    assert batch_accuracy(torch.tensor([0.]), torch.tensor([0.])).item() == 1
    assert batch_accuracy(torch.tensor([0.]), torch.tensor([1.])).item() == 0
    assert mnist_loss(torch.tensor([0.]), torch.tensor([1.])).item() == 0.5

# --- sgd_step zeroes the gradients ---------------------------------------------------------------

def test_sgd_step_updates_and_zeroes_gradients():
    a = torch.tensor([1., 2.], requires_grad=True)
    (a * a).sum().backward()                      # grad 2a = (2, 4)
    sgd_step([a], 0.1)
    assert a.tolist() == pytest.approx([0.8, 1.6])
    assert a.grad is None or torch.all(a.grad == 0), a.grad
    (a * a).sum().backward()                      # a fresh gradient, not added to the old one
    assert a.grad.tolist() == pytest.approx([1.6, 3.2])

def test_sgd_step_on_several_tensors():
    a, b = torch.tensor([1.], requires_grad=True), torch.tensor([[2., -1.]], requires_grad=True)
    (3 * a.sum() + (b * b).sum()).backward()      # grads 3 and 2b
    sgd_step([a, b], 0.5)
    assert a.tolist() == [-0.5] and b.tolist() == [[0., 0.]]
    for p in (a, b): assert p.grad is None or torch.all(p.grad == 0)

# --- an error raised during training is the one the user sees ------------------------------------------

def test_an_error_in_training_is_not_replaced_by_a_pending_divergence():
    "The loss goes non-finite at step 1 (not yet checked: losses are checked every 16 steps), then a callback fails at step 3"
    from sgdlab import Callback
    class Boom(Callback):
        def after_batch(self, learn):
            if learn.step == 3: raise RuntimeError('boom at step 3')
    x, y = linear_data(8, seed=0)
    y[1] = math.inf                                    # the second minibatch's loss is inf ...
    a = nn.Parameter(torch.tensor([-1., 1.]))
    learn = Learner(lambda x: x@a, DataLoader((x, y), bs=1), params=[a], lr=0.1, cbs=[Boom()])   # a DataLoader is not checked up front
    with pytest.raises(RuntimeError, match='boom at step 3'): learn.fit(epochs=1)
    assert len(learn.hist.loss) == 4 and math.isinf(learn.hist.loss[1])   # the steps so far are still recorded

# --- History's table in a notebook: long fits show the first and last 10 epochs -----------------------------

@pytest.mark.parametrize('epochs, shown', [
    (20, [str(e) for e in range(20)]),                                          # 20 epochs: all of them
    (21, [str(e) for e in range(10)] + ['…'] + [str(e) for e in range(11, 21)]),  # one more: the middle one gives way
])
def test_history_table_rows(epochs, shown):
    md = History(loss=[float(i) for i in range(epochs)], steps_per_epoch=1)._repr_markdown_()
    rows = [l for l in md.splitlines() if l.startswith('| ')][2:]   # after the header and its rule
    assert [r.split(' | ')[0][2:] for r in rows] == shown

# --- more hand-checked values, each written for a mutant that survived `make mutate` ------------------------

def test_dataloader_defaults_and_repr():
    x, y = linear_data(130, seed=0)
    assert [len(xb) for xb, _ in DataLoader((x, y))] == [64, 64, 2]          # bs defaults to 64, like fastai's
    assert repr(DataLoader((x, y), bs=10)) == "DataLoader(n=130, bs=10, shuffle=False, drop_last=False: 13 batches)"
    assert repr(DataLoader((x, y), bs=10, rank=1, world_size=2)).endswith(", rank=1 of 2: 13 batches)")

def test_divergence_records_losses_up_to_the_first_non_finite_one():
    "Losses are checked in groups (every 16 steps and at each epoch's end): the History still stops AT the first bad one"
    x, y = linear_data(20, seed=0)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    calls = []
    def loss_func(p, t):   # the 4th step's loss is inf; the steps after it (same group of 16) would be nan
        calls.append(1)
        return mse(p, t) * (math.inf if len(calls) == 4 else 1.)
    from sgdlab import DivergenceError
    with pytest.raises(DivergenceError) as e: fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=1, bs=2, loss_func=loss_func)
    l = e.value.hist.loss
    assert len(calls) > 4 and len(l) == 4 and math.isinf(l[-1]) and all(math.isfinite(v) for v in l[:-1])
    assert "at step 3" in str(e.value) and e.value.hist.param_steps == [0, 1, 2, 3]

def test_long_fits_are_quiet_in_tests(capsys):
    "No progress bar outside a notebook or terminal (here IN_TEST is set, as in CI logs)"
    x, y = linear_data(20, seed=0)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    fit(lambda x: x@a, x, y, params=[a], lr=0.1, steps=600)
    assert capsys.readouterr().out == ''


# --- issue 20 (edges): History by hand, at its boundaries -------------------------------------------------------------

def test_history_defaults_to_one_step_per_epoch():
    from sgdlab import History
    assert History(loss=[1., 3.]).epoch_loss == [1., 3.] and History(loss=[1., 3.], steps_per_epoch=2).epoch_loss == [2.]


def test_history_path_at_its_boundaries():
    "One snapshot of two parameters: indices 0, 1, -1, -2 work; 2 and -3 are named errors"
    import pytest, torch
    from sgdlab import History
    h = History(loss=[1.], params=[(torch.tensor([1., 2.]), torch.tensor([3.]))])
    assert h.path(0).tolist() == [[1., 2.]] and h.path(1).tolist() == [[3.]]
    assert h.path(-1).tolist() == [[3.]] and h.path(-2).tolist() == [[1., 2.]]
    for i in (2, -3):
        with pytest.raises(IndexError, match=f'i={i} is out of range: this History records 2 parameters, so i is 0 to 1'):
            h.path(i)


def test_history_keeps_given_param_steps():
    "Snapshot steps given (a thinned record) are kept; only missing ones are numbered 0, 1, ..."
    import torch
    from sgdlab import History
    t = (torch.zeros(1),)
    assert History(loss=[0.] * 9, params=[t, t], param_steps=[0, 8]).param_steps == [0, 8]
    assert History(loss=[0.] * 9, params=[t, t]).param_steps == [0, 1]


def test_history_summary_line_by_value():
    "One step an epoch: the first and last loss; several: epoch means; a fit shorter than one epoch: single losses"
    from sgdlab import History
    assert repr(History(loss=[4., 2.], lr=0.1)) == 'History(2 steps, loss 4.0000 -> 2.0000, lr=0.1, bs=None)'
    assert repr(History(loss=[4., 2., 1.5, .5], steps_per_epoch=2, lrs=[.1, .2, .3, .4], bs=5)) == \
        'History(4 steps, epoch-mean loss 3.0000 -> 1.0000, lr scheduled 0.1 to 0.4, bs=5)'
    assert repr(History(loss=[4., 2.], steps_per_epoch=3, lr=0.1, stopped='cancelled')) == \
        'History(2 steps, loss 4.0000 -> 2.0000, lr=0.1, bs=None, stopped: cancelled)'


def test_history_table_by_value():
    "The markdown table: one row per epoch; a metric recorded for fewer epochs leaves its cells out"
    from sgdlab import History
    h = History(loss=[4., 2., 1.5, .5], steps_per_epoch=2, valid_loss=[3., 1.], metrics={'acc': [0.5]}, lr=0.1, bs=5)
    assert h._repr_markdown_().split('\n\n')[1] == ('| epoch | train loss | valid loss | acc |\n| --- | --- | --- | --- |\n'
                                                  '| 0 | 3.0000 | 3.0000 | 0.5000 |\n| 1 | 1.0000 | 1.0000 |')
    h = History(loss=[4., 2.], metrics={'acc': []})
    assert h._repr_markdown_().split('\n\n')[1] == '| epoch | train loss | acc |\n| --- | --- | --- |\n| 0 | 4.0000 |\n| 1 | 2.0000 |'


def test_history_table_of_a_long_fit_keeps_its_width():
    from sgdlab import History
    rows = History(loss=[float(i) for i in range(30)], valid_loss=[1.] * 30)._repr_markdown_().split('\n\n')[1].split('\n')
    assert len(rows) == 2 + 21 and rows[12] == '| … | … | … |' and rows[2].startswith('| 0 |') and rows[-1].startswith('| 29 |')
    rows = History(loss=[float(i) for i in range(30)], metrics={'acc': []})._repr_markdown_().split('\n\n')[1].split('\n')
    assert rows[12] == '| … | … | … |'   # as wide as the header, not as the first row (which has no acc yet)
