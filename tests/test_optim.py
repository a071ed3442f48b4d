"Optimizers against their torch.optim twins, bit for bit, and the optimizer semantics a PyTorch user relies on."
import inspect, math
import numpy as np
import pytest
import torch
from torch import nn
from hypothesis import given, settings, strategies as st
import sgdlab.optim as optim
from sgdlab import SGD, Adam, RMSProp, Optimizer, apply_step, as_params, check_hypers, fit, linear_data, sgd_step

# --- a small MLP, trained twice from the same start -----------------------------------------------

def _mlp(seed):
    "Data and the parameters of a 4-8-1 network with a `skip` weight used only on even steps"
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 4, generator=g)
    y = torch.randn(32, generator=g)
    ps = [torch.randn(4, 8, generator=g), torch.randn(8, generator=g) * 0.1, torch.randn(8, generator=g), torch.randn(1, generator=g)]
    return x, y, [p.requires_grad_() for p in ps]

def _train(opt_fn, steps, seed, lrs=None, part_time=True):
    "Train the MLP for `steps` steps with `opt_fn(params)`, setting the lr to `lrs[i]` before step i; return the parameters"
    x, y, ps = _mlp(seed)
    opt = opt_fn(ps)
    w1, b1, w2, skip = ps
    for i in range(steps):
        if lrs is not None: _set_lr(opt, lrs[i])
        pred = torch.tanh(x@w1 + b1) @ w2
        if part_time and i % 2 == 0: pred = pred + skip    # `skip` gets a gradient on even steps only
        ((pred - y)**2).mean().backward(); opt.step(); opt.zero_grad()
    return [p.detach() for p in ps]

def _set_lr(opt, lr):
    if isinstance(opt, torch.optim.Optimizer):
        for grp in opt.param_groups: grp['lr'] = lr
    else: opt.lr = lr

def _assert_equal(ours, theirs):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert torch.equal(a, b), f"parameter {i} differs by up to {(a - b).abs().max().item():.3g}"

unit = st.floats(0., 0.999)
wds = st.sampled_from([0., 1e-4, 1e-2]) | st.floats(0., 0.1)

@given(lr=st.floats(1e-4, 0.1), mom=st.sampled_from([0., 0.5, 0.9, 0.99]) | st.floats(0., 0.95), wd=wds,
       nesterov=st.booleans(), seed=st.integers(0, 10_000))
@settings(max_examples=20, deadline=None)
def test_sgd_equals_torch_optim_sgd(lr, mom, wd, nesterov, seed):
    nesterov = nesterov and mom > 0
    ours = _train(lambda ps: SGD(ps, lr=lr, mom=mom, wd=wd, nesterov=nesterov), 30, seed)
    theirs = _train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mom, weight_decay=wd, nesterov=nesterov), 30, seed)
    _assert_equal(ours, theirs)

@given(lr=st.floats(1e-5, 1e-2), sqr_mom=unit, mom=st.sampled_from([0., 0.9]) | unit, eps=st.sampled_from([1e-8, 1e-5, 0.]),
       wd=wds, seed=st.integers(0, 10_000))
@settings(max_examples=20, deadline=None)
def test_rmsprop_equals_torch_optim_rmsprop(lr, sqr_mom, mom, eps, wd, seed):
    ours = _train(lambda ps: RMSProp(ps, lr=lr, sqr_mom=sqr_mom, mom=mom, eps=eps, wd=wd), 30, seed)
    theirs = _train(lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=sqr_mom, momentum=mom, eps=eps, weight_decay=wd), 30, seed)
    _assert_equal(ours, theirs)

@given(lr=st.floats(1e-5, 1e-1), mom=st.sampled_from([0., 0.9]) | unit, sqr_mom=st.sampled_from([0.99, 0.999]) | unit,
       eps=st.sampled_from([1e-8, 1e-5]), wd=wds, decouple_wd=st.booleans(), seed=st.integers(0, 10_000))
@settings(max_examples=25, deadline=None)
def test_adam_equals_torch_optim_adam_and_adamw(lr, mom, sqr_mom, eps, wd, decouple_wd, seed):
    ours = _train(lambda ps: Adam(ps, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, decouple_wd=decouple_wd), 30, seed)
    twin = torch.optim.AdamW if decouple_wd else torch.optim.Adam
    theirs = _train(lambda ps: twin(ps, lr=lr, betas=(mom, sqr_mom), eps=eps, weight_decay=wd), 30, seed)
    _assert_equal(ours, theirs)

def test_defaults_are_torchs():
    x, y, ps = _mlp(0)
    assert Adam(ps, lr=1e-3).hypers == dict(lr=1e-3, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0., decouple_wd=False)
    assert RMSProp(ps, lr=1e-3).hypers == dict(lr=1e-3, sqr_mom=0.99, mom=0., eps=1e-8, wd=0.)
    t = torch.optim.RMSprop(ps, lr=1e-3).defaults
    assert (t['alpha'], t['eps'], t['momentum'], t['weight_decay']) == (0.99, 1e-8, 0, 0)

# --- hyper-parameters: validated at construction and when set ------------------------------------

@pytest.mark.parametrize('make', [SGD, RMSProp, Adam])
@pytest.mark.parametrize('bad', [-0.1, float('nan'), float('inf'), True, '0.1', None, torch.tensor(0.1)])
def test_bad_lr(make, bad):
    with pytest.raises(ValueError, match='lr=.* must be a positive, finite number'): make([torch.zeros(1, requires_grad=True)], lr=bad)

@pytest.mark.parametrize('make, kw, msg', [
    (SGD, dict(mom=1.), r'mom=1\.0 must be a number in \[0, 1\)'), (SGD, dict(mom=-0.1), 'mom=-0.1'), (SGD, dict(mom=float('nan')), 'mom=nan'),
    (SGD, dict(wd=-1e-4), 'wd=-0.0001 must be a non-negative'), (SGD, dict(wd=float('inf')), 'wd=inf'), (SGD, dict(mom=False), 'mom=False'),
    (SGD, dict(nesterov=True), 'nesterov=True needs momentum'), (SGD, dict(mom=0.9, nesterov='yes'), 'True or False'),
    (Adam, dict(mom=1.), 'mom=1.0'), (Adam, dict(sqr_mom=1.), r'sqr_mom=1\.0 must be a number in \[0, 1\)'), (Adam, dict(sqr_mom=-0.5), 'sqr_mom'),
    (Adam, dict(eps=-1e-8), 'eps=-1e-08 must be a non-negative'), (Adam, dict(wd=-0.01), 'wd=-0.01'), (Adam, dict(decouple_wd=1), 'True or False'),
    (RMSProp, dict(sqr_mom=1.5), 'sqr_mom=1.5'), (RMSProp, dict(eps='1e-8'), "eps='1e-8'"), (RMSProp, dict(mom=True), 'mom=True')])
def test_bad_hypers_name_the_fix(make, kw, msg):
    with pytest.raises(ValueError, match=msg): make([torch.zeros(1, requires_grad=True)], lr=0.1, **kw)

def test_numpy_scalars_are_numbers():
    w = torch.zeros(1, requires_grad=True)
    opt = Adam([w], lr=np.float32(0.1), mom=np.float64(0.9), sqr_mom=np.float32(0.99), eps=np.int64(0), wd=np.int64(0))
    assert all(type(v) in (float, bool) for v in opt.hypers.values())
    assert opt.lr == float(np.float32(0.1)) and opt.eps == 0.
    opt.lr = np.float64(0.5)
    assert opt.lr == 0.5 and type(opt.lr) is float

def test_numpy_lr_matches_torch_given_the_same_numpy_lr():
    lr = np.float32(0.1)
    _assert_equal(_train(lambda ps: SGD(ps, lr=lr, mom=np.float32(0.9)), 10, 1),
                  _train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=np.float32(0.9)), 10, 1))

def test_setting_a_hyper_is_used_by_the_next_step_like_torch_param_groups():
    lrs = [0.01 * (1 + math.cos(math.pi * i / 20)) / 2 + 1e-4 for i in range(20)]
    _assert_equal(_train(lambda ps: Adam(ps, lr=1.), 20, 3, lrs=lrs), _train(lambda ps: torch.optim.Adam(ps, lr=1.), 20, 3, lrs=lrs))
    _assert_equal(_train(lambda ps: SGD(ps, lr=1., mom=0.9), 20, 3, lrs=lrs), _train(lambda ps: torch.optim.SGD(ps, lr=1., momentum=0.9), 20, 3, lrs=lrs))

def test_turning_momentum_and_wd_on_later_takes_effect():
    def run(make, setter):
        x, y, ps = _mlp(5)
        opt = make(ps)
        for i in range(10):
            if i == 4: setter(opt)
            ((torch.tanh(x@ps[0] + ps[1]) @ ps[2] + ps[3] - y)**2).mean().backward(); opt.step(); opt.zero_grad()
        return [p.detach() for p in ps]
    def ours_set(o): o.mom, o.wd = 0.9, 0.01
    def theirs_set(o): o.param_groups[0].update(momentum=0.9, weight_decay=0.01)
    _assert_equal(run(lambda ps: SGD(ps, lr=0.05), ours_set), run(lambda ps: torch.optim.SGD(ps, lr=0.05), theirs_set))

def test_unknown_attributes_and_bad_values_raise():
    opt = SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(AttributeError, match="'learning_rate' is not a hyper-parameter.*lr, mom, wd, nesterov"): opt.learning_rate = 0.1
    with pytest.raises(AttributeError, match="'sqr_mom' is not a hyper-parameter"): setattr(opt, 'sqr_mom', 0.9)
    with pytest.raises(ValueError, match='lr=-1'): opt.lr = -1
    with pytest.raises(AttributeError, match="no attribute 'betas'"): opt.betas
    assert opt.lr == 0.1 and 'lr' in dir(opt)

def test_optimizer_needs_lr_and_refuses_unknown_hypers():
    w = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match='no value for lr'): Optimizer([w], [apply_step])
    with pytest.raises(ValueError, match='no stepper takes momentum'): Optimizer([w], [apply_step], lr=0.1, momentum=0.9)

def test_steppers_have_no_default_lr_and_declare_their_defaults():
    steppers = [optim.apply_step, optim.l2_reg, optim.weight_decay, optim.average_grad, optim.momentum_step, optim.ema_grad,
                optim.ema_sqr_grad, optim.step_stat, optim.rms_prop_step, optim.adam_step]
    for f in steppers:
        sig = inspect.signature(f).parameters
        assert list(sig)[:3] == ['p', 'g', 'state'], f.__name__
        if 'lr' in sig: assert sig['lr'].default is inspect.Parameter.empty, f.__name__
        assert 'lr' not in getattr(f, 'defaults', {}), f.__name__

def test_check_hypers_returns_floats():
    assert check_hypers(lr=1, mom=np.float32(0.5)) == dict(lr=1., mom=0.5)

# --- parameters: frozen, duplicated, stale ------------------------------------------------------

def test_frozen_params_are_skipped_like_torch():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    model[0].requires_grad_(False)
    frozen = [p.detach().clone() for p in model[0].parameters()]
    opt = SGD(model.parameters(), lr=0.1, mom=0.9, wd=0.1)
    assert len(opt.params) == 2
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    for _ in range(3): model(x).pow(2).mean().backward(); opt.step(); opt.zero_grad()
    assert all(torch.equal(a, b) for a, b in zip(frozen, model[0].parameters()))

def test_fit_trains_a_model_with_a_frozen_layer():
    x, y = linear_data(50, seed=0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    before = model[0].weight.detach().clone()
    fit(model, x, y[:, None], lr=0.05, epochs=3)
    assert torch.equal(before, model[0].weight)

def test_nothing_trainable_is_an_error_that_says_how_to_unfreeze():
    model = nn.Linear(2, 1).requires_grad_(False)
    with pytest.raises(ValueError, match=r'none of the 2 parameters requires grad.*requires_grad_\(\)'): SGD(model.parameters(), lr=0.1)

def test_duplicate_and_non_leaf_params_are_refused():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match='parameter 2 is the same tensor as parameter 0'): SGD([w, torch.zeros(1, requires_grad=True), w], lr=0.1)
    with pytest.raises(ValueError, match='computed from other tensors'): Adam([w * 2], lr=0.1)
    with pytest.raises(TypeError, match='param-group dicts'): SGD([{'params': [w]}], lr=0.1)

def test_a_param_without_grad_is_skipped_and_no_grad_at_all_is_explained():
    a, b = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    opt = SGD([a, b], lr=0.1)
    a.sum().backward(); opt.step()
    assert torch.equal(b.detach(), torch.ones(2)) and torch.allclose(a.detach(), torch.full((2,), 0.9))
    stale = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r'call loss.backward\(\) before opt.step\(\); if you did, the loss does not depend'):
        SGD([stale], lr=0.1).step()

# --- zero_grad ----------------------------------------------------------------------------------

def test_zero_grad_sets_none_by_default_and_zeroes_on_request():
    w = torch.ones(2, requires_grad=True)
    opt = SGD([w], lr=0.1)
    w.sum().backward(); opt.zero_grad(); assert w.grad is None
    w.sum().backward(); opt.zero_grad(set_to_none=False); assert torch.equal(w.grad, torch.zeros(2))

def test_part_time_param_does_not_drift_under_momentum_and_wd():
    "A parameter used on half the steps: with grads set to None it matches torch; zeroed grads would keep moving it"
    make = lambda ps: SGD(ps, lr=0.05, mom=0.9, wd=0.1)
    _assert_equal(_train(make, 20, 7), _train(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1), 20, 7))

# --- the lesson's manual step -------------------------------------------------------------------

def test_sgd_step_errors():
    with pytest.raises(ValueError, match=r'call loss.backward\(\)'): sgd_step([torch.zeros(2, requires_grad=True)], 0.1)
    with pytest.raises(ValueError, match='requires_grad_'): sgd_step([torch.zeros(2)], 0.1)
    a = torch.ones(2, requires_grad=True); a.sum().backward()
    for bad in [-1., float('inf'), float('nan')]:  # 0 is allowed, as in torch.optim
        with pytest.raises(ValueError, match='positive, finite'): sgd_step(a, bad)

def test_sgd_step_is_the_lessons_update_and_zeroes_in_place():
    a = torch.tensor([1., 2.], requires_grad=True)
    (3 * a).sum().backward()
    sgd_step(a, np.float32(0.1))
    assert torch.equal(a.detach(), torch.tensor([1., 2.]).sub_(float(np.float32(0.1)) * torch.tensor([3., 3.])))
    assert torch.equal(a.grad, torch.zeros(2))

# --- checkpoints --------------------------------------------------------------------------------

MAKERS = [lambda ps: SGD(ps, lr=0.05, mom=0.9, wd=0.01, nesterov=True), lambda ps: RMSProp(ps, lr=1e-3, mom=0.5, wd=0.01),
          lambda ps: Adam(ps, lr=1e-2, wd=0.01), lambda ps: Adam(ps, lr=1e-2, wd=0.1, decouple_wd=True)]

def _steps(opt, ps, x, y, n):
    w1, b1, w2, skip = ps
    for _ in range(n): ((torch.tanh(x@w1 + b1) @ w2 + skip - y)**2).mean().backward(); opt.step(); opt.zero_grad()

@pytest.mark.parametrize('make', MAKERS)
def test_save_load_continue_equals_an_uninterrupted_run(make, tmp_path):
    x, y, ps = _mlp(11)
    opt = make(ps)
    _steps(opt, ps, x, y, 25)
    want = [p.detach().clone() for p in ps]
    x, y, ps = _mlp(11)
    opt = make(ps)
    _steps(opt, ps, x, y, 10)
    opt.lr = opt.lr   # a set hyper-parameter is saved too
    torch.save({'params': [p.detach() for p in ps], 'opt': opt.state_dict()}, tmp_path/'ckpt.pt')
    _steps(opt, ps, x, y, 3)   # steps the resumed run must not see
    ck = torch.load(tmp_path/'ckpt.pt')
    _, _, ps2 = _mlp(99)
    with torch.no_grad():
        for p, v in zip(ps2, ck['params']): p.copy_(v)
    opt2 = make(ps2)
    opt2.load_state_dict(ck['opt'])
    _steps(opt2, ps2, x, y, 15)
    _assert_equal([p.detach() for p in ps2], want)

def test_state_dict_is_keyed_by_position_and_is_a_snapshot():
    x, y, ps = _mlp(0)
    opt = Adam(ps, lr=1e-2)
    _steps(opt, ps, x, y, 2)
    sd = opt.state_dict()
    assert sorted(sd['state']) == [0, 1, 2, 3] and sd['state'][0]['step'] == 2
    before = sd['state'][0]['grad_avg'].clone()
    _steps(opt, ps, x, y, 1)
    assert torch.equal(sd['state'][0]['grad_avg'], before)

def test_load_state_dict_refuses_what_does_not_fit():
    x, y, ps = _mlp(0)
    opt = Adam(ps, lr=1e-2); _steps(opt, ps, x, y, 1)
    with pytest.raises(ValueError, match='hyper-parameters lr, mom, sqr_mom'): SGD(ps, lr=0.1).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match='not the ones it was saved with'): Adam(ps[::-1], lr=1e-2).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match='this optimizer has 1 parameters'): Adam(ps[:1], lr=1e-2).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="keys 'state' and 'hypers'"): Adam(ps, lr=1e-2).load_state_dict({'state': {}})

# --- schedules ----------------------------------------------------------------------------------

from sgdlab import (sched_lin, sched_cos, sched_exp, sched_no, combine_scheds, one_cycle, lr_find, valley, LRFind, Learner,
                    least_squares, History)

def test_schedules_by_hand():
    assert [sched_lin(2, 4)(p) for p in (0, 0.25, 1)] == [2, 2.5, 4]
    assert [sched_cos(2, 4)(p) for p in (0, 0.5, 1)] == [2, 3, 4]
    assert math.isclose(sched_exp(1e-3, 10)(0.75), 1.)
    assert sched_no(3, 7)(0.9) == 3

@given(start=st.floats(-10, 10), end=st.floats(-10, 10), pos=st.floats(0, 1))
@settings(max_examples=50, deadline=None)
def test_lin_and_cos_stay_between_their_ends(start, end, pos):
    for f in (sched_lin, sched_cos):
        v = f(start, end)(pos)
        assert min(start, end) - 1e-9 <= v <= max(start, end) + 1e-9
        assert math.isclose(f(start, end)(0), start, abs_tol=1e-12) and math.isclose(f(start, end)(1), end, abs_tol=1e-9)

@given(lr_max=st.floats(1e-4, 10), pct_start=st.floats(0, 0.95), pos=st.floats(0, 1))
@settings(max_examples=50, deadline=None)
def test_one_cycle_rises_then_falls(lr_max, pct_start, pos):
    f = one_cycle(lr_max, pct_start)
    assert math.isclose(f(pct_start), lr_max) and math.isclose(f(1), lr_max / 1e5)
    if pct_start > 0: assert math.isclose(f(0), lr_max / 25)
    assert 0 < f(pos) <= lr_max * (1 + 1e-12)
    eps = 1e-3
    if pos + eps <= pct_start: assert f(pos) <= f(pos + eps)
    if pos >= pct_start: assert f(min(pos + eps, 1)) <= f(pos) * (1 + 1e-12)

def test_combine_scheds_phases_and_zero_length_phases():
    f = combine_scheds([0.5, 0., 0.5], [sched_lin(0, 1), sched_no(5, 5), sched_lin(1, 0)])
    assert [f(0), f(0.25), f(0.5), f(0.75), f(1)] == [0, 0.5, 1, 0.5, 0]
    with pytest.raises(ValueError, match='add up to 0.9'): combine_scheds([0.4, 0.5], [sched_no(1, 1)] * 2)
    with pytest.raises(ValueError, match='fractions >= 0'): combine_scheds([1.5, -0.5], [sched_no(1, 1)] * 2)

@pytest.mark.parametrize('call, msg', [(lambda: sched_exp(-1, 1), 'start=-1 must be a positive'), (lambda: sched_lin(0, 'x'), "end='x'"),
                                       (lambda: sched_cos(True, 1), 'start=True'), (lambda: one_cycle(0.1, div=0), 'div=0'),
                                       (lambda: one_cycle(float('nan')), 'lr_max=nan'), (lambda: one_cycle(0.1, pct_start=-0.1), 'pct_start')])
def test_schedule_arguments_are_checked(call, msg):
    with pytest.raises(ValueError, match=msg): call()

def test_fit_with_one_cycle_records_the_schedule_and_equals_torch_adam_stepped_by_hand():
    x, y = linear_data(64, seed=1)
    sched = one_cycle(0.05)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=sched, steps=40, bs=16, seed=3, opt_func=Adam)
    assert hist.lrs == [sched(i / 40) for i in range(40)]
    b = nn.Parameter(torch.tensor([-1., 1.]))
    opt = torch.optim.Adam([b], lr=sched(0.))
    from sgdlab import DataLoader, mse
    dl, i = DataLoader((x, y), bs=16, shuffle=True, seed=3), 0
    while i < 40:
        for xb, yb in dl:
            if i == 40: break
            for g in opt.param_groups: g['lr'] = sched(i / 40)
            mse(xb@b, yb).backward(); opt.step(); opt.zero_grad(); i += 1
    assert torch.equal(a.detach(), b.detach())

# --- lr_find ------------------------------------------------------------------------------------

def test_lr_find_suggestion_trains_lesson_one_to_the_least_squares_optimum():
    x, y = linear_data(100, seed=42)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    res = lr_find(lambda x: x@a, x, y, params=[a])
    assert torch.equal(a.detach(), torch.tensor([-1., 1.])) and a.grad is None
    assert res.stopped and len(res.lrs) == len(res.losses) < 100
    assert res.lrs[0] == 1e-7 and all(l2 > l1 for l1, l2 in zip(res.lrs, res.lrs[1:]))
    fit(lambda x: x@a, x, y, params=[a], lr=res.suggestion, steps=300)
    torch.testing.assert_close(a.detach(), least_squares(x, y), atol=1e-4, rtol=0)

def test_lr_find_restores_a_module_its_buffers_and_grads():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 3, generator=g), torch.randn(64, 1, generator=g)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    model[0].weight.grad = torch.ones_like(model[0].weight)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = lr_find(model, x, y, bs=16, seed=0, opt_func=Adam, num_it=50)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert torch.equal(model[0].weight.grad, torch.ones_like(model[0].weight)) and model[1].bias.grad is None
    assert isinstance(res, LRFind) and res.lrs[0] == 1e-7 and res.suggestion in res.lrs

def test_lr_find_with_a_torch_optimizer_and_a_divergence_on_the_way():
    x, y = linear_data(100, seed=0)
    a = nn.Parameter(torch.tensor([0., 0.]))
    res = lr_find(lambda x: x@a, x, y, params=[a], opt_func=lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9), end_lr=1e4)
    assert res.stopped and all(math.isfinite(l) for l in res.losses)
    assert torch.equal(a.detach(), torch.zeros(2))
    assert 1e-3 < res.suggestion < 1

def test_lr_find_restores_even_when_the_fit_fails():
    x, y = linear_data(20, seed=0)
    a = nn.Parameter(torch.tensor([1., 1.]))
    calls = []
    def model(x):
        calls.append(1)
        if len(calls) > 3: raise RuntimeError('boom')
        return x@a
    with pytest.raises(RuntimeError, match='boom'): lr_find(model, x, y, params=[a], start_lr=1e-2)
    assert torch.equal(a.detach(), torch.tensor([1., 1.]))

def test_valley_by_hand_and_its_errors():
    lrs = [10.**k for k in range(-5, 6)]
    assert valley(lrs, [10, 10, 10, 10, 8, 5, 2, 1, 1, 30, 1000], k=0) == 1.
    with pytest.raises(ValueError, match='never fell'): valley(lrs, [3.] * 11)
    with pytest.raises(ValueError, match='smaller start_lr'): valley(lrs[:4], [1., 2., 3., 4.])

# --- on a GPU, where torch defaults to its foreach kernels ---------------------------------------

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
@pytest.mark.parametrize('ours, twin, kw', [(lambda ps: SGD(ps, lr=0.01, mom=0.9, wd=0.01), torch.optim.SGD, dict(lr=0.01, momentum=0.9, weight_decay=0.01)),
                                            (lambda ps: RMSProp(ps, lr=1e-3, mom=0.5), torch.optim.RMSprop, dict(lr=1e-3, momentum=0.5)),
                                            (lambda ps: Adam(ps, lr=1e-2, wd=0.01), torch.optim.Adam, dict(lr=1e-2, weight_decay=0.01)),
                                            (lambda ps: Adam(ps, lr=1e-2, wd=0.1, decouple_wd=True), torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1))])
def test_on_cuda_equal_to_single_tensor_torch_and_close_to_foreach(ours, twin, kw):
    steps = 30
    def run(make):
        x, y, ps = _mlp(0)
        x, y, ps = x.cuda(), y.cuda(), [p.detach().cuda().requires_grad_() for p in ps]
        opt = make(ps)
        for _ in range(steps): _steps(opt, ps, x, y, 1)
        return [p.detach().cpu() for p in ps]
    mine = run(ours)
    _assert_equal(mine, run(lambda ps: twin(ps, foreach=False, **kw)))
    for a, b in zip(mine, run(lambda ps: twin(ps, **kw))):   # foreach kernels round a few steps differently
        tol = steps * torch.finfo(torch.float32).eps * max(1., b.abs().max().item())
        torch.testing.assert_close(a, b, atol=tol, rtol=0)

def test_a_stepper_returning_a_bare_tensor_is_explained():
    w = torch.ones(2, requires_grad=True)
    w.sum().backward()
    with pytest.raises(TypeError, match='stepper <lambda> returned a Tensor; a stepper returns a dict'):
        Optimizer([w], [lambda p, g, state, lr: g * lr], lr=0.1).step()


def test_the_stepper_protocol_is_documented_once_in_optimizer():
    "Issue 24 §3: `Optimizer`'s docstring documents p, g, state and the hyper-parameters; no stepper repeats them"
    from fastcore.docments import docments
    doc = ' '.join(Optimizer.__doc__.split())
    assert 'f(p, g, state, **hypers)' in doc
    shared = ('`p` is the parameter', '`g` its update direction', '`state` the parameter', '**kwargs', '`f.defaults`')
    for arg in shared:
        assert arg in doc, arg
    steppers = [f for f in vars(optim).values()
                if inspect.isfunction(f) and list(inspect.signature(f).parameters)[:3] == ['p', 'g', 'state']]
    assert len(steppers) >= 10, [f.__name__ for f in steppers]
    for f in steppers:
        d = docments(f)
        assert not any(d[k] for k in ('p', 'g', 'state')), f"{f.__name__} repeats the protocol's docments"
        own = [k for k in inspect.signature(f).parameters if k not in ('p', 'g', 'state', 'kwargs')]
        assert all(d[k] for k in own), f"{f.__name__}: hyper-parameters without a docment"
        signature = inspect.getsource(f).split('"')[0].rstrip().splitlines()  # up to the docstring
        assert len(signature) <= 1 + len(own) + 1, f"{f.__name__}: a line for the protocol, one per hyper-parameter"


def test_optimizer_methods_are_defined_in_its_class_body():
    "Issue 24: no method attached to `Optimizer` after its definition"
    names = ('step', 'zero_grad', '__getattr__', '__setattr__', '__dir__', 'state_dict', 'load_state_dict', '__repr__')
    for name in names:
        f = vars(Optimizer)[name]
        assert f.__qualname__ == f'Optimizer.{name}', f.__qualname__


def test_plain_sgd_shortcut_equals_the_stepper_chain():
    "SGD without momentum or weight decay skips its steppers; a chain that cannot take the shortcut gives the same bits"
    from sgdlab.optim import Optimizer, l2_reg, average_grad, momentum_step
    g = torch.Generator().manual_seed(0)
    ws = [torch.randn(5, 3, generator=g).requires_grad_() for _ in range(2)]
    ws2 = [w.detach().clone().requires_grad_() for w in ws]
    fast = SGD(ws, lr=0.1)
    slow = Optimizer(ws2, [average_grad, l2_reg, momentum_step], lr=0.1, mom=0., wd=0., nesterov=False)
    for _ in range(5):
        for ps, opt in ((ws, fast), (ws2, slow)):
            (ps[0].sin() * ps[1]).sum().backward(); opt.step(); opt.zero_grad()
    assert all(torch.equal(a, b) for a, b in zip(ws, ws2))
    fast.mom = 0.9  # with momentum the chain runs again and keeps its state
    (ws[0] * ws[1]).sum().backward(); fast.step()
    assert 'grad_avg' in fast.state[ws[0]]
