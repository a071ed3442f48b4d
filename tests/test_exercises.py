"""sgdlab.exercises and each lesson's table: every reference passes, typical wrong answers get their hint, garbage and
misbehaving answers never raise (Ctrl-C excepted), answers cannot fool a judge by changing its data, the numbering
follows the lessons, and every lesson states the tolerance its table uses."""
import json, math, re, sys
from decimal import Decimal
from pathlib import Path
import numpy as np
import pytest
import torch
import sgdlab
from sgdlab.exercises import check, reference, exercise, register, Number, Count, Values, Code, Hint, _LESSONS
from sgdlab.losses import mse
from sgdlab.mnist import mnist_sample, mnist_loss, batch_accuracy

ROOT = Path(__file__).resolve().parents[1]
ALL = sorted((lesson, n) for lesson, table in _LESSONS.items() for n in table)
FUNCTIONS = [k for k in ALL if isinstance(exercise(*k), Code) and exercise(*k).signature]
NUMBERS = [k for k in ALL if isinstance(exercise(*k), Number)]


def run(capsys, lesson, n, answer):
    "check's result and the one line it printed"
    ok = check(lesson, n, answer)
    out = capsys.readouterr().out
    assert out.count('\n') == 1, out
    return ok, out


def test_lessons_1_to_3_are_registered():
    assert {1, 2, 3} <= set(_LESSONS) and [len(_LESSONS[k]) for k in (1, 2, 3)] == [6, 7, 6]


def test_only_check_is_exported():
    assert sgdlab.exercises.__all__ == ['check'] and sgdlab.check is check
    for k in (1, 2, 3): assert getattr(sgdlab, f'exercises_lesson{k}').__all__ == []


@pytest.mark.parametrize('key', ALL, ids=lambda k: f'{k[0]}.{k[1]}')
def test_reference_passes(capsys, key):
    ok, out = run(capsys, *key, reference(*key))
    assert ok is True and out.startswith(f'✔ Exercise {key[0]}.{key[1]}: correct')


@pytest.mark.parametrize('key', ALL, ids=lambda k: f'{k[0]}.{k[1]}')
def test_not_attempted(capsys, key):
    ok, out = run(capsys, *key, ...)
    assert ok is False and 'not attempted yet' in out


# --- answers that are garbage, or misbehave --------------------------------------------------------------------------

class _LoudStr(Exception):
    def __str__(self): raise RuntimeError('no str')

class _Base(BaseException): pass

def _raises(*a, **k): raise ValueError('boom')
def _exits(*a, **k): sys.exit(2)
def _raises_base(*a, **k): raise _Base('escaped')
def _raises_loud(*a, **k): raise _LoudStr()
def _no_grad(*a, **k): torch.set_grad_enabled(False)
def _float64(*a, **k): torch.set_default_dtype(torch.float64)

GARBAGE = [None, 'abc', '', '0.5', float('nan'), float('inf'), -float('inf'), True, [], {}, 10**400, 1e308, -1e308,
           1 + 2j, Decimal('NaN'), np.array([1., 2.]), np.float64('nan'), torch.zeros(0), torch.zeros(5, 5),
           torch.tensor(float('nan')), torch.tensor(1j), torch.full((3,), float('nan')), torch.tensor([True]),
           torch.empty(2, device='meta'), object(), _LoudStr(), _raises, _exits, _raises_base, _raises_loud, _no_grad,
           _float64, lambda *a: None, lambda *a: 'x', lambda *a: torch.zeros(7, 7), lambda *a: (i for i in range(3)),
           lambda *a: 1e308, lambda *a: float('nan'), lambda *a: 2j, lambda *a: np.array(['a']), lambda: None, len]

@pytest.mark.parametrize('key', ALL, ids=lambda k: f'{k[0]}.{k[1]}')
@pytest.mark.parametrize('bad', GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_never_raises(capsys, key, bad):
    ok, out = run(capsys, *key, bad)
    assert ok is False and out.startswith('✘') and 'Traceback' not in out
    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32   # left as they were


def _shaped(key, body):
    "`body` with the parameters exercise `key` asks for (an Optimizer reads a stepper's parameter names)"
    if key != (3, 5): return body
    def stepper(p, g, state, lr, mom, **kwargs): return body(p, g, state, lr, mom, **kwargs)
    return stepper


@pytest.mark.parametrize('key', FUNCTIONS, ids=lambda k: f'{k[0]}.{k[1]}')
def test_sys_exit_is_a_hint(capsys, key):
    ok, out = run(capsys, *key, _shaped(key, _exits))
    assert ok is False and 'sys.exit()' in out


@pytest.mark.parametrize('key', FUNCTIONS, ids=lambda k: f'{k[0]}.{k[1]}')
def test_ctrl_c_still_stops_a_check(key):
    "KeyboardInterrupt is the one exception check lets through, so that a learner can stop a function that hangs"
    def interrupted(*a, **k): raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt): check(*key, _shaped(key, interrupted))


@pytest.mark.parametrize('key', FUNCTIONS, ids=lambda k: f'{k[0]}.{k[1]}')
def test_global_modes_survive_an_answer(capsys, key):
    "An answer that switches off autograd, or changes the default dtype, does not change the next judgement"
    def rude(*a, **k):
        torch.set_grad_enabled(False); torch.set_default_dtype(torch.float64)
        return reference(*key)(*a, **k)
    run(capsys, *key, _shaped(key, rude))
    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
    assert run(capsys, *key, reference(*key))[0] is True


# --- answers that change the data they are given ---------------------------------------------------------------------

def _update_zeroing_data(a, x, y, lr):
    "issue 20: a correct step that then zeroes x and y, which fooled a reference computed on the same tensors"
    loss = mse(x@a, y); loss.backward()
    with torch.no_grad(): a.sub_(lr * a.grad); a.grad.zero_()
    x.zero_(); y.zero_()
    return loss

def _update_on_zeroed_data(a, x, y, lr):
    "zeroes the data first: a stays put, and so would a reference computed on the same tensors"
    x.zero_(); y.zero_()
    mse(x@a, y).backward()
    with torch.no_grad(): a.sub_(lr * a.grad); a.grad.zero_()

def _loss_overwriting_targets(p, t):
    "issue 20: overwrites the targets, then computes the right loss of the wrong targets"
    t.fill_(1.)
    return mnist_loss(p, t)

def _accuracy_overwriting_preds(p, t):
    p.copy_(t * 2 - 1)
    return batch_accuracy(p, t)

def _mae_grad_scaling_x(x, y, a):
    x.mul_(0)
    return x.T @ torch.sign(x@a - y) / len(x)

@pytest.mark.parametrize('lesson, n, answer, name', [
    (1, 6, _update_zeroing_data, 'x'), (1, 6, _update_on_zeroed_data, 'x'),
    (2, 7, _loss_overwriting_targets, 'targets'),
    (2, 6, _accuracy_overwriting_preds, 'preds'), (1, 2, _mae_grad_scaling_x, 'x')])
def test_answers_cannot_change_the_judges_data(capsys, lesson, n, answer, name):
    ok, out = run(capsys, lesson, n, answer)
    assert ok is False and f'changed its input `{name}` in place' in out, out


def test_judges_data_is_fresh_after_a_mutating_answer(capsys):
    "After answers that zeroed their data, the right answers still pass: nothing the answers did reached the judges"
    for lesson, n, answer, _ in [(1, 6, _update_zeroing_data, 0), (2, 7, _loss_overwriting_targets, 0)]:
        run(capsys, lesson, n, answer)
        assert run(capsys, lesson, n, reference(lesson, n))[0] is True


# --- numbering ---------------------------------------------------------------------------------------------------

class _LoudRepr:
    def __repr__(self): raise RuntimeError('no repr')

@pytest.mark.parametrize('lesson, n', [(9, 1), (3, 7), (1, 99), (1, 0), (None, None), (1, 'a'), ('x', 1), (1.0, 1),
                                       (True, 1), (1, 2.5), (-1, 1), (_LoudRepr(), 1), ('1', _LoudRepr()),
                                       ('x' * 10_000, 1), (np.bool_(True), 1)])
def test_unknown_exercise(capsys, lesson, n):
    ok, out = run(capsys, lesson, n, 1)
    assert ok is False and any(w in out for w in ('no such exercise', 'no lesson', 'whole number', 'not a string')), out


@pytest.mark.parametrize('nb, n', [(10, 3), (11, 2), (12, 5)])
def test_notebook_numbers_point_to_the_lesson(capsys, nb, n):
    ok, out = run(capsys, nb, n, reference(nb - 9, n))
    assert ok is False and f'check({nb - 9}, {n}, answer)' in out and f'Exercise {nb - 9}.{n}' in out, out


@pytest.mark.parametrize('lesson, n, new', [('10', 1, 'check(1, 1, answer)'), ('1', 3, 'check(1, 3, answer)'),
                                            (' 12 ', 6, 'check(3, 6, answer)')])
def test_a_lesson_given_as_a_string(capsys, lesson, n, new):
    "issue 20: check('10', 1, …) said exercise 10.1 did not exist while listing it"
    ok, out = run(capsys, lesson, n, 0.25)
    assert ok is False and new in out and 'not a string' in out and 'no such' not in out, out


def test_registry_is_open_to_another_lesson(capsys):
    saved = dict(_LESSONS)
    try:
        register(9, {1: Count('a count', 3), 2: Number('a number', 0.5)})
        assert run(capsys, 9, 1, 3)[0] is True and run(capsys, 9, 2, 0.501)[0] is True
        assert 'check(9, 1, answer)' in run(capsys, 18, 1, 3)[1]          # lesson 9 would be notebook 18
    finally:
        _LESSONS.clear(); _LESSONS.update(saved)
    assert 'no lesson 9' in run(capsys, 9, 1, 3)[1]


@pytest.mark.parametrize('lesson, table, words', [
    (0, {1: Count('c', 1)}, 'lesson=0'), ('1', {1: Count('c', 1)}, "lesson='1'"),
    (1, {1: Count('c', 1), 3: Count('c', 1)}, '[1, 3]'),
    (1, {}, 'no exercises'), (1, {1: 0.5}, 'a float'), (1, {1: lambda x: x}, 'a function')])
def test_register_refuses_a_bad_table(lesson, table, words):
    saved = dict(_LESSONS)
    try:
        with pytest.raises((ValueError, TypeError), match=re.escape(words)): register(lesson, table)
    finally:
        _LESSONS.clear(); _LESSONS.update(saved)


# --- typical wrong answers ---------------------------------------------------------------------------------------

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

def _update_scaled(a, x, y, lr):
    mse(x@a, y).backward()
    with torch.no_grad(): a.sub_(2 * lr * a.grad); a.grad.zero_()

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
                'axes': ((sevens - m7)**2).mean(0).sqrt(),
                'percent': 100 * ((sevens - m7)**2).mean((1, 2)).sqrt()}[kind]
    return f


WRONG = [
    # lesson 1
    (1, 1, 0.5, 'standard deviation'), (1, 1, 1/12, "U[0, 1)"), (1, 1, 0., 'above zero'), (1, 1, 0.4, 'not quite'),
    (1, 1, 0.3, 'not quite'), (1, 1, 0.24, 'give more digits'),
    (1, 2, _mse_grad, 'squared'), (1, 2, lambda x, y, a: -x.T @ torch.sign(x@a - y) / len(x), 'wrong sign'),
    (1, 2, lambda x, y, a: x.T @ torch.sign(x@a - y), 'factor of n'),
    (1, 2, lambda x, y, a: torch.zeros(2, 1), 'shape'),
    (1, 3, 15, 'full batches'), (1, 3, 4, 'one epoch'), (1, 3, 500, 'examples'), (1, 3, 19, 'off by one'),
    (1, 3, 21, 'off by one'), (1, 3, 20.5, 'whole number'), (1, 3, 7, 'not quite'),
    (1, 4, 0.9985, "lesson's data"), (1, 4, lambda: None, 'single number'),
    (1, 4, 'FAST', 'fastest'), (1, 4, 'EDGE*1.1', 'too large'), (1, 4, 'EDGE*0.9', 'too small'),
    (1, 4, 'EDGE*1.02', 'close, but not within 1%'),
    (1, 5, 'EDGE', 'edge of divergence'), (1, 5, '1/HI', 'steep direction'), (1, 5, 0.744, "lesson's data"),
    (1, 5, 'FAST*0.8', 'too small'), (1, 5, 'FAST*1.2', 'too large'),
    (1, 6, _update_no_zero, 'old gradients'), (1, 6, _update_uphill, 'uphill'),
    (1, 6, _update_on_copy, 'did not change'),
    (1, 6, _update_scaled, 'not by lr'), (1, 6, lambda a, x: None, 'raised TypeError'),
    # lesson 2
    (2, 1, _rmse_wrong('l1'), 'L1'), (2, 1, _rmse_wrong('no sqrt'), 'square root'),
    (2, 1, _rmse_wrong('mean3'), 'mean7'),
    (2, 1, _rmse_wrong('threes'), 'the 3s'), (2, 1, _rmse_wrong('axes'), 'shape'),
    (2, 1, _rmse_wrong('percent'), 'not the RMSE'),
    (2, 2, torch.tensor([2., 4., 6.]), 'x**2'), (2, 2, [1, 8, 27], 'values of x**3'),
    (2, 2, torch.tensor([3., 6., 9.]), 'faster'), (2, 2, torch.tensor([[3., 12., 27.]]), 'shape'),
    (2, 3, 0.5, 'one step'), (2, 3, 2.0, 'too large'), (2, 3, 0.9, 'too small'),
    (2, 4, 784*50 + 50*10, 'biases'), (2, 4, 39759, 'off by one'), (2, 4, 39762, 'off by one'),
    (2, 4, 784*50, 'both linear layers'), (2, 4, 784*50 + 50, 'both linear layers'), (2, 4, 23581, "simple_net's"),
    (2, 4, 784*50 + 50 + 51, 'one output'), (2, 4, 1000, 'not quite'),
    (2, 5, 95, 'percentage'), (2, 5, 97.5, 'percentage'), (2, 5, 0.5, 'lower than'),
    (2, 5, 0.9512, 'whole number of images'),
    (2, 5, -0.1, 'fraction'),
    (2, 6, _acc_probs, 'probabilities'), (2, 6, _acc_count, 'correct predictions'), (2, 6, _acc_pct, 'percentage'),
    (2, 6, _acc_each, 'one number'),
    (2, 7, _loss_no_sigmoid, 'sigmoid'), (2, 7, _loss_swapped, 'wrong'), (2, 7, _loss_sum, 'average'),
    (2, 7, _loss_item, 'gradients'),
    (2, 7, lambda p, t: torch.where(t == 1, 1 - p.sigmoid(), p.sigmoid()), 'one number'),
    # lesson 3
    (3, 1, 2/50, 'edge of divergence'), (3, 1, 1/50, 'safe'), (3, 1, 2/26, 'smallest curvature'), (3, 1, 0.1, 'equal'),
    (3, 1, 0.038, 'give more digits'), (3, 1, 0.0388, 'close, but not within 0.5%'),
    (3, 2, 19/21, 'square root'), (3, 2, 399/401, "plain gradient descent's rate"), (3, 2, 0.5, "section 2's formula"),
    (3, 2, 0.81, 'give more digits'),
    (3, 3, 1/20, 'upside down'), (3, 3, 1/15.8, 'upside down'), (3, 3, 10., 'step counts'),
    (3, 3, 400., 'proportional'),
    (3, 4, 0.9**10, 'missing'), (3, 4, 1., 'debiased'), (3, 4, 0.9, 'first few averages'),
    (3, 4, 0.66, 'give more digits'),
    (3, 5, _heavy_ball, 'heavy-ball'), (3, 5, lambda p, g, state, lr, mom, **kw: None, 'never moved'),
    (3, 5, _nesterov_new_tensor, 'never moved'), (3, 5, _plain_gd, 'did not end'),
    (3, 5, _nesterov_wrong_sign, 'did not end'),
    (3, 5, _nesterov_returns_p, 'returned a Tensor'), (3, 5, lambda p, g, state, **kw: None, 'raised ValueError'),
    (3, 5, 0.005, 'give a function'),
    (3, 6, 0.05, 'from 0'), (3, 6, 0.1, 'not its end'), (3, 6, 0.004, 'half cosine'), (3, 6, [0.052], 'single number'),
]


def _resolve(lesson, n, answer):
    "Answers given as expressions of exercise 1.4's edge and 1.5's fastest rate"
    if lesson == 2 and n == 1 and callable(answer): return answer()
    if not isinstance(answer, str): return answer
    from sgdlab.exercises_lesson1 import _lr_edge, _lr_fast, _curvatures, _wide_data
    hi = _curvatures(_wide_data()[0]).max().item()
    return eval(answer, {'EDGE': _lr_edge(), 'FAST': _lr_fast(), 'HI': hi})


@pytest.mark.parametrize('lesson, n, answer, hint', WRONG, ids=[f'{l}.{n}-{h}' for l, n, _, h in WRONG])
def test_typical_wrong_answers_fail_with_their_hint(capsys, lesson, n, answer, hint):
    ok, out = run(capsys, lesson, n, _resolve(lesson, n, answer))
    assert ok is False and out.startswith('✘') and hint in out, out


@pytest.mark.parametrize('lesson, n, answer', [
    (1, 1, 0.25), (1, 1, torch.tensor(0.25)), (1, 1, 0.252), (1, 1, 0.248), (1, 3, 20.0), (1, 3, torch.tensor(20)),
    (1, 3, np.int64(20)), (1, 6, _update_zero_first), (2, 2, [3, 12, 27]), (2, 2, np.array([3., 12., 27.])),
    (2, 3, 1), (2, 4, torch.tensor(39760)), (2, 5, 0.995), (2, 5, 1.0), (2, 5, torch.tensor(0.99)), (2, 6, _acc_numpy),
    (3, 1, 1/26), (3, 1, 0.0385), (3, 2, torch.tensor(0.8186)), (3, 3, 20), (3, 3, 19.5), (3, 3, 15.8), (3, 3, 16),
    (3, 4, 0.6513), (3, 4, 0.65), (3, 4, Decimal('0.651')), (3, 5, _nesterov_ok), (3, 6, 0.052),
])
def test_other_right_answers_pass(capsys, lesson, n, answer):
    ok, out = run(capsys, lesson, n, answer)
    assert ok is True, out


@pytest.mark.parametrize('key', NUMBERS, ids=lambda k: f'{k[0]}.{k[1]}')
def test_rounding_is_never_sent_back_to_redo_the_work(capsys, key):
    "issue 22 §3: three significant figures always count; two either count or are told to give more digits"
    ref, ex = reference(*key), exercise(*key)
    assert run(capsys, *key, float(f'{ref:.3g}'))[0] is True or ex.tol < 0.005
    ok, out = run(capsys, *key, float(f'{ref:.2g}'))
    assert ok is True or 'give more digits' in out, out


def test_hints_do_not_give_the_answer_away(capsys):
    "No hint prints the reference number itself"
    for lesson, n, answer, _ in WRONG:
        answer = _resolve(lesson, n, answer)
        check(lesson, n, answer)
        out = capsys.readouterr().out
        if isinstance(answer, (int, float)): out = out.replace(f'{answer:g}', '<yours>')  # a hint may echo the answer
        ref = reference(lesson, n)
        if isinstance(ref, (int, float)) and not isinstance(ref, bool):
            for shown in {f'{ref:g}', f'{ref:.3f}', f'{ref:.4f}', str(ref)} - {'1'}:
                assert shown not in out.split(':', 1)[1], (lesson, n, out)


def test_checking_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    for key in ALL: check(*key, reference(*key))
    assert torch.equal(torch.get_rng_state(), before)


# --- the tables agree with the lessons -------------------------------------------------------------------------------

def _lesson_notebook(lesson: int) -> Path:
    "Lesson N is notebook N + 9 (lesson 1 is 10_sgd_from_scratch)"
    found = sorted((ROOT/'nbs').glob(f'{lesson + 9}_*.ipynb'))
    assert len(found) == 1, (lesson, found)
    return found[0]

def _cells(nb: Path, kind: str) -> list[str]:
    return [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == kind]


@pytest.mark.parametrize('key', ALL, ids=lambda k: f'{k[0]}.{k[1]}')
def test_each_exercise_is_in_its_lesson_with_its_tolerance(key):
    "The lesson titles the exercise 'Exercise L.n', states its row's tolerance, and checks it with check(L, n, …)"
    lesson, n = key
    nb = _lesson_notebook(lesson)
    texts = [t for t in _cells(nb, 'markdown') if re.search(rf'\*\*Exercise {lesson}\.{n}\b', t)]
    assert len(texts) == 1, f'{nb.name} has {len(texts)} markdown cells titled **Exercise {lesson}.{n}'
    rule = getattr(exercise(*key), 'rule', '')
    if isinstance(exercise(*key), (Number, Values)):
        assert rule in texts[0], f'{nb.name}: Exercise {lesson}.{n} should say "{rule}"'
    calls = [c for c in _cells(nb, 'code') if re.search(rf'\bcheck\({lesson}, {n}, ', c)]
    assert calls, f'{nb.name} never calls check({lesson}, {n}, …)'


@pytest.mark.parametrize('lesson', sorted(_LESSONS))
def test_lessons_use_their_own_numbers(lesson):
    "No check cell or exercise title in a lesson uses the notebook's number"
    nb = _lesson_notebook(lesson)
    code, md = '\n'.join(_cells(nb, 'code')), '\n'.join(_cells(nb, 'markdown'))
    assert not re.search(rf'\bcheck\({lesson + 9}\b', code) and f'Exercise {lesson + 9}.' not in md


def test_accuracy_reference_matches_library():
    from sgdlab.exercises_lesson2 import _acc_cases
    for p, t in _acc_cases(): assert reference(2, 6)(p, t) == batch_accuracy(p, t)
    g = torch.Generator().manual_seed(1)
    p = torch.randn(20, 1, generator=g)
    assert torch.allclose(reference(2, 7)(p, (p > 0).float()), mnist_loss(p, (p > 0).float()))


def test_lesson2_accuracy_reference_is_an_honest_result():
    acc = reference(2, 5)
    assert 0.9 <= acc <= 1 and abs(acc * 200 - round(acc * 200)) < 1e-4


def test_lesson3_references_match_the_lesson():
    "The reference answers agree with the formulas of lesson 3, and 3.5's target is Nesterov's look-ahead point"
    from sgdlab.exercises_lesson3 import _lookahead_end, _heavy_ball_end, _counted_speedup
    assert math.isclose(reference(3, 1), 2/52) and math.isclose(reference(3, 2), (19/21)**2)
    assert math.isclose(reference(3, 3), math.log(19/21) / math.log(399/401)) and abs(reference(3, 3) - 20) < 0.05
    assert math.isclose(reference(3, 4), 1 - 0.9**10) and math.isclose(reference(3, 6), (0.004 + 0.1) / 2)
    kappa = torch.tensor([1., 100.], dtype=torch.float64)
    w = prev = torch.tensor([-10., 1.], dtype=torch.float64)
    for _ in range(20):   # the lesson's `nesterov`, written out: the gradient is taken at the look-ahead point
        y = w + 0.9*(w - prev)
        w, prev = y - 0.005 * kappa * y, w
    assert torch.allclose(_lookahead_end(0.005, 0.9, 20), w + 0.9*(w - prev), rtol=1e-12)
    assert not torch.allclose(_lookahead_end(0.005, 0.9, 20), _heavy_ball_end(0.005, 0.9, 20), rtol=1e-3)
    # the counted speed-up, as the lesson's race_kappa(400) measures it, with torch instead of the judge's floats
    def steps(lr, beta):
        c, w, prev = torch.tensor([1., 400.], dtype=torch.float64), torch.tensor([-10., 1.], dtype=torch.float64), None
        prev, d0 = w.clone(), w.norm()
        for t in range(1, 10_000):
            w, prev = w - lr*c*w + beta*(w - prev), w
            if w.norm() < 1e-6 * d0: return t
    counted = steps(2/401, 0.) / steps(4/21**2, (19/21)**2)
    assert math.isclose(_counted_speedup(), counted) and round(counted, 1) == 15.8


def test_lesson2_count_matches_pytorch():
    "Exercise 2.4's net, counted by PyTorch"
    net = torch.nn.Sequential(torch.nn.Linear(784, 50), torch.nn.ReLU(), torch.nn.Linear(50, 10))
    assert reference(2, 4) == sum(p.numel() for p in net.parameters()) == 39760


# --- issue 20 (edges): answers get their own copies; every suggested call is a right call; nearly right answers -------

from sgdlab.exercises import run_answer


def test_run_answer_hands_over_copies():
    "The judge's own tensors are untouched whatever the answer does to its inputs; only may_change ones are shared"
    x, y, a = torch.ones(3), torch.arange(3.), torch.zeros(3, requires_grad=True)
    def vandal(a, x, y):
        with torch.no_grad(): a.add_(1)
        x.zero_(); y.fill_(7.)
    with pytest.raises(Hint, match='changed its input `x` in place'): run_answer(vandal, 'f(a, x, y)', a, x, y, may_change=('a',))
    assert torch.equal(x, torch.ones(3)) and torch.equal(y, torch.arange(3.)) and torch.equal(a.detach(), torch.ones(3))


def test_copies_keep_what_autograd_needs():
    "A leaf that requires grad is handed over as such a leaf, so an answer can call backward and read .grad"
    p = torch.tensor([1., 2.], requires_grad=True)
    def grad_of_sum(p): (p * p).sum().backward(); return p.grad.clone()
    assert torch.equal(run_answer(grad_of_sum, 'g(p)', p), torch.tensor([2., 4.])) and p.grad is None
    q = p * 3   # a non-leaf: its copy keeps the graph back to p
    assert run_answer(lambda q: q.sum(), 'h(q)', q).requires_grad


def _zeroing_after(ref):
    "The reference answer, which then zeroes every float tensor it was given: right value, destroyed inputs"
    def answer(*args, **kw):
        out = ref(*args, **kw)
        with torch.no_grad():
            for t in args:
                if isinstance(t, torch.Tensor) and t.is_floating_point(): t.zero_()
        return out
    return answer

@pytest.mark.parametrize('key', FUNCTIONS, ids=lambda k: f'{k[0]}.{k[1]}')
def test_a_right_answer_that_destroys_its_inputs_fails(capsys, key):
    ok, out = run(capsys, *key, _zeroing_after(reference(*key)))
    assert ok is False, out
    assert run(capsys, *key, reference(*key))[0] is True


_CALL = re.compile(r'call check\((\d+), (\d+), answer\)')

@pytest.mark.parametrize('lesson, n', [('10', 1), ('5', 1), ('1', 99), ('1', '3'), (1, '3'), ('10', '2'), (10, 99),
                                       ('14', 1), (14, 1), (' 12 ', 6), ('2', 7), (11, '7')])
def test_every_suggested_call_is_right(capsys, lesson, n):
    "A hint that says which call to make names one that exists; one that cannot says why, and suggests none"
    ok, out = run(capsys, lesson, n, 0.5)
    assert ok is False
    if m := _CALL.search(out):
        L, k = int(m[1]), int(m[2])
        assert run(capsys, L, k, reference(L, k))[0] is True, out
    else:
        assert any(w in out for w in ('no such exercise', 'there is no lesson')), out
        assert 'check(' not in out.split(':', 1)[1], out


@pytest.mark.parametrize('key', NUMBERS, ids=lambda k: f'{k[0]}.{k[1]}')
def test_nearly_right_numbers(capsys, key):
    "Half the tolerance away passes; five times it fails (unless that lands on another accepted answer)"
    ex = exercise(*key)
    ref = ex.reference()
    assert run(capsys, *key, ref * (1 + ex.tol / 2))[0] is True
    off = ref * (1 + 5 * ex.tol)
    if not any(abs(off - float(a() if callable(a) else a)) <= ex.tol * abs(off) * 2 for a in ex.also):
        ok, out = run(capsys, *key, off)
        assert ok is False and 'correct' not in out, out


@pytest.mark.parametrize('key', [k for k in ALL if isinstance(exercise(*k), Count)], ids=lambda k: f'{k[0]}.{k[1]}')
def test_counts_one_off_fail(capsys, key):
    t = exercise(*key).target
    for v in (t - 1, t + 1): assert run(capsys, *key, v)[0] is False
