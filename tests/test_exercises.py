"sgdlab.exercises: every reference answer passes, typical wrong answers fail with their hint, garbage never raises."
import math
import pytest
import torch
from torch import nn
import sgdlab
from sgdlab.exercises import check, reference, _EXERCISES
from sgdlab.losses import mse
from sgdlab.mnist import mnist_sample, mnist_loss

ALL = sorted(_EXERCISES)


def run(capsys, lesson, n, answer):
    "check's result and the one line it printed"
    ok = check(lesson, n, answer)
    out = capsys.readouterr().out
    assert out.count('\n') == 1, out
    return ok, out


def test_only_check_is_exported():
    assert sgdlab.exercises.__all__ == ['check'] and sgdlab.check is check


@pytest.mark.parametrize('key', ALL, ids=lambda k: f'{k[0]}.{k[1]}')
def test_reference_passes(capsys, key):
    ok, out = run(capsys, *key, reference(*key))
    assert ok is True and out.startswith('✔')


@pytest.mark.parametrize('key', ALL, ids=lambda k: f'{k[0]}.{k[1]}')
def test_not_attempted(capsys, key):
    ok, out = run(capsys, *key, ...)
    assert ok is False and 'not attempted yet' in out


def _raises(*a, **k): raise ValueError('boom')

GARBAGE = [None, 'abc', '', float('nan'), float('inf'), True, [], {}, torch.zeros(0), torch.zeros(5, 5),
           torch.tensor(float('nan')), torch.full((3,), float('nan')), _raises, lambda *a: None, lambda *a: 'x',
           lambda *a: torch.zeros(7, 7), object()]

@pytest.mark.parametrize('key', ALL, ids=lambda k: f'{k[0]}.{k[1]}')
@pytest.mark.parametrize('bad', GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_never_raises(capsys, key, bad):
    ok, out = run(capsys, *key, bad)
    assert ok is False and out.startswith('✘') and 'Traceback' not in out


@pytest.mark.parametrize('lesson, n', [(14, 1), (12, 7), (10, 99), ('10', 1), (None, None)])
def test_unknown_exercise(capsys, lesson, n):
    ok, out = run(capsys, lesson, n, 1)
    assert ok is False and 'no such exercise' in out


def _mse_grad(x, y, a): return 2/len(x) * x.T@(x@a - y)

def _update_no_zero(a, x, y, lr):
    mse(x@a, y).backward()
    with torch.no_grad(): a.sub_(lr * a.grad)

def _update_uphill(a, x, y, lr):
    mse(x@a, y).backward()
    with torch.no_grad(): a.add_(lr * a.grad); a.grad.zero_()

def _update_on_copy(a, x, y, lr):
    b = a.detach().clone().requires_grad_()
    mse(x@b, y).backward()
    with torch.no_grad(): b.sub_(lr * b.grad)

def _update_zero_first(a, x, y, lr):
    "zeroing before backward is a correct loop too"
    if a.grad is not None: a.grad.zero_()
    loss = mse(x@a, y)
    loss.backward()
    with torch.no_grad(): a.sub_(lr * a.grad)
    return loss

def _acc_probs(p, t): return ((p > 0.5) == (t == 1)).float().mean()
def _acc_count(p, t): return ((p > 0) == (t == 1)).float().sum()
def _acc_pct(p, t): return ((p > 0) == (t == 1)).float().mean() * 100
def _acc_each(p, t): return ((p > 0) == (t == 1)).float()
def _acc_numpy(p, t): return float(((p > 0) == (t == 1)).float().mean())

def _loss_no_sigmoid(p, t): return torch.where(t == 1, 1 - p, p).mean()
def _loss_swapped(p, t): s = p.sigmoid(); return torch.where(t == 1, s, 1 - s).mean()
def _loss_sum(p, t): s = p.sigmoid(); return torch.where(t == 1, 1 - s, s).sum()
def _loss_item(p, t): s = p.sigmoid(); return torch.where(t == 1, 1 - s, s).mean().item()


def _nesterov_ok(p, g, state, lr, mom, **kwargs): p.sub_(lr * (g + mom*state['grad_avg']))
def _heavy_ball(p, g, state, lr, mom, **kwargs): p.sub_(lr * state['grad_avg'])
def _plain_gd(p, g, state, lr, **kwargs): p.sub_(lr * g)
def _nesterov_returns_p(p, g, state, lr, mom, **kwargs): return p.sub_(lr * (g + mom*state['grad_avg']))
def _nesterov_new_tensor(p, g, state, lr, mom, **kwargs): p = p - lr * (g + mom*state['grad_avg'])
def _nesterov_wrong_sign(p, g, state, lr, mom, **kwargs): p.add_(lr * (g + mom*state['grad_avg']))


def _sevens_threes():
    x, y = mnist_sample()[:2]
    return x[y[:, 0] == 0], x[y[:, 0] == 1]

def _rmse_wrong(kind):
    def f():
        sevens, threes = _sevens_threes()
        m7, m3 = sevens.mean(0), threes.mean(0)
        return {'l1': (sevens - m7).abs().mean((1, 2)), 'no sqrt': ((sevens - m7)**2).mean((1, 2)),
                'mean3': ((sevens - m3)**2).mean((1, 2)).sqrt(), 'threes': ((threes - m7)**2).mean((1, 2)).sqrt(),
                'axes': ((sevens - m7)**2).mean(0).sqrt(), 'percent': 100 * ((sevens - m7)**2).mean((1, 2)).sqrt()}[kind]
    return f


WRONG = [
    # lesson 1
    (10, 1, 0.5, 'standard deviation'), (10, 1, 1/12, "U[0, 1)"), (10, 1, 0., 'above zero'), (10, 1, 0.3, 'not quite'),
    (10, 2, _mse_grad, 'squared'), (10, 2, lambda x, y, a: -x.T @ torch.sign(x@a - y) / len(x), 'wrong sign'),
    (10, 2, lambda x, y, a: x.T @ torch.sign(x@a - y), 'factor of n'),
    (10, 2, lambda x, y, a: torch.zeros(2, 1), 'shape'),
    (10, 3, 15, 'full batches'), (10, 3, 4, 'one epoch'), (10, 3, 500, 'examples'), (10, 3, 19, 'off by one'),
    (10, 3, 21, 'off by one'), (10, 3, 20.5, 'whole number'),
    (10, 4, 0.9985, "lesson's data"), (10, 4, lambda: None, 'single number'),
    (10, 4, 'FAST', 'fastest'), (10, 4, 'EDGE*1.1', 'too large'), (10, 4, 'EDGE*0.9', 'too small'),
    (10, 5, 'EDGE', 'edge of divergence'), (10, 5, '1/HI', 'steep direction'), (10, 5, 0.744, "lesson's data"),
    (10, 5, 'FAST*0.8', 'too small'), (10, 5, 'FAST*1.2', 'too large'),
    (10, 6, _update_no_zero, 'old gradients'), (10, 6, _update_uphill, 'uphill'), (10, 6, _update_on_copy, 'did not change'),
    (10, 6, lambda a, x, y, lr: _update_ref_scaled(a, x, y, lr, 2.), 'not by lr'),
    (10, 6, lambda a, x: None, 'raised TypeError'),
    # lesson 2
    (11, 1, _rmse_wrong('l1'), 'L1'), (11, 1, _rmse_wrong('no sqrt'), 'square root'), (11, 1, _rmse_wrong('mean3'), 'mean7'),
    (11, 1, _rmse_wrong('threes'), 'the 3s'), (11, 1, _rmse_wrong('axes'), 'shape'), (11, 1, _rmse_wrong('percent'), 'not the RMSE'),
    (11, 2, torch.tensor([2., 4., 6.]), 'x**2'), (11, 2, [1, 8, 27], 'values of x**3'), (11, 2, torch.tensor([3., 6., 9.]), 'faster'),
    (11, 2, torch.tensor([[3., 12., 27.]]), 'shape'),
    (11, 3, 0.5, 'one step'), (11, 3, 2.0, 'too large'), (11, 3, 0.9, 'too small'),
    (11, 4, 784*30 + 30, 'biases'), (11, 4, 23580, 'off by one'), (11, 4, 23582, 'off by one'), (11, 4, 784*30, 'both linear layers'),
    (11, 5, 95, 'percentage'), (11, 5, 97.5, 'percentage'), (11, 5, 0.5, 'lower than'), (11, 5, 0.9512, 'whole number of images'),
    (11, 5, -0.1, 'fraction'),
    (11, 6, _acc_probs, 'probabilities'), (11, 6, _acc_count, 'number of correct'), (11, 6, _acc_pct, 'percentage'),
    (11, 6, _acc_each, 'one number'),
    (11, 7, _loss_no_sigmoid, 'sigmoid'), (11, 7, _loss_swapped, 'wrong'), (11, 7, _loss_sum, 'average'), (11, 7, _loss_item, 'gradients'),
    (11, 7, lambda p, t: torch.where(t == 1, 1 - p.sigmoid(), p.sigmoid()), 'one number'),
    # lesson 3
    (12, 1, 2/50, 'edge of divergence'), (12, 1, 1/50, 'safe'), (12, 1, 2/26, 'smallest curvature'), (12, 1, 0.1, 'equal'),
    (12, 2, 19/21, 'square root'), (12, 2, 399/401, "plain gradient descent's rate"), (12, 2, 0.5, "section 2's formula"),
    (12, 3, 1/20, 'upside down'), (12, 3, 10., 'step counts'), (12, 3, 400., 'proportional'),
    (12, 4, 0.9**10, 'missing'), (12, 4, 1., 'debiased'), (12, 4, 0.9, 'first few averages'),
    (12, 5, _heavy_ball, 'heavy-ball'), (12, 5, lambda p, g, state, lr, mom, **kw: None, 'never moved'),
    (12, 5, _nesterov_new_tensor, 'never moved'), (12, 5, _plain_gd, 'did not end'), (12, 5, _nesterov_wrong_sign, 'did not end'),
    (12, 5, _nesterov_returns_p, 'returned a Tensor'), (12, 5, lambda p, g, state, **kw: None, 'raised ValueError'),
    (12, 5, 0.005, 'give a function'),
    (12, 6, 0.05, 'from 0'), (12, 6, 0.1, 'not its end'), (12, 6, 0.004, 'half cosine'), (12, 6, [0.052], 'single number'),
]


def _update_ref_scaled(a, x, y, lr, k):
    mse(x@a, y).backward()
    with torch.no_grad(): a.sub_(k * lr * a.grad); a.grad.zero_()


def _resolve(lesson, n, answer):
    "Answers given as expressions of the exercise's own edge and fastest rate"
    if lesson == 11 and n == 1 and callable(answer): return answer()
    if not isinstance(answer, str): return answer
    from sgdlab.exercises import _lr_edge, _lr_fast, _curvatures, _wide_data
    hi = _curvatures(_wide_data()[0]).max().item()
    return eval(answer, {'EDGE': _lr_edge(), 'FAST': _lr_fast(), 'HI': hi})


@pytest.mark.parametrize('lesson, n, answer, hint', WRONG, ids=[f'{l}.{n}-{h}' for l, n, _, h in WRONG])
def test_typical_wrong_answers_fail_with_their_hint(capsys, lesson, n, answer, hint):
    ok, out = run(capsys, lesson, n, _resolve(lesson, n, answer))
    assert ok is False and out.startswith('✘') and hint in out, out


@pytest.mark.parametrize('lesson, n, answer', [
    (10, 1, 0.25), (10, 1, torch.tensor(0.25)), (10, 1, 0.252), (10, 3, 20.0), (10, 3, torch.tensor(20)),
    (10, 6, _update_zero_first), (11, 2, [3, 12, 27]), (11, 3, 1), (11, 4, torch.tensor(23581)),
    (11, 5, 0.995), (11, 5, 1.0), (11, 5, torch.tensor(0.99)), (11, 6, _acc_numpy),
    (12, 1, 1/26), (12, 2, torch.tensor(0.8186)), (12, 3, 20), (12, 3, 19.5), (12, 4, 0.6513), (12, 5, _nesterov_ok), (12, 6, 0.052),
])
def test_other_right_answers_pass(capsys, lesson, n, answer):
    ok, out = run(capsys, lesson, n, answer)
    assert ok is True, out


def test_hints_do_not_give_the_answer_away(capsys):
    "No hint prints the reference number itself"
    for lesson, n, answer, _ in WRONG:
        answer = _resolve(lesson, n, answer)
        check(lesson, n, answer)
        out = capsys.readouterr().out
        if isinstance(answer, (int, float)): out = out.replace(f'{answer:g}', '<yours>')  # a hint may echo the learner's answer
        ref = reference(lesson, n)
        if isinstance(ref, (int, float)) and not isinstance(ref, bool):
            for shown in {f'{ref:g}', f'{ref:.3f}', f'{ref:.4f}', str(ref)} - {'1'}: assert shown not in out.split(':', 1)[1], (lesson, n, out)


def test_checking_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    for key in ALL: check(*key, reference(*key))
    assert torch.equal(torch.get_rng_state(), before)


def test_accuracy_reference_matches_library():
    from sgdlab.exercises import _ACC_CASES
    from sgdlab.mnist import batch_accuracy
    for p, t in _ACC_CASES: assert reference(11, 6)(p, t) == batch_accuracy(p, t)
    g = torch.Generator().manual_seed(1)
    p = torch.randn(20, 1, generator=g)
    assert torch.allclose(reference(11, 7)(p, (p > 0).float()), mnist_loss(p, (p > 0).float()))


def test_lesson3_references_match_the_lesson():
    "The reference answers agree with the formulas of lesson 3, and 12.5's target is Nesterov's look-ahead point"
    from sgdlab.exercises import _lookahead_end, _heavy_ball_end
    assert math.isclose(reference(12, 1), 2/52) and math.isclose(reference(12, 2), (19/21)**2)
    assert math.isclose(reference(12, 3), math.log(19/21) / math.log(399/401)) and abs(reference(12, 3) - 20) < 0.05
    assert math.isclose(reference(12, 4), 1 - 0.9**10) and math.isclose(reference(12, 6), (0.004 + 0.1) / 2)
    kappa = torch.tensor([1., 100.], dtype=torch.float64)
    w = prev = torch.tensor([-10., 1.], dtype=torch.float64)
    for _ in range(20):   # the lesson's `nesterov`, written out: the gradient is taken at the look-ahead point
        y = w + 0.9*(w - prev)
        w, prev = y - 0.005 * kappa * y, w
    assert torch.allclose(_lookahead_end(0.005, 0.9, 20), w + 0.9*(w - prev), rtol=1e-12)
    assert not torch.allclose(_lookahead_end(0.005, 0.9, 20), _heavy_ball_end(0.005, 0.9, 20), rtol=1e-3)
