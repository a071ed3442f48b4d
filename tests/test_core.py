"Properties and cross-checks against PyTorch that don't belong in a lesson."
import math
from functools import partial
import numpy as np
import pytest
import torch
from torch import nn
from hypothesis import given, settings, strategies as st
from sgdlab import (DataLoader, DivergenceError, History, SGD, fit, least_squares, linear_data, mae, mse,
                    quadratic_data, rmse)

# --- data ---------------------------------------------------------------------------------------

@given(n=st.integers(1, 500), seed=st.integers(0, 2**31))
@settings(max_examples=30, deadline=None)
def test_linear_data_shapes_and_determinism(n, seed):
    x, y = linear_data(n, seed=seed)
    assert x.shape == (n, 2) and y.shape == (n,) and x.dtype == y.dtype == torch.float32
    assert torch.all(x[:, 1] == 1) and torch.all(x[:, 0] >= -1) and torch.all(x[:, 0] < 1)
    x2, y2 = linear_data(n, seed=seed)
    assert torch.equal(x, x2) and torch.equal(y, y2)

def test_linear_data_normal_noise_scale():
    x, y = linear_data(200_000, noise='normal', scale=0.5, seed=0)
    assert abs((y - x@torch.tensor([3., 2.])).std().item() - 0.5) < 0.005

def test_least_squares_matches_torch_lstsq_and_numpy():
    x, y = linear_data(300, seed=3)
    ours = least_squares(x, y)
    theirs = torch.linalg.lstsq(x, y[:, None]).solution[:, 0]
    np_sol = np.linalg.lstsq(x.numpy().astype(np.float64), y.numpy().astype(np.float64), rcond=None)[0]
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(ours.numpy(), np_sol, atol=1e-5)

def test_quadratic_data_is_seeded():
    assert torch.equal(quadratic_data(seed=1)[1], quadratic_data(seed=1)[1])
    with pytest.raises(ValueError, match='three numbers'): quadratic_data(a=(1., 2.))

# --- losses -------------------------------------------------------------------------------------

@given(n=st.integers(1, 50), seed=st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_losses_match_torch_values_and_gradients(n, seed):
    g = torch.Generator().manual_seed(seed)
    p, t = torch.randn(n, generator=g, requires_grad=True), torch.randn(n, generator=g)
    for ours, theirs in [(mse, nn.functional.mse_loss), (mae, nn.functional.l1_loss),
                         (rmse, lambda a, b: nn.functional.mse_loss(a, b).sqrt())]:
        torch.testing.assert_close(ours(p, t), theirs(p, t))
        torch.testing.assert_close(torch.autograd.grad(ours(p, t), p)[0], torch.autograd.grad(theirs(p, t), p)[0])

@pytest.mark.parametrize('loss', [mse, mae, rmse])
def test_losses_refuse_to_broadcast(loss):
    with pytest.raises(ValueError, match=rf"{loss.__name__}: predictions \(100, 1\) and targets \(100,\) differ in shape; use preds.squeeze\(-1\)"):
        loss(torch.zeros(100, 1), torch.zeros(100))
    with pytest.raises(ValueError, match=r"use targets.squeeze\(-1\)"): loss(torch.zeros(5), torch.zeros(5, 1))
    with pytest.raises(ValueError, match='reshape one'): loss(torch.zeros(5), torch.zeros(4))

def test_losses_accept_lists_and_arrays():
    assert mse([1., 3.], np.zeros(2)).item() == 5.

# --- DataLoader ---------------------------------------------------------------------------------

@given(n=st.integers(1, 300), bs=st.integers(1, 80), shuffle=st.booleans(), drop_last=st.booleans(), seed=st.integers(0, 99))
@settings(max_examples=80, deadline=None)
def test_every_index_once_per_epoch(n, bs, shuffle, drop_last, seed):
    x, y = torch.arange(n).float()[:, None], torch.arange(n)
    dl = DataLoader((x, y), bs=bs, shuffle=shuffle, drop_last=drop_last, seed=seed)
    for _ in range(2):
        batches = list(dl)
        assert len(batches) == len(dl)
        seen = torch.cat([yb for _, yb in batches]) if batches else torch.tensor([], dtype=torch.long)
        for xb, yb in batches: assert torch.equal(xb[:, 0].long(), yb) and len(yb) <= bs
        if drop_last:
            assert all(len(yb) == bs for _, yb in batches) and len(seen) == n // bs * bs
            assert len(set(seen.tolist())) == len(seen)
        else: assert sorted(seen.tolist()) == list(range(n))
        if not shuffle: assert seen.tolist() == list(range(len(seen)))

@given(n=st.integers(1, 60), bs=st.integers(1, 20), seed=st.integers(0, 99))
@settings(max_examples=30, deadline=None)
def test_item_datasets_match_tensor_datasets(n, bs, seed):
    items = [(i, chr(65 + i % 26)) for i in range(n)]
    got = [yb for yb, _ in DataLoader(items, bs=bs, shuffle=True, seed=seed)]
    want = [yb for _, yb in DataLoader((torch.zeros(n), torch.arange(n)), bs=bs, shuffle=True, seed=seed)]
    assert all(torch.equal(a, b) for a, b in zip(got, want)) and len(got) == len(want)

def test_dataloader_same_seed_same_orders_and_new_order_each_epoch():
    mk = lambda: DataLoader((torch.arange(100),), bs=10, shuffle=True, seed=7)
    d1, d2 = mk(), mk()
    e1, e2 = [torch.cat([b[0] for b in d1]) for _ in range(2)]
    assert not torch.equal(e1, e2)
    assert torch.equal(torch.cat([b[0] for b in d2]), e1)

@pytest.mark.parametrize('bs', [0, -3, 2.5, None])
def test_dataloader_bad_bs(bs):
    with pytest.raises(ValueError, match='positive whole number'): DataLoader((torch.zeros(3),), bs=bs)

def test_dataloader_unequal_lengths():
    with pytest.raises(ValueError, match=r'different lengths \[3, 4\]'): DataLoader((torch.zeros(3), torch.zeros(4)))

def test_dataloader_accepts_numpy_columns():
    xb, yb = next(iter(DataLoader((np.ones((5, 2)), np.arange(5)), bs=5)))
    assert isinstance(xb, torch.Tensor) and yb.tolist() == [0, 1, 2, 3, 4]

# --- fit ----------------------------------------------------------------------------------------

def _by_hand(x, y, a0, lr, steps):
    a = nn.Parameter(a0.clone())
    for _ in range(steps):
        loss = mse(x@a, y); loss.backward()
        with torch.no_grad(): a.add_(a.grad, alpha=-lr); a.grad.zero_()  # torch.optim.SGD's rounding (see 02_optim)
    return a.detach()

@given(n=st.integers(2, 200), lr=st.floats(1e-3, 0.5), steps=st.integers(1, 60), seed=st.integers(0, 999))
@settings(max_examples=30, deadline=None)
def test_full_batch_fit_equals_the_hand_written_loop(n, lr, steps, seed):
    x, y = linear_data(n, seed=seed)
    a0 = torch.tensor([-1., 1.])
    a = nn.Parameter(a0.clone())
    hist = fit(lambda x: x@a, x, y, params=[a], lr=lr, epochs=steps)
    assert torch.equal(a.detach(), _by_hand(x, y, a0, lr, steps))
    assert len(hist) == steps == len(hist.params)

@given(n=st.integers(2, 120), bs=st.integers(1, 50), epochs=st.integers(1, 4), seed=st.integers(0, 999))
@settings(max_examples=25, deadline=None)
def test_minibatch_fit_equals_a_hand_written_minibatch_loop(n, bs, epochs, seed):
    x, y = linear_data(n, seed=seed)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.05, epochs=epochs, bs=bs, seed=seed)
    b = nn.Parameter(torch.tensor([-1., 1.]))
    dl, losses = DataLoader((x, y), bs=bs, shuffle=True, seed=seed), []
    for _ in range(epochs):
        for xb, yb in dl:
            loss = mse(xb@b, yb); loss.backward(); losses.append(loss.item())
            with torch.no_grad(): b.add_(b.grad, alpha=-0.05); b.grad.zero_()
    assert torch.equal(a.detach(), b.detach()) and hist.loss == losses
    assert hist.steps_per_epoch == math.ceil(n / bs)

def test_the_lessons_own_update_agrees_to_float_rounding():
    "The lesson writes `a.sub_(lr * a.grad)`; SGD steps as torch does. The two differ only in float32 rounding."
    x, y = linear_data(100, seed=42)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=100)
    b = nn.Parameter(torch.tensor([-1., 1.]))
    for _ in range(100):
        loss = mse(x@b, y); loss.backward()
        with torch.no_grad(): b.sub_(0.1 * b.grad); b.grad.zero_()
    torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-6, atol=1e-6)

def test_history_params_produce_the_recorded_loss():
    x, y = linear_data(50, seed=0)
    a = nn.Parameter(torch.tensor([0., 0.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=5, bs=10, seed=0)
    dl = DataLoader((x, y), bs=10, shuffle=True, seed=0)
    batches = list(dl)
    for i, (xb, yb) in enumerate(batches):
        assert math.isclose(mse(xb@hist.params[i][0], yb).item(), hist.loss[i], rel_tol=1e-6)
    assert not hist.params[0][0].requires_grad

def test_fit_accepts_numpy_and_lists_and_modules():
    x, y = linear_data(40, seed=1)
    torch.manual_seed(0)
    model = nn.Linear(2, 1, bias=False)
    hist = fit(model, x.numpy(), y[:, None].tolist(), lr=0.1, epochs=3)
    assert len(hist) == 3 and hist.params[0][0].shape == (1, 2)

def test_fit_divergence_keeps_history_and_names_lr():
    x, y = linear_data(100, seed=42)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises(DivergenceError, match=r'lr=3\.0.*smaller learning rate, e\.g\. lr=0\.3') as e:
        fit(lambda x: x@a, x, y, params=[a], lr=3.0, epochs=500)
    h = e.value.hist
    assert h.stopped == 'diverged' and not math.isfinite(h.loss[-1]) and all(map(math.isfinite, h.loss[:-1]))
    assert len(h.params) == len(h.loss)

def test_fit_ctrl_c_returns_history_so_far():
    x, y = linear_data(100, seed=0)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    calls = []
    def model(x):
        calls.append(1)
        if len(calls) == 7: raise KeyboardInterrupt
        return x@a
    hist = fit(model, x, y, params=[a], lr=0.1, epochs=3, bs=10, seed=0)
    assert hist.stopped == 'interrupted' and len(hist) == 6 == len(hist.params)

def test_fit_validation_and_metrics():
    x, y = linear_data(100, seed=0)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x[:80], y[:80], params=[a], lr=0.1, epochs=4, bs=16, seed=0, valid=(x[80:], y[80:]), metrics=[mae])
    assert len(hist.valid_loss) == 4 and len(hist.metrics['mae']) == 4
    assert math.isclose(hist.valid_loss[-1], mse(x[80:]@a, y[80:]).item(), rel_tol=1e-6)
    assert '| epoch | train loss | valid loss | mae |' in hist._repr_markdown_()

@pytest.mark.parametrize('kw, msg', [(dict(epochs=0), 'epochs=0'), (dict(bs=0), 'bs=0'), (dict(lr=-1.), 'lr=-1.0')])
def test_fit_bad_arguments(kw, msg):
    x, y = linear_data(10, seed=0)
    a = nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match=msg): fit(lambda x: x@a, x, y, params=[a], **{'lr': 0.1, **kw})

def test_fit_records_no_params_for_big_models_by_default():
    x, y = torch.randn(20, 200), torch.randn(20, 1)
    model = nn.Sequential(nn.Linear(200, 60), nn.ReLU(), nn.Linear(60, 1))
    assert len(fit(model, x, y, lr=0.01, epochs=2).params) == 0
    assert len(fit(model, x, y, lr=0.01, epochs=2, record_params=True).params) == 2

def test_history_path_without_params():
    with pytest.raises(ValueError, match='record_params=True'): History(loss=[1.]).path()

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_fit_on_cuda_matches_cpu():
    x, y = linear_data(100, seed=0)
    res = []
    for dev in ['cpu', 'cuda']:
        a = nn.Parameter(torch.tensor([-1., 1.], device=dev))
        fit(lambda x: x@a, x.to(dev), y.to(dev), params=[a], lr=0.1, epochs=50, bs=10, seed=0)
        res.append(a.detach().cpu())
    torch.testing.assert_close(res[0], res[1])
