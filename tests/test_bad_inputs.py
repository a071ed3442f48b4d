"""Every public function, walked through the classes of bad input a new user hits (issue 16): non-finite values,
empty input, wrong dtypes, numpy scalars (accepted), wrong shapes, wrong container types, unwritable paths and
duplicate names. One row per case: the call, and either the right result (`Ok`) or the error type and the words its
message must contain (`Err`). A new public function gets its rows here; `test_every_public_name_has_a_row` fails until
it does."""
from __future__ import annotations
import math, warnings
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
import numpy as np
import pytest
import torch
from torch import nn
import sgdlab
from sgdlab import *
from sgdlab.cli import main

PKG = Path(sgdlab.__file__).resolve().parent
UNWRITABLE = '/sys'   # refuses new files even for root

# --- what a row expects ----------------------------------------------------------------------------

@dataclass
class Ok:
    "The call returns; `check(result)` must be true"
    check: Callable = lambda r: True

@dataclass
class Err:
    "The call raises one of `types`; the message holds every word (a tuple means any one of its words), ignoring case"
    types: type | tuple
    words: tuple = ()
    not_words: tuple = ()   # words that would blame the wrong thing
    deep_ok: bool = False   # True: the error may be raised outside sgdlab (e.g. by argparse or pathlib)

@dataclass
class Exit:
    "The CLI exits with `code` and one line on stderr holding every word"
    code: int = 2
    words: tuple = ()

@dataclass
class Warns:
    "The call returns after a warning of `category` holding every word"
    category: type
    words: tuple = ()

@dataclass
class Either:
    "Any one of the expectations holds (e.g. 'convert it, or say clearly that you don't')"
    options: tuple

@dataclass
class Row:
    fn: str            # the public name(s) the row exercises, space separated
    case: str          # what is wrong with the input
    call: Callable     # call(ctx) -> result
    expect: object
    @property
    def id(self): return f"{self.fn}: {self.case}"

# --- small shared inputs ---------------------------------------------------------------------------

X, Y = linear_data(10, seed=0)

def lin():
    "A fresh linear model `x@a` and its parameter list"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return (lambda x: x@a), [a]

def learner(x=X, y=Y, **kw):
    model, ps = lin()
    kw.setdefault('lr', 0.1)
    return Learner(model, x, y, params=ps, **kw)

def folder(p: Path) -> Path:
    p.mkdir(exist_ok=True); return p

def lrf(x=X, y=Y, **kw):
    model, ps = lin()
    return lr_find(model, x, y, params=ps, **kw)

def fit_lin(x=X, y=Y, **kw):
    model, ps = lin()
    kw.setdefault('lr', 0.1)
    return fit(model, x, y, params=ps, **kw)

def fit_lr(lr, **kw):
    "A 3-step fit of the line at `lr`, for explore's rows"
    return fit_lin(lr=lr, epochs=3, **kw)

_explorer = []
def small_explorer():
    "A 2-point explorer, built once, for the rows that save or look up"
    if not _explorer: _explorer.append(explore(fit_lr, {'lr': [0.1, 0.2]}, surface=(X, Y)))
    return _explorer[0]

def with_value(t, i, v):
    t = t.clone(); t.view(-1)[i] = v; return t

def opt_step(opt_factory, lr_check=0.9):
    "Build an optimizer on p = 1.0, give it gradient 1.0, step: p must become `lr_check`"
    p = torch.ones(1, requires_grad=True)
    opt = opt_factory([p])
    p.grad = torch.ones(1)
    opt.step()
    return abs(p.item() - lr_check) < 1e-6

def grad_of(p, v=1.):
    p.grad = torch.full_like(p, v); return p

@dataclass
class Ctx:
    tmp: Path
    _anim: object = None
    @property
    def anim(self):
        "A small animation to save"
        if self._anim is None: self._anim = animate_fit(X, Y, fit_lin(epochs=3))
        return self._anim

def two_lambda_metrics_ok(h):
    return all(len(v) == 2 for v in h.metrics.values()) and len(h.metrics) == 2

def metric_raises(preds, targs): raise ZeroDivisionError('division by zero')

def batches_of_rows(dl):
    b = next(iter(dl))
    b = b[0] if isinstance(b, (tuple, list)) and len(b) == 1 else b
    return len(dl) == 2 and isinstance(b, torch.Tensor) and b.shape == (5, 4)

def pair_with_list_labels_ok(dl):
    return len(dl) == 2 and [len(yb) for _, yb in dl] == [5, 5]

def dict_items_ok(dl):
    b = next(iter(dl))
    return isinstance(b, dict) and set(b) == {'x', 'y'} and torch.is_tensor(b['x']) and b['x'].shape == (5, 2)

def frozen_first_layer():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    m[0].requires_grad_(False)
    return m

NONFINITE = ('nan', 'inf', 'finite')

def exits(*args): raise SystemExit(3)                      # check's rows: answers that misbehave
def raises_base(*args): raise GeneratorExit('not an Exception')
def zeroes_its_data(a, x, y, lr):
    mse(x@a, y).backward()
    with torch.no_grad(): a.sub_(lr * a.grad); a.grad.zero_()
    x.zero_(); y.zero_()

# --- the table ---------------------------------------------------------------------------------------

ROWS = [
    # fixed after the first sweep --------------------------------------------------------------------------
    Row('ParamScheduler', 'a number in place of a schedule', lambda c: fit_lin(cbs=[ParamScheduler({'lr': 0.1})]), Err(TypeError, ('lr', ('callable', 'schedule', 'function')))),
    Row('Recorder', 'record every step', lambda c: fit_lin(epochs=3, cbs=[Recorder(True)]).param_steps, Ok(lambda r: r == [0, 1, 2])),
    Row('make_generator', 'numpy int seed', lambda c: make_generator(np.int64(3)).initial_seed(), Ok(lambda r: r == 3)),
    Row('as_params', 'an int', lambda c: as_params(5), Err(TypeError, ('param',))),
    Row('check_writable', 'unwritable folder', lambda c: check_writable(f'{UNWRITABLE}/x.gif', 'me'), Err(PermissionError, ('me:', UNWRITABLE))),
    Row('least_squares', 'empty data', lambda c: least_squares(torch.zeros(0, 2), torch.zeros(0)), Err(ValueError, ('least_squares', ('empty', 'no rows', 'no data', 'no points', '0 rows')))),
    Row('mse', 'integer tensors', lambda c: mse(torch.tensor([1, 2]), torch.tensor([1, 3])),
        Either((Ok(lambda r: r.item() == 0.5), Err((TypeError, ValueError), ('mse', ('dtype', 'integer', 'float')))))),
    Row('DataLoader', 'an int as the dataset', lambda c: DataLoader(5), Err(TypeError, ('DataLoader',))),
    Row('animate_fit', 'numpy int every', lambda c: animate_fit(X, Y, fit_lin(epochs=3), every=np.int64(2)), Ok(lambda a: list(a.steps) == [0, 2, 3])),  # every 2nd step, then the end
    # data ------------------------------------------------------------------------------------------------
    Row('linear_data', 'n = 0', lambda c: linear_data(0), Err(ValueError, ('linear_data', 'n=0'))),
    Row('linear_data', 'float n', lambda c: linear_data(10.5), Err(ValueError, ('linear_data', 'n=10.5'))),
    Row('linear_data', 'string n', lambda c: linear_data('10'), Err((ValueError, TypeError), ('linear_data', 'n='))),
    Row('linear_data', 'a of 3 numbers', lambda c: linear_data(10, a=(1., 2., 3.)), Err(ValueError, ('linear_data', '(3,)'))),
    Row('linear_data', 'unknown noise', lambda c: linear_data(10, noise='gauss'), Err(ValueError, ("'gauss'", 'uniform'))),
    Row('linear_data', 'numpy a', lambda c: linear_data(5, a=np.array([1., 2.]), seed=0), Ok(lambda r: r[1].shape == (5,))),
    Row('quadratic_data', 'n = 0', lambda c: quadratic_data(0), Err(ValueError, ('quadratic_data', 'n=0'))),
    Row('quadratic_data', 'a of 2 numbers', lambda c: quadratic_data(5, a=(1., 2.)), Err(ValueError, ('quadratic_data', 'three numbers'))),
    Row('make_generator', 'the same seed twice', lambda c: [torch.rand(2, generator=make_generator(3)) for _ in range(2)], Ok(lambda r: torch.equal(*r))),
    Row('least_squares', 'float64 numpy arrays', lambda c: least_squares(X.double().numpy(), Y.double().numpy()),
        Ok(lambda r: r.shape == (2,) and r.dtype == torch.float32)),
    Row('least_squares', 'y of shape (n, 1)', lambda c: least_squares(X, Y[:, None]), Err(ValueError, ('least_squares', '(10, 1)'))),
    Row('least_squares', 'x and y of different lengths', lambda c: least_squares(X, Y[:5]), Err(ValueError, ('least_squares', '(5,)'))),
    # losses ---------------------------------------------------------------------------------------------------
    Row('mse', 'preds (n, 1), targets (n,)', lambda c: mse(torch.zeros(3, 1), torch.zeros(3)), Err(ValueError, ('mse', '(3, 1)', '(3,)', 'squeeze'))),
    Row('mae', 'preds (n,), targets (n, 1)', lambda c: mae(torch.zeros(3), torch.zeros(3, 1)), Err(ValueError, ('mae', '(3,)', '(3, 1)'))),
    Row('rmse', 'different lengths', lambda c: rmse(torch.zeros(3), torch.zeros(4)), Err(ValueError, ('rmse', '(3,)', '(4,)'))),
    Row('check_same_shape', 'names the caller', lambda c: check_same_shape(torch.zeros(2), torch.zeros(2, 2), 'my_loss'), Err(ValueError, ('my_loss',))),
    Row('mse', 'lists and numpy arrays', lambda c: mse([1., 3.], np.zeros(2)).item(), Ok(lambda r: r == 5.)),
    Row('mse', 'NaN in preds gives NaN', lambda c: mse(torch.tensor([math.nan, 1.]), torch.zeros(2)).item(), Ok(math.isnan)),
    # optim ----------------------------------------------------------------------------------------------------
    Row('SGD', 'lr = NaN', lambda c: SGD([torch.ones(1, requires_grad=True)], lr=math.nan), Err(ValueError, ('lr=nan', 'positive'))),
    Row('SGD', 'lr = inf', lambda c: SGD([torch.ones(1, requires_grad=True)], lr=math.inf), Err(ValueError, ('lr=inf',))),
    Row('SGD', "lr = '0.1'", lambda c: SGD([torch.ones(1, requires_grad=True)], lr='0.1'), Err((ValueError, TypeError), ("lr='0.1'",))),
    Row('SGD', 'lr = 0', lambda c: opt_step(lambda ps: SGD(ps, lr=0), 1.), Ok(lambda r: r)),  # as torch.optim.SGD: no step (issue 20)
    Row('SGD', 'mom = 1', lambda c: SGD([torch.ones(1, requires_grad=True)], lr=0.1, mom=1), Err(ValueError, ('mom=1',))),
    Row('SGD', 'mom = NaN', lambda c: SGD([torch.ones(1, requires_grad=True)], lr=0.1, mom=math.nan), Err(ValueError, ('mom=nan',))),
    Row('SGD', 'wd = -1', lambda c: SGD([torch.ones(1, requires_grad=True)], lr=0.1, wd=-1), Err(ValueError, ('wd=-1',))),
    Row('SGD', 'no parameters', lambda c: SGD([], lr=0.1), Err(ValueError, ('no parameters',))),
    Row('SGD Optimizer', 'a list holding a number', lambda c: SGD([1.], lr=0.1), Err(TypeError, ('parameter 0', 'float', 'tensor'))),
    Row('SGD', 'one tensor that requires grad', lambda c: opt_step(lambda ps: SGD(ps[0], lr=0.1)), Ok(bool)),
    Row('sgd_step', 'no gradient yet', lambda c: sgd_step([torch.ones(2, requires_grad=True)], 0.1), Err(ValueError, ('backward',))),
    Row('sgd_step', 'lr = NaN', lambda c: sgd_step([grad_of(torch.ones(2, requires_grad=True))], math.nan), Err(ValueError, ('lr=nan',))),
    Row('as_params', 'a list of lists', lambda c: as_params([[1., 2.]]), Err(TypeError, ('parameter 0', 'list', 'tensor'))),
    Row('check_hypers', 'negative lr', lambda c: check_hypers(lr=-0.1), Err(ValueError, ('lr=-0.1',))),
    # steppers take finite tensors; they are checked through SGD
    Row('l2_reg average_grad apply_step', 'stepper names', lambda c: [f.__name__ for f in (l2_reg, average_grad, apply_step)], Ok(lambda r: len(r) == 3)),
    # DataLoader ---------------------------------------------------------------------------------------------
    Row('DataLoader', 'bs = 2.5', lambda c: DataLoader((X, Y), bs=2.5), Err(ValueError, ('bs=2.5',))),
    Row('DataLoader', 'bs = 0', lambda c: DataLoader((X, Y), bs=0), Err(ValueError, ('bs=0',))),
    Row('DataLoader', 'bs larger than n', lambda c: [len(xb) for xb, _ in DataLoader((X, Y), bs=100)], Ok(lambda r: r == [10])),
    Row('DataLoader', 'bs = 10**20, beyond int64', lambda c: [len(xb) for xb, _ in DataLoader((X, Y), bs=10**20)],
        Ok(lambda r: r == [10])),
    Row('DataLoader', 'bs = 10**20, shuffled', lambda c: [len(xb) for xb, _ in DataLoader((X, Y), bs=10**20, shuffle=True)],
        Ok(lambda r: r == [10])),
    Row('DataLoader', 'x and y of different lengths', lambda c: DataLoader((X, Y[:4])), Err(ValueError, ('different lengths', '[10, 4]'))),
    Row('DataLoader', 'numpy arrays', lambda c: [len(xb) for xb, _ in DataLoader((X.numpy(), Y.numpy()), bs=4)], Ok(lambda r: r == [4, 4, 2])),
    Row('DataLoader', 'a list of (x, y) items', lambda c: [tuple(xb.shape) for xb, _ in DataLoader(list(zip(X, Y)), bs=4)], Ok(lambda r: r == [(4, 2)] * 2 + [(2, 2)])),
    Row('collate', 'numbers and tensors', lambda c: collate([(torch.zeros(2), 1), (torch.ones(2), 0)]), Ok(lambda r: r[0].shape == (2, 2) and r[1].tolist() == [1, 0])),
    # fit ----------------------------------------------------------------------------------------------------------
    Row('fit', 'numpy float64 x and y with float32 parameters', lambda c: fit_lin(X.double().numpy(), Y.double().numpy()), Ok(lambda h: len(h.loss) == 1)),
    Row('fit', 'lists', lambda c: fit_lin(X.tolist(), Y.tolist()), Ok(lambda h: len(h.loss) == 1)),
    Row('fit', 'bs larger than n', lambda c: fit_lin(bs=100, epochs=2), Ok(lambda h: len(h.loss) == 2)),
    Row('fit', 'a model that fails on its own (a shape bug inside it)', lambda c: fit(lambda x: x@torch.ones(3), X, Y, params=[nn.Parameter(torch.zeros(2))], lr=0.1),
        Err(RuntimeError, (), ('dtype',), deep_ok=True)),   # the model's own error, not blamed on dtypes
    Row('fit', 'bs = 2.5', lambda c: fit_lin(bs=2.5), Err(ValueError, ('bs=2.5',))),
    Row('fit', 'epochs = 2.0', lambda c: fit_lin(epochs=2.0), Err(ValueError, ('epochs=2.0',))),
    Row('fit', 'x and y of different lengths', lambda c: fit_lin(X, Y[:5]), Err(ValueError, ('x has 10', 'y has 5'))),
    Row('fit', 'a plain-function model without params=', lambda c: fit(lambda x: x, X, Y, lr=0.1), Err(ValueError, ('params=',))),
    Row('fit', 'lr = NaN', lambda c: fit_lin(lr=math.nan), Err(ValueError, ('lr=nan',))),
    Row('fit', 'loss keeps diverging', lambda c: fit_lin(lr=50., epochs=200), Err(DivergenceError, ('smaller learning rate',))),
    Row('fit History', 'metric on valid', lambda c: fit_lin(epochs=2, valid=(X, Y), metrics=[mae]).metrics, Ok(lambda m: list(m) == ['mae'] and len(m['mae']) == 2)),
    # Learner and callbacks ------------------------------------------------------------------------------------------
    Row('Learner', 'a DataLoader as x', lambda c: len(learner(x=DataLoader((X, Y), bs=5), y=None).fit(epochs=2).loss), Ok(lambda r: r == 4)),
    Row('Learner', 'a DataLoader as x, and y', lambda c: learner(x=DataLoader((X, Y), bs=5), y=Y), Err(ValueError, ('DataLoader', 'leave out y'))),
    Row('Learner', 'epochs and steps', lambda c: learner().fit(epochs=1, steps=1), Err(ValueError, ('epochs=', 'steps=', 'not both'))),
    Row('Learner', 'steps = 0', lambda c: learner().fit(steps=0), Either((Ok(lambda h: len(h.loss) == 0), Err(ValueError, ('steps=0',))))),
    Row('Learner', 'steps = 2.5', lambda c: learner().fit(steps=2.5), Err(ValueError, ('steps=2.5',))),
    Row('Learner', 'y left out', lambda c: learner(y=None), Err(ValueError, ('y is missing',))),
    Row('Learner', 'metrics without valid', lambda c: learner(metrics=[mae]), Err(ValueError, ('valid=',))),
    Row('Learner', 'a callback that is not a Callback', lambda c: learner(cbs=[print]), Err(TypeError, ('not a Callback',))),
    Row('Learner', 'x is a dict', lambda c: learner(x={'a': 1}), Err(TypeError, ('x', 'dict'))),
    Row('Learner', 'x is a single number', lambda c: learner(x=3.), Err((ValueError, TypeError), ('x', ('single number', 'one row per example')))),
    Row('Learner fit', 'a schedule as lr', lambda c: fit_lin(lr=lambda pos: 0.1 * (1 - pos), steps=4).lrs, Ok(lambda r: r == pytest.approx([0.1, 0.075, 0.05, 0.025]))),
    Row('ParamScheduler', 'a schedule that returns NaN', lambda c: fit_lin(lr=lambda pos: math.nan), Err(ValueError, ('lr', NONFINITE))),
    Row('PrintCallback', 'every = 0', lambda c: PrintCallback(0), Err(ValueError, ('print_every=0',))),
    Row('PrintCallback fit', 'numpy int print_every', lambda c: fit_lin(epochs=3, print_every=np.int64(2)), Ok(lambda h: len(h.loss) == 3)),
    Row('fit Recorder', 'record_params=True', lambda c: fit_lin(epochs=3, record_params=True).param_steps, Ok(lambda r: r == [0, 1, 2])),
    Row('ProgressCallback', 'a bar for 3 steps', lambda c: fit_lin(epochs=3, cbs=[ProgressCallback(True)]), Ok(lambda h: len(h.loss) == 3)),
    Row('ValidateCallback', 'NaN in the validation targets', lambda c: fit_lin(valid=(X, with_value(Y, 1, math.nan))), Err(ValueError, ('valid y', NONFINITE), ('learning rate',))),
    Row('History', 'save into an unwritable folder', lambda c: fit_lin().save(f'{UNWRITABLE}/h.pt'), Err(PermissionError, (UNWRITABLE,))),
    Row('History', 'load a missing file', lambda c: History.load(c.tmp/'missing.pt'), Err(FileNotFoundError, ('missing.pt',), deep_ok=True)),
    # viz --------------------------------------------------------------------------------------------------------
    Row('animate_fit FitAnimation', 'a fit of 3 steps', lambda c: (len(list(c.anim.render())), len(c.anim.steps)), Ok(lambda r: r[0] == r[1] >= 3)),
    Row('animate_fit', 'every = 0', lambda c: animate_fit(X, Y, fit_lin(epochs=3), every=0), Err(ValueError, ('every=0',))),
    Row('animate_fit', "panel = 'lost'", lambda c: animate_fit(X, Y, fit_lin(epochs=3), panel='lost'), Err(ValueError, ("panel='lost'",))),
    Row('animate_fit', 'History without parameters', lambda c: animate_fit(X, Y, fit_lin(epochs=2, record_params=False)), Err(ValueError, ('record_params=True',))),
    Row('save_anim', 'missing folder', lambda c: save_anim(c.anim, c.tmp/'no'/'x.gif'), Err(FileNotFoundError, ('does not exist',))),
    Row('save_anim', 'unknown extension', lambda c: save_anim(c.anim, c.tmp/'x.avi'), Err(ValueError, ('.gif',))),
    Row('to_np', 'a tensor that requires grad', lambda c: to_np(torch.ones(2, requires_grad=True)), Ok(lambda r: isinstance(r, np.ndarray))),
    Row('plot_function', 'numpy float bounds', lambda c: plot_function(torch.sin, min=np.float32(-1), max=np.float64(1)), Ok()),
    Row('plot_fit', 'a parameter tensor', lambda c: plot_fit(X, Y, torch.tensor([3., 2.])), Ok()),
    Row('loss_surface', 'x of shape (n, 3)', lambda c: loss_surface(torch.ones(4, 3), torch.ones(4)), Err(ValueError, ('loss_surface', '(4, 3)'))),
    # mnist --------------------------------------------------------------------------------------------------------
    Row('mnist_sample', 'digits (3, 3)', lambda c: mnist_sample(digits=(3, 3)), Err(ValueError, ('(3, 3)', 'two different'))),
    Row('mnist_sample', 'digit 10', lambda c: mnist_sample(digits=(3, 10)), Err(ValueError, ('(3, 10)', '0 to 9'))),
    Row('mnist_sample', "digits '37'", lambda c: mnist_sample(digits='37'), Err(ValueError, ("'37'",))),
    Row('mnist_sample', 'valid_pct = 0', lambda c: mnist_sample(valid_pct=0), Err(ValueError, ('valid_pct=0',))),
    Row('mnist_sample', 'valid_pct = 1', lambda c: mnist_sample(valid_pct=1), Err(ValueError, ('valid_pct=1',))),
    Row('mnist_sample', 'valid_pct = NaN', lambda c: mnist_sample(valid_pct=math.nan), Err(ValueError, ('valid_pct=nan',))),
    Row('mnist_sample', 'a folder that does not exist', lambda c: mnist_sample(path=c.tmp/'nope'), Err(FileNotFoundError, ('nope',))),
    Row('mnist_loss', 'preds (n, 1), targets (n,)', lambda c: mnist_loss(torch.zeros(4, 1), torch.zeros(4)), Err(ValueError, ('mnist_loss', '(4, 1)', '(4,)'))),
    Row('batch_accuracy', 'preds (n, 1), targets (n,)', lambda c: batch_accuracy(torch.zeros(4, 1), torch.zeros(4)), Err(ValueError, ('batch_accuracy', '(4, 1)', '(4,)'))),
    # files ---------------------------------------------------------------------------------------------------------
    Row('check_writable', 'a folder', lambda c: check_writable(c.tmp, 'me'), Err(IsADirectoryError, ('me:', 'folder'))),
    Row('check_writable', 'missing folder', lambda c: check_writable(c.tmp/'no'/'x', 'me'), Err(FileNotFoundError, ('me:', 'does not exist'))),
    Row('atomic_write', 'unwritable folder', lambda c: atomic_write(f'{UNWRITABLE}/x.gif', 'me').__enter__(), Err(PermissionError, ('me:', UNWRITABLE))),
    # explore -------------------------------------------------------------------------------------------------------
    Row('explore', 'an empty grid', lambda c: explore(fit_lr, {}), Err(ValueError, ('explore', 'empty'))),
    Row('explore', 'a value list that is empty', lambda c: explore(fit_lr, {'lr': []}),
        Err(ValueError, ("grid['lr']", 'empty'))),
    Row('explore', 'a list as the grid', lambda c: explore(fit_lr, [0.1, 0.2]), Err(TypeError, ('grid', 'dict'))),
    Row('explore', 'a single number as values', lambda c: explore(fit_lr, {'lr': 0.1}),
        Err(TypeError, ("grid['lr']", '[0.1]'))),
    Row('explore', 'NaN in the grid', lambda c: explore(fit_lr, {'lr': [0.1, math.nan]}),
        Err(ValueError, ("grid['lr']", 'nan'))),
    Row('explore', 'inf in the grid', lambda c: explore(fit_lr, {'lr': [math.inf]}),
        Err(ValueError, ("grid['lr']", 'inf'))),
    Row('explore', 'numbers and strings mixed', lambda c: explore(fit_lr, {'lr': [0.1, '0.2']}),
        Err(TypeError, ('numbers', 'strings'))),
    Row('explore', 'the same value twice', lambda c: explore(fit_lr, {'lr': [0.1, 0.1]}),
        Err(ValueError, ('0.1 twice',))),
    Row('explore', 'numpy values', lambda c: explore(fit_lr, {'lr': np.array([0.1, 0.2], dtype=np.float32)}),
        Ok(lambda e: len(e) == 2)),
    Row('explore', 'f does not return a History', lambda c: explore(lambda lr: fit_lr(lr).loss, {'lr': [0.1]}),
        Err(TypeError, ('f(lr=0.1)', 'returned list', 'History'))),
    Row('explore', 'f returns an empty History', lambda c: explore(lambda lr: History(), {'lr': [0.1]}),
        Err(ValueError, ('f(lr=0.1)', 'no steps'))),
    Row('explore', 'f takes fewer parameters than the grid has',
        lambda c: explore(lambda lr: fit_lr(lr), {'lr': [0.1], 'mom': [0.]}),
        Err(TypeError, ('mom', 'f('))),
    Row('explore', 'f takes more parameters than the grid has',
        lambda c: explore(lambda lr, mom: fit_lr(lr), {'lr': [0.1]}),
        Err(TypeError, ('mom',))),
    Row('explore', 'f is not callable', lambda c: explore(3, {'lr': [0.1]}), Err(TypeError, ('function',))),
    Row('explore', 'a grid too big',
        lambda c: explore(partial(fit_lr, record_params=True), {'lr': [0.1, 0.2, 0.3]}, max_kb=1),
        Err(ValueError, ('kB', 'max_kb=1', ('every=', 'fewer values')))),
    Row('explore', 'max_kb = NaN', lambda c: explore(fit_lr, {'lr': [0.1]}, max_kb=math.nan),
        Err(ValueError, ('max_kb=nan',))),
    Row('explore', 'every = 0', lambda c: explore(fit_lr, {'lr': [0.1]}, every=0), Err(ValueError, ('every=0',))),
    Row('explore', 'numpy int every', lambda c: explore(fit_lr, {'lr': [0.1]}, every=np.int64(2)),
        Ok(lambda e: e.data['every'] == 2)),
    Row('explore', "along = 'epochs'", lambda c: explore(fit_lr, {'lr': [0.1]}, along='epochs'),
        Err(ValueError, ("along='epochs'",))),
    Row('explore', 'default not in the grid', lambda c: explore(fit_lr, {'lr': [0.1]}, default={'lr': 0.5}),
        Err(ValueError, ('default=', '0.5'))),
    Row('explore', 'surface x of shape (n, 3)',
        lambda c: explore(fit_lr, {'lr': [0.1]}, surface=(torch.ones(10, 3), Y)),
        Err(ValueError, ('surface', '(10, 3)'))),
    Row('explore', 'NaN in the surface data',
        lambda c: explore(fit_lr, {'lr': [0.1]}, surface=(X, with_value(Y, 2, math.nan))),
        Err(ValueError, ('surface', NONFINITE))),
    Row('explore', 'a dict of surfaces keyed by no hyper-parameter',
        lambda c: explore(fit_lr, {'lr': [0.1]}, surface={'a': (X, Y)}),
        Err(ValueError, ('surface=', 'not the values'))),
    Row('explore', 'a surface without recorded parameters',
        lambda c: explore(partial(fit_lr, record_params=False), {'lr': [0.1]}, surface=(X, Y)),
        Err(ValueError, ('record_params=True',))),
    Row('explore', 'a diverging fit is a point',
        lambda c: explore(lambda lr: fit_lin(lr=lr, epochs=200), {'lr': [50.]}),
        Ok(lambda e: 'diverged' in e.data['points'][0]['t'])),
    Row('Explorer', 'save into an unwritable folder', lambda c: small_explorer().save(f'{UNWRITABLE}/x.html'),
        Err(PermissionError, (UNWRITABLE,))),
    Row('Explorer', 'save into a missing folder', lambda c: small_explorer().save(c.tmp/'no'/'x.html'),
        Err(FileNotFoundError, ('does not exist',))),
    Row('Explorer', 'save as .png', lambda c: small_explorer().save(c.tmp/'x.png'),
        Err(ValueError, ('.html', 'still()'))),
    Row('Explorer', 'a value not in the grid', lambda c: small_explorer().hist(lr=0.3),
        Err(KeyError, ('lr=0.3', '[0.1, 0.2]'))),
    Row('Explorer', 'a name not in the grid', lambda c: small_explorer().still(mom=0.9), Err(KeyError, ("'mom'",))),
    # CLI ----------------------------------------------------------------------------------------------------------
    Row('main demo', '--out in a missing folder', lambda c: main(['demo', '--out', str(c.tmp/'no'/'x.gif')]), Exit(2, ('does not exist',))),
    Row('main demo', '--lr nan', lambda c: main(['demo', '--lr', 'nan']), Exit(2, (('--lr nan', 'lr=nan'),))),
    Row('main demo', '--lr inf', lambda c: main(['demo', '--lr', 'inf']), Exit(2, (('--lr inf', 'lr=inf'),))),
    Row('main demo', '--n 0', lambda c: main(['demo', '--n', '0']), Exit(2, ('--n 0',))),
    Row('main demo', '--steps 2.5', lambda c: main(['demo', '--steps', '2.5']), Exit(2, ('--steps', '2.5'))),
    Row('main demo', '--out .avi', lambda c: main(['demo', '--out', 'x.avi']), Exit(2, ('.avi',))),
    # --- issue 20 §5: the demo names the flag the user typed; seeds beyond torch's 64 bits; the player's mode ---
    Row('main demo', '--lr -1', lambda c: main(['demo', '--lr', '-1']), Exit(2, ('--lr -1.0 must be',))),
    Row('main demo', '--bs 0', lambda c: main(['demo', '--bs', '0']), Exit(2, ('--bs 0 must be',))),
    Row('main demo', '--steps 0', lambda c: main(['demo', '--steps', '0']), Exit(2, ('--steps 0 must be',))),
    Row('main demo', '--seed 99999999999999999999', lambda c: main(['demo', '--seed', '99999999999999999999']),
        Exit(2, ('--seed 99999999999999999999 is out of range',))),
    Row('make_generator', 'a seed beyond 2**64 - 1', lambda c: make_generator(10**20),
        Err(ValueError, ('seed=100000000000000000000', 'out of range', '2**64 - 1'))),
    Row('make_generator', 'a seed below -2**63', lambda c: make_generator(-2**63 - 1),
        Err(ValueError, ('out of range',))),
    Row('make_generator', 'the largest seed, as numpy uint64',
        lambda c: make_generator(np.uint64(2**64 - 1)).initial_seed(), Ok(lambda r: r == 2**64 - 1)),
    Row('linear_data', 'a seed beyond 2**64 - 1', lambda c: linear_data(5, seed=2**64),
        Err(ValueError, ('seed=', 'range'))),
    Row('FitAnimation', "to_jshtml(default_mode='reflect')", lambda c: c.anim.to_jshtml(default_mode='reflect'),
        Err(ValueError, ("default_mode='reflect'", "'once' or 'loop'"))),
    # --- what issues 13 and 16 ask for -----------------------------------------------------------------------
    Row('linear_data', 'n = NaN', lambda c: linear_data(math.nan), Err((ValueError, TypeError), ('linear_data', 'n=nan'))),
    Row('DataLoader', 'empty tensors', lambda c: list(DataLoader((torch.zeros(0, 2), torch.zeros(0)), bs=4)),
        Either((Ok(lambda r: r == []), Err(ValueError, ('DataLoader', ('empty', 'no rows', 'no examples')))))),
    Row('fit', 'epochs = 0', lambda c: fit_lin(epochs=0), Either((Ok(lambda h: len(h.loss) == 0), Err(ValueError, ('epochs=0',))))),
    Row('animate_fit', 'an empty History', lambda c: animate_fit(X, Y, History()), Err(ValueError, ('animate_fit', ('empty', 'no steps', 'no parameters')))),
    Row('mnist_sample', 'numpy digits and valid_pct', lambda c: mnist_sample(digits=(np.int64(3), np.int64(7)), valid_pct=np.float32(0.2)),
        Ok(lambda r: len(r) == 4)),
    # --- more cases from issues 13 and 16 ---
    Row('fit', 'NaN in x', lambda c: fit_lin(with_value(X, 5, math.nan), Y), Err(ValueError, ('x', NONFINITE), ('learning rate',))),
    Row('fit', 'inf in y', lambda c: fit_lin(X, with_value(Y, 7, math.inf), bs=4), Err(ValueError, ('y', NONFINITE), ('learning rate',))),
    Row('fit', 'empty data, full batch', lambda c: fit_lin(torch.zeros(0, 2), torch.zeros(0)),
        Err(ValueError, (('empty', 'no examples', 'no rows', 'no data', 'n=0', 'n = 0'),), ('learning rate',))),
    Row('fit', 'empty data, minibatches', lambda c: fit_lin(torch.zeros(0, 2), torch.zeros(0), bs=4),
        Err(ValueError, (('empty', 'no examples', 'no rows', 'no data', 'n=0', 'n = 0'),), ('stack expects',))),
    Row('fit', 'integer x and y', lambda c: fit_lin(torch.arange(20).reshape(10, 2), torch.arange(10)),
        Either((Ok(lambda h: len(h.loss) == 1), Err((TypeError, ValueError), (('dtype', 'integer', 'float'),))))),
    Row('fit', 'float64 tensors with float32 parameters', lambda c: fit_lin(X.double(), Y.double()),
        Either((Ok(lambda h: len(h.loss) == 1), Err((TypeError, ValueError), (('dtype', 'float64'),))))),
    Row('fit FirstStepCheck', 'a loss_func that returns one loss per example', lambda c: fit_lin(loss_func=lambda p, t: (p - t)**2),
        Err((ValueError, TypeError), ('loss', '(10,)'))),
    Row('fit', 'model(x) of shape (n, 1) for y of shape (n,)', lambda c: (lambda m, ps: fit(lambda x: m(x)[:, None], X, Y, params=ps, lr=0.1))(*lin()),
        Err(ValueError, ('model', '(10, 1)', '(10,)'))),
    Row('fit', 'a metric that raises', lambda c: fit_lin(valid=(X, Y), metrics=[metric_raises]), Err(ZeroDivisionError, ("metric 'metric_raises'",), deep_ok=True)),  # its own type and traceback (issue 20)
    Row('fit', 'a metric that returns a vector', lambda c: fit_lin(valid=(X, Y), metrics=[lambda p, t: p - t]), Err((ValueError, TypeError), ('metric', '(10,)'))),
    Row('fit', 'two lambda metrics', lambda c: fit_lin(epochs=2, valid=(X, Y), metrics=[lambda p, t: mse(p, t), lambda p, t: mae(p, t)]),
        Either((Ok(lambda h: two_lambda_metrics_ok(h)), Err(ValueError, ('name',))))),
    Row('fit', 'valid = (x,) only', lambda c: fit_lin(valid=(X,)), Err(ValueError, ('valid',))),
    Row('fit', 'valid x and y of different lengths', lambda c: fit_lin(valid=(X, Y[:4])), Err(ValueError, ('valid',))),
    # optim (new steppers and optimizers) ----------------------------------------------------------------------
    Row('check_hyper', 'numpy float lr', lambda c: check_hyper('lr', np.float32(0.5)), Ok(lambda r: type(r) is float and r == 0.5)),
    Row('check_hyper', 'lr = True', lambda c: check_hyper('lr', True), Err(ValueError, ('lr=True',))),
    Row('check_hyper', 'a one-element tensor', lambda c: check_hyper('lr', torch.tensor(0.1)), Err(ValueError, ('lr=', '.item()'))),
    Row('check_hypers', 'mom = 1', lambda c: check_hypers(lr=0.1, mom=1.), Err(ValueError, ('mom=1',))),
    Row('RMSProp', 'numpy float lr', lambda c: opt_step(lambda ps: RMSProp(ps, lr=np.float32(0.1)), lr_check=1 - 0.1 / (math.sqrt(0.01) + 1e-8)) or True, Ok()),
    Row('RMSProp', 'eps = -1', lambda c: RMSProp([torch.ones(1, requires_grad=True)], lr=0.1, eps=-1.), Err(ValueError, ('eps=-1',))),
    Row('Adam', 'numpy float lr', lambda c: Adam([torch.ones(1, requires_grad=True)], lr=np.float64(1e-3)), Ok()),
    Row('Adam', 'sqr_mom = 1', lambda c: Adam([torch.ones(1, requires_grad=True)], lr=1e-3, sqr_mom=1.), Err(ValueError, ('sqr_mom=1',))),
    Row('Adam', 'lr = NaN', lambda c: Adam([torch.ones(1, requires_grad=True)], lr=math.nan), Err(ValueError, ('lr=nan',))),
    Row('weight_decay momentum_step ema_grad ema_sqr_grad step_stat rms_prop_step adam_step', 'steppers through the optimizers',
        lambda c: [f.__name__ for f in (weight_decay, momentum_step, ema_grad, ema_sqr_grad, step_stat, rms_prop_step, adam_step)], Ok(lambda r: len(r) == 7)),
    # schedule -------------------------------------------------------------------------------------------------
    Row('sched_lin', 'numpy ends', lambda c: sched_lin(np.float32(1), np.int64(3))(0.5), Ok(lambda r: r == 2.)),
    Row('sched_cos', 'NaN start', lambda c: sched_cos(math.nan, 1.), Err(ValueError, ('sched_cos', 'start=nan'))),
    Row('sched_exp', 'start = 0', lambda c: sched_exp(0., 1.), Err(ValueError, ('sched_exp', 'start=0', 'positive'))),
    Row('sched_no', 'a string', lambda c: sched_no('0.1', 0.1), Err(ValueError, ('sched_no', "start='0.1'"))),
    Row('combine_scheds', 'pcts that do not add up to 1', lambda c: combine_scheds([0.3, 0.3], [sched_no(1, 1)] * 2), Err(ValueError, ('combine_scheds', 'add up to 0.6'))),
    Row('combine_scheds', 'one pct for two schedules', lambda c: combine_scheds([1.], [sched_no(1, 1)] * 2), Err(ValueError, ('combine_scheds', '1 pcts but 2'))),
    Row('combine_scheds', 'numpy pcts', lambda c: combine_scheds(np.array([0.5, 0.5]), [sched_no(1, 1), sched_no(2, 2)])(0.75), Ok(lambda r: r == 2)),
    Row('one_cycle', 'pct_start = 1', lambda c: one_cycle(0.1, pct_start=1), Err(ValueError, ('one_cycle', 'pct_start=1'))),
    Row('one_cycle', 'lr_max = inf', lambda c: one_cycle(math.inf), Err(ValueError, ('one_cycle', 'lr_max=inf'))),
    Row('one_cycle fit', 'a one-cycle lr', lambda c: fit_lin(lr=one_cycle(0.1), steps=8).lrs, Ok(lambda r: len(r) == 8 and max(r) <= 0.1 + 1e-12)),
    Row('valley', 'too few losses', lambda c: valley([1e-3, 1e-2], [1., 2.]), Err(ValueError, ('valley', 'only 2 losses'))),
    Row('valley', 'a loss that never falls', lambda c: valley([10.**-k for k in range(7, 0, -1)], [1.] * 7), Err(ValueError, ('valley', 'never fell'))),
    Row('lr_find LRFinder LRFind', 'numpy num_it', lambda c: lrf(num_it=np.int64(30)), Ok(lambda r: 5 <= len(r.lrs) <= 30)),
    Row('lr_find', 'NaN in x', lambda c: lrf(x=with_value(X, 0, math.nan)), Err(ValueError, ('x', NONFINITE), ('learning rate',))),
    Row('LRFinder', 'end_lr = 0', lambda c: LRFinder(end_lr=0.), Err(ValueError, ('end_lr=0', 'positive'))),
    # callbacks ------------------------------------------------------------------------------------------------
    Row('EarlyStoppingCallback TrackerCallback', 'an unknown monitor', lambda c: fit_lin(epochs=2, valid=(X, Y), cbs=[EarlyStoppingCallback('acc')]), Err(ValueError, ("'acc'", 'valid_loss'))),
    Row('EarlyStoppingCallback', 'valid_loss without valid=', lambda c: fit_lin(epochs=2, cbs=[EarlyStoppingCallback()]), Err(ValueError, ('valid=',))),
    Row('SaveModelCallback', 'fname in an unwritable folder', lambda c: fit_lin(epochs=2, valid=(X, Y), cbs=[SaveModelCallback(fname=f'{UNWRITABLE}/m.pt')]), Err(PermissionError, (UNWRITABLE,))),
    Row('SaveModelCallback', 'fname that is a folder', lambda c: fit_lin(epochs=2, valid=(X, Y), cbs=[SaveModelCallback(fname=c.tmp)]), Err(IsADirectoryError, ('folder',))),
    Row('CheckpointCallback', 'path in an unwritable folder', lambda c: fit_lin(bs=5, cbs=[CheckpointCallback(f'{UNWRITABLE}/ck.pt', every=1)]), Err(PermissionError, ('CheckpointCallback', UNWRITABLE))),
    Row('CheckpointCallback', 'every = 0', lambda c: CheckpointCallback(c.tmp/'ck.pt', every=0), Err(ValueError, ('every=0', 'positive'))),
    Row('CheckpointCallback', 'every = 2.5', lambda c: CheckpointCallback(c.tmp/'ck.pt', every=2.5), Err(ValueError, ('every=2.5',))),
    Row('CheckpointCallback', "torch's shuffling DataLoader without a generator",
        lambda c: fit_lin(torch_dl(X, Y, 4, shuffle=True), None, cbs=[CheckpointCallback(c.tmp/'ck.pt')]),
        Err(ValueError, ('CheckpointCallback', 'no generator=', 'generator=torch.Generator()'))),
    Row('CheckpointCallback', "torch's shuffling DataLoader with a generator",
        lambda c: fit_lin(torch_dl(X, Y, 4, shuffle=True, generator=torch.Generator().manual_seed(0)), None,
                          cbs=[CheckpointCallback(c.tmp/'ck.pt', every=2)]).loss, Ok(lambda r: len(r) == 3)),
    Row('CheckpointCallback', 'numpy int every', lambda c: CheckpointCallback(c.tmp/'ck.pt', every=np.int64(3)).every, Ok(lambda r: r == 3)),
    Row('Learner', 'resume= without the callback that reads it', lambda c: learner(bs=5).fit(1, resume=c.tmp/'ck.pt'), Err(ValueError, ('no callback restored', 'CheckpointCallback'))),
    Row('load_checkpoint', 'missing file', lambda c: load_checkpoint(c.tmp/'none.pt'), Err(FileNotFoundError, ('no checkpoint at', 'resume='))),
    Row('save_atomic', 'unwritable folder', lambda c: save_atomic({}, f'{UNWRITABLE}/x.pt', 'me'), Err(PermissionError, ('me:', UNWRITABLE))),
    Row('save_atomic', 'a folder', lambda c: save_atomic({}, c.tmp, 'me'), Err(IsADirectoryError, ('me:', 'folder'))),
    Row('stale_files', 'nothing left behind', lambda c: stale_files(c.tmp/'ck.pt'), Ok(lambda r: r == [])),
    # viz (new) ----------------------------------------------------------------------------------------------------
    Row('animate_loss', 'an empty History', lambda c: animate_loss(History()), Err(ValueError, ('animate_loss', 'empty'))),
    Row('animate_loss', 'every = 0', lambda c: animate_loss(fit_lin(epochs=3), every=0), Err(ValueError, ('every=0',))),
    Row('check_anim_path', 'unwritable folder', lambda c: check_anim_path(f'{UNWRITABLE}/x.gif'), Err(PermissionError, (UNWRITABLE,))),
    Row('check_anim_path', 'unknown extension', lambda c: check_anim_path(c.tmp/'x.avi'), Err(ValueError, ('.avi', '.gif'))),
    # --- more cases from issues 13 and 16 ---
    Row('History', 'save and load', lambda c: History.load(fit_lin(epochs=2).save(c.tmp/'h.pt')).loss, Ok(lambda r: len(r) == 2)),
    Row('linear_data', 'numpy int n', lambda c: linear_data(np.int64(10), seed=0), Ok(lambda r: r[0].shape == (10, 2))),
    Row('quadratic_data', 'numpy int n', lambda c: quadratic_data(np.int64(5), seed=0), Ok(lambda r: r[1].shape == (5,))),
    Row('SGD', 'numpy float32 lr', lambda c: opt_step(lambda ps: SGD(ps, lr=np.float32(0.1))), Ok(bool)),
    Row('SGD', 'numpy float64 mom and wd', lambda c: SGD([torch.ones(1, requires_grad=True)], lr=0.1, mom=np.float64(0.9), wd=np.float64(0.)), Ok()),
    Row('SGD', 'lr = True', lambda c: SGD([torch.ones(1, requires_grad=True)], lr=True), Err(ValueError, ('lr=True',))),
    Row('sgd_step', 'numpy float32 lr', lambda c: sgd_step([grad_of(torch.ones(2, requires_grad=True))], np.float32(0.5)), Ok()),
    Row('check_hypers', 'numpy lr', lambda c: check_hypers(lr=np.float32(0.1), mom=np.float32(0.5), wd=np.int64(0)), Ok()),
    Row('fit', 'numpy float32 lr', lambda c: fit_lin(lr=np.float32(0.1)), Ok(lambda h: len(h.loss) == 1)),
    Row('save_anim', 'unwritable folder, .gif', lambda c: save_anim(c.anim, f'{UNWRITABLE}/x.gif'), Err(PermissionError, (UNWRITABLE,))),
    Row('save_anim', 'unwritable folder, .mp4', lambda c: save_anim(c.anim, f'{UNWRITABLE}/x.mp4'), Err(PermissionError, (UNWRITABLE,), ('broken pipe',))),
    Row('save_anim', 'unwritable folder, .html', lambda c: save_anim(c.anim, f'{UNWRITABLE}/x.html'), Err(PermissionError, (UNWRITABLE,))),
    Row('save_anim', 'a path that is a folder', lambda c: save_anim(c.anim, c.tmp), Err((IsADirectoryError, ValueError), ('folder',))),
    Row('main demo', '--out in an unwritable folder', lambda c: main(['demo', '--out', f'{UNWRITABLE}/x.gif']), Exit(2, (UNWRITABLE,))),
    Row('main demo', '--out .mp4 in an unwritable folder', lambda c: main(['demo', '--out', f'{UNWRITABLE}/x.mp4']), Exit(2, (UNWRITABLE,))),
    Row('main demo', '--out an existing folder', lambda c: main(['demo', '--out', str(folder(c.tmp/'dir.gif'))]), Exit(2, ('--out', 'folder'))),
    Row('linear_data', 'n = True', lambda c: linear_data(True), Err((ValueError, TypeError), ('linear_data', 'n=True'))),
    Row('least_squares', 'NaN in y', lambda c: least_squares(X, with_value(Y, 3, math.nan)), Err(ValueError, ('least_squares', 'y', NONFINITE))),
    Row('least_squares', 'inf in x', lambda c: least_squares(with_value(X, 4, math.inf), Y), Err(ValueError, ('least_squares', 'x', NONFINITE))),
    Row('SGD', 'frozen parameters of a module are skipped', lambda c: opt_step(lambda ps: SGD([*ps, torch.zeros(1)], lr=0.1)), Ok(bool)),
    Row('SGD', 'nothing trainable', lambda c: SGD([torch.zeros(2)], lr=0.1), Err(ValueError, ('requires_grad', ('trainable', 'nothing', 'no parameter')))),
    Row('SGD', 'a duplicate parameter', lambda c: (lambda p: SGD([p, p], lr=0.1))(torch.ones(1, requires_grad=True)),
        Either((Warns(UserWarning, (('duplicate', 'same tensor'),)), Err(ValueError, (('duplicate', 'same tensor'),))))),
    Row('Optimizer', 'setting opt.lr to a numpy float is used by the next step',
        lambda c: opt_step(lambda ps: (lambda o: (setattr(o, 'lr', np.float32(0.5)), o)[1])(SGD(ps, lr=0.1)), lr_check=0.5), Ok(bool)),
    Row('Optimizer', 'setting opt.lr to NaN', lambda c: setattr(SGD([torch.ones(1, requires_grad=True)], lr=0.1), 'lr', math.nan), Err(ValueError, ('lr=nan',))),
    Row('fit', 'a parameter the model does not use', lambda c: fit(lambda x: x@torch.ones(2), X, Y, params=[nn.Parameter(torch.zeros(2))], lr=0.1),
        Err(ValueError, ('parameter', 'gradient'), ('call loss.backward',))),
    Row('fit', 'a frozen layer', lambda c: fit(frozen_first_layer(), X, Y[:, None], lr=0.1), Ok(lambda h: len(h.loss) == 1)),
    Row('animate_fit', 'nn.Linear History without model=', lambda c: (lambda m: animate_fit(X, Y, fit(m, X, Y[:, None], lr=0.1, epochs=2)))(nn.Linear(2, 1)),
        Err(ValueError, ('model=',))),
    Row('loss_surface', 'NaN in y', lambda c: loss_surface(X, with_value(Y, 2, math.nan)), Err(ValueError, ('y', NONFINITE))),
    # distributed (one process: no process group) ------------------------------------------------------------
    Row('world is_distributed', 'no process group', lambda c: (world(), is_distributed()), Ok(lambda r: r == ((0, 1), False))),
    Row('shard_dl', 'rank outside the world', lambda c: shard_dl(DataLoader((X, Y), bs=2), 2, 2), Err(ValueError, ('rank',))),
    Row('run_distributed', 'a script that does not exist', lambda c: run_distributed(c.tmp/'nope.py'), Err(FileNotFoundError, ('nope.py',))),
    # exercises --------------------------------------------------------------------------------------------------
    Row('check', 'an exercise that does not exist', lambda c: check(99, 1, 0), Ok(lambda r: r is False)),
    Row('check', 'not attempted', lambda c: check(1, 1, ...), Ok(lambda r: not r)),
    Row('check', 'a NaN answer', lambda c: check(1, 1, math.nan), Ok(lambda r: r is False)),
    Row('check', 'numpy lesson and exercise numbers', lambda c: check(np.int64(1), np.int64(3), 20),
        Ok(lambda r: r is True)),
    Row('check', "the notebook's number for the lesson", lambda c: check(10, 3, 20), Ok(lambda r: r is False)),
    Row('check', 'the lesson as a string', lambda c: check('1', 3, 20), Ok(lambda r: r is False)),
    Row('check', 'an exercise number that is a float', lambda c: check(1, 3.5, 20), Ok(lambda r: r is False)),
    Row('check', 'an int too large for a float', lambda c: check(1, 1, 10**400), Ok(lambda r: r is False)),
    Row('check', 'a complex answer', lambda c: check(3, 1, 1/26 + 0j), Ok(lambda r: r is False)),
    Row('check', 'an answer that calls sys.exit()', lambda c: check(1, 6, exits), Ok(lambda r: r is False)),
    Row('check', 'an answer that raises a BaseException', lambda c: check(2, 6, raises_base), Ok(lambda r: r is False)),
    Row('check', 'an update that zeroes the data it was given', lambda c: check(1, 6, zeroes_its_data),
        Ok(lambda r: r is False)),
    # --- more cases that pass now that main has the DataLoader fixes ---
    Row('Learner', 'numpy int bs, epochs and steps', lambda c: [len(learner(bs=np.int64(4)).fit(epochs=np.int64(2)).loss), len(learner(bs=np.int64(4)).fit(steps=np.int64(5)).loss)],
        Ok(lambda r: r == [6, 5])),
    Row('DataLoader', 'numpy int bs', lambda c: len(DataLoader((X, Y), bs=np.int64(5))), Ok(lambda r: r == 2)),
    Row('fit', 'numpy int bs and epochs', lambda c: fit_lin(bs=np.int64(4), epochs=np.int64(2)), Ok(lambda h: len(h.loss) == 6)),
    Row('DataLoader', 'a single tensor gives batches of rows', lambda c: DataLoader(torch.zeros(10, 4), bs=5), Ok(batches_of_rows)),
    Row('DataLoader', 'a pair whose labels are a list', lambda c: DataLoader((X, Y.tolist()), bs=5),
        Either((Ok(pair_with_list_labels_ok), Err((TypeError, ValueError), ('list',))))),
    Row('DataLoader', 'a list of dicts', lambda c: DataLoader([{'x': x, 'y': y} for x, y in zip(X, Y)], bs=5),
        Either((Ok(dict_items_ok), Err((TypeError, ValueError), ('dict',))))),
    Row('DataLoader', 'bs = True', lambda c: DataLoader((X, Y), bs=True), Err(ValueError, ('bs=True',))),
    # issue 20 (edges): trackers' arguments and direction, dtypes that name the wrong tensor, a validation loss that is
    # not the lr's fault, a metric's own error, History files that are not a History, check's suggested calls ---
    Row('EarlyStoppingCallback', 'patience = -1', lambda c: EarlyStoppingCallback(patience=-1), Err(ValueError, ('patience=-1', '>= 1'))),
    Row('EarlyStoppingCallback', 'patience = 0', lambda c: EarlyStoppingCallback(patience=0), Err(ValueError, ('patience=0',))),
    Row('EarlyStoppingCallback', "patience = '3'", lambda c: EarlyStoppingCallback(patience='3'), Err(ValueError, ("patience='3'", 'whole number'))),
    Row('EarlyStoppingCallback', 'patience = 2.5', lambda c: EarlyStoppingCallback(patience=2.5), Err(ValueError, ('patience=2.5',))),
    Row('EarlyStoppingCallback', 'patience = True', lambda c: EarlyStoppingCallback(patience=True), Err(ValueError, ('patience=True',))),
    Row('EarlyStoppingCallback', 'numpy int patience, numpy float min_delta', lambda c: EarlyStoppingCallback(patience=np.int64(3), min_delta=np.float32(0.5)),
        Ok(lambda cb: cb.patience == 3 and type(cb.patience) is int and cb.min_delta == 0.5)),
    Row('EarlyStoppingCallback', 'min_delta = nan', lambda c: EarlyStoppingCallback(min_delta=math.nan), Err(ValueError, ('min_delta=nan', 'finite'))),
    Row('SaveModelCallback', 'min_delta = inf', lambda c: SaveModelCallback(min_delta=math.inf), Err(ValueError, ('min_delta=inf',))),
    Row('TrackerCallback', 'min_delta < 0', lambda c: TrackerCallback(min_delta=-0.1), Err(ValueError, ('min_delta=-0.1', '>= 0'))),
    Row('TrackerCallback', "min_delta = '0.1'", lambda c: TrackerCallback(min_delta='0.1'), Err(ValueError, ("min_delta='0.1'",))),
    Row('EarlyStoppingCallback', 'monitor = None', lambda c: EarlyStoppingCallback(monitor=None), Err(TypeError, ('monitor=None',))),
    Row('SaveModelCallback', "monitor = ''", lambda c: SaveModelCallback(monitor=''), Err(TypeError, ("monitor=''",))),
    Row('TrackerCallback', 'a name that says neither lower nor higher', lambda c: TrackerCallback('score'),
        Err(ValueError, ("'score'", 'comp=np.less', 'comp=np.greater'))),
    Row('TrackerCallback', 'the same name with comp=np.greater', lambda c: TrackerCallback('score', comp=np.greater), Ok(lambda cb: cb.lower_is_better is False)),
    Row('TrackerCallback', "sgdlab's mae is minimised", lambda c: TrackerCallback('mae'), Ok(lambda cb: cb.lower_is_better is True)),
    Row('EarlyStoppingCallback', 'a number where comp goes (the old positional min_delta)', lambda c: EarlyStoppingCallback('valid_loss', 0.01),
        Err(TypeError, ('comp=0.01', 'np.less'))),
    Row('EarlyStoppingCallback', 'a comp that picks no direction', lambda c: EarlyStoppingCallback(comp=lambda a, b: True), Err(ValueError, ('no direction',))),
    Row('SaveModelCallback', 'a comp that fails on floats', lambda c: SaveModelCallback(comp=torch.lt), Err(TypeError, ('failed on two floats',))),
    Row('SaveModelCallback', 'fname = 3', lambda c: SaveModelCallback(fname=3), Err(TypeError, ('fname=3',))),
    Row('SaveModelCallback', "restore = 'no'", lambda c: SaveModelCallback(restore='no'), Err(TypeError, ("restore='no'",))),
    Row('SaveModelCallback', 'monitor a metric this fit does not record', lambda c: fit_lin(epochs=2, valid=(X, Y), metrics=[mse], cbs=[SaveModelCallback('mae')]),
        Err(ValueError, ("cannot monitor 'mae'", "['train_loss', 'valid_loss', 'mse']"))),
    Row('fit', 'an nn.Embedding with int32 class labels', lambda c: fit(nn.Embedding(10, 3), torch.arange(20) % 10, torch.arange(20, dtype=torch.int32) % 3, lr=0.1, loss_func=F.cross_entropy),
        Err(TypeError, ('y.long()', 'torch.int32'), ('convert x', 'x.float()'))),
    Row('fit', 'a float64 model fed float32 x', lambda c: fit(nn.Linear(2, 1).double(), X, Y[:, None], lr=0.1), Err(TypeError, ('x.double()', 'model.float()'), ('x.float()',))),
    Row('fit', 'a float32 model fed float64 x', lambda c: fit(nn.Linear(2, 1), X.double(), Y[:, None], lr=0.1), Err(TypeError, ('x.float()', 'model.double()'))),
    Row('fit', 'float indices into an nn.Embedding', lambda c: fit(nn.Embedding(10, 3), torch.arange(20.) % 10, torch.arange(20) % 3, lr=0.1, loss_func=F.cross_entropy),
        Err(TypeError, ('x.long()', 'indices'))),
    Row('fit', 'int64 targets for a float loss', lambda c: fit(nn.Sequential(nn.Linear(2, 1), nn.Flatten(0)), X, (Y > 0).long(), lr=0.1, loss_func=F.binary_cross_entropy_with_logits),
        Err(TypeError, ('y is torch.int64', 'y.float()'), ('convert x',))),
    Row('ValidateCallback', 'a validation row the model overflows on', lambda c: fit_lin(valid=(with_value(X, 0, 1e30), Y)),
        Err(DivergenceError, ('validation loss', 'not to blame'), ('smaller learning rate', 'overshot'))),
    Row('fit', 'a metric that raises a KeyError', lambda c: fit_lin(valid=(X, Y), metrics={'lookup': lambda p, t: {}['missing']}),
        Err(KeyError, ("metric 'lookup'",), deep_ok=True)),
    Row('History', 'load a state_dict', lambda c: History.load(saved(c, 'sd.pt', nn.Linear(2, 1).state_dict())),
        Err(ValueError, ('is not a History', "['weight', 'bias']", 'hist.save(path)'))),
    Row('History', 'load a text file', lambda c: History.load(written(c, 'notes.txt', b'not a tensor file')), Err(ValueError, ('is not a History', 'hist.save(path)'))),
    Row('History', 'load an empty file', lambda c: History.load(written(c, 'empty.pt', b'')), Err(ValueError, ('is not a History',))),
    Row('History', 'load a History pickled with torch.save(hist)', lambda c: History.load(saved(c, 'pickled.pt', History(loss=[1.]))),
        Err(ValueError, ('torch.save(hist)', 'weights_only=False).save(path)'))),
    Row('History', 'load a History from a newer sgdlab', lambda c: History.load(saved(c, 'newer.pt', {**History(loss=[1.]).__dict__, 'grad_norm': [1.]})),
        Err(ValueError, ("['grad_norm']", 'newer sgdlab'))),
    Row('History', 'load a dict without a loss', lambda c: History.load(saved(c, 'dict.pt', {'epochs': 3})), Err(ValueError, ("'loss'", 'hist.save(path)'))),
    Row('History', 'load a tensor', lambda c: History.load(saved(c, 'tensor.pt', torch.ones(3))), Err(ValueError, ('a tensor of shape (3,)',))),
    Row('History', 'path(5) of a 2-parameter History', lambda c: two_param_history().path(5),
        Err(IndexError, ('i=5 is out of range', '2 parameters', '0 to 1'))),
    Row('History', "path('a')", lambda c: two_param_history().path('a'), Err(TypeError, ("i='a'",))),
    Row('History', 'path(1.0)', lambda c: two_param_history().path(1.0), Err(TypeError, ('i=1.0',))),
    Row('History', 'path of a numpy int', lambda c: two_param_history().path(np.int64(1)).shape, Ok(lambda s: s == (2, 1))),
    Row('check', 'lesson and exercise as strings', lambda c: check('1', '3', 20), Ok(lambda r: r is False)),
    Row('check', 'a string lesson that does not exist', lambda c: check('5', 1, 20), Ok(lambda r: r is False)),
    Row('check', "a superscript digit, which isdigit() accepts and int() refuses", lambda c: (check('²', 1, 0), check(1, '²', 0)), Ok(lambda r: r == (False, False))),
    Row('History', 'save to path=None', lambda c: History(loss=[1.]).save(None), Err(TypeError, ('History.save', 'path=None', 'file name'))),
    Row('History', 'load path=3', lambda c: History.load(3), Err(TypeError, ('History.load', 'path=3', 'file name'))),
    Row('fit', 'a loss_func holding a tensor on another device', lambda c: fit_lin(loss_func=lambda p, t: ((p - t)**2 * torch.ones(1, device='meta')).mean()),
        Err(RuntimeError, ('loss_func', 'mixes devices', "to('cpu')"), ('model(x) mixes',))),
    # issue 20 (contracts)
    Row('lr_find', 'num_it = 1', lambda c: lrf(num_it=1), Err(ValueError, ('num_it=1', 'at least 5'), ('exploded',))),
    Row('lr_find', 'num_it = 0', lambda c: lrf(num_it=0), Err(ValueError, ('num_it=0',))),
    Row('lr_find', 'num_it = 2.5', lambda c: lrf(num_it=2.5), Err(ValueError, ('num_it=2.5',))),
    Row('lr_find', 'start_lr = 0', lambda c: lrf(start_lr=0.), Err(ValueError, ('start_lr=0', 'positive'))),
    Row('lr_find', 'end_lr below start_lr', lambda c: lrf(start_lr=1., end_lr=0.1), Err(ValueError, ('end_lr=0.1', 'start_lr=1.0'))),
    Row('LRFinder', 'start_lr = NaN', lambda c: LRFinder(start_lr=math.nan), Err(ValueError, ('start_lr=nan',))),
    Row('Learner', 'the same callback instance twice', lambda c: (lambda cb: learner(cbs=[cb, cb]))(Callback()),
        Err(ValueError, ('already one of its callbacks',))),
    Row('Learner', 'two Recorders', lambda c: learner(cbs=[Recorder(), Recorder()]), Err(ValueError, ('both record loss',))),
    Row('Learner', 'a Callback class in cbs', lambda c: learner(cbs=[EarlyStoppingCallback]),
        Ok(lambda l: sum(isinstance(cb, EarlyStoppingCallback) for cb in l.cbs) == 1)),
    Row('Learner', 'a callback whose order is a string', lambda c: learner(cbs=[type('Odd', (Callback,), {'order': '5'})()]),
        Err(TypeError, ("order='5'", 'must be a number'))),
    # lesson 5 (issue 26): the noise scale, accumulation and ZeRO-1
    Row('per_example_grads', 'a function, not a Module', lambda c: per_example_grads(lambda x: x, mse, X, Y),
        Err(TypeError, ('nn.module',))),
    Row('per_example_grads', 'x and y of different lengths', lambda c: per_example_grads(nn.Linear(2, 1), mse, X, Y[:3]),
        Err(ValueError, ('10 rows', 'y 3'))),
    Row('per_example_grads', 'empty x and y', lambda c: per_example_grads(nn.Linear(2, 1), mse, X[:0], Y[:0]),
        Err(ValueError, ('at least 1',))),
    Row('per_example_grads', 'NaN in x', lambda c: per_example_grads(nn.Linear(2, 1), mse, with_value(X, 3, math.nan), Y),
        Err(ValueError, ('nan',))),
    Row('noise_scale', 'one row', lambda c: noise_scale(torch.ones(1, 3)), Err(ValueError, ('n >= 2',))),
    Row('noise_scale', 'a 1-D vector', lambda c: noise_scale(torch.ones(3)), Err(ValueError, ('(n, p)',))),
    Row('noise_scale', 'inf in grads', lambda c: noise_scale(torch.tensor([[1., math.inf], [0., 0.]])), Err(ValueError, ('inf',))),
    Row('noise_scale NoiseScale', 'a numpy array', lambda c: noise_scale(np.array([[1., 0.], [3., 0.]]), population=True).b_simple,
        Ok(lambda r: abs(r - 0.25) < 1e-9)),
    Row('NoiseScale', '|G|² estimate not positive', lambda c: NoiseScale(1., 0.).b_simple, Err(ValueError, ('not positive',))),
    Row('noise_scale_two_batches', 'sizes the wrong way round', lambda c: noise_scale_two_batches(1., 1., 64, 8),
        Err(ValueError, ('b_small=64', 'b_big=8'))),
    Row('noise_scale_two_batches', 'NaN |g|²', lambda c: noise_scale_two_batches(math.nan, 1., 8, 64), Err(ValueError, ('finite',))),
    Row('noise_scale_two_batches', 'numpy int sizes', lambda c: noise_scale_two_batches(0.5 + 2 / 8, 0.5 + 2 / 64, np.int64(8), np.int64(64)).tr_sigma,
        Ok(lambda r: abs(r - 2) < 1e-9)),
    Row('shard_range', 'rank = world_size', lambda c: shard_range(10, 2, 2), Err(ValueError, ('rank=2', 'world_size=2'))),
    Row('shard_range', 'numpy ints', lambda c: shard_range(np.int64(10), np.int64(1), np.int64(3)), Ok(lambda r: r == (4, 8))),
    Row('ZeroAdam', 'no parameters', lambda c: ZeroAdam([]), Err(ValueError, ('no parameters',))),
    Row('ZeroAdam', 'lr = -1', lambda c: ZeroAdam([torch.ones(1, requires_grad=True)], lr=-1), Err(ValueError, ('lr=-1',))),
    Row('ZeroAdam', 'beta2 = 1', lambda c: ZeroAdam([torch.ones(1, requires_grad=True)], betas=(0.9, 1.)), Err(ValueError, ('beta',))),
    Row('ZeroAdam', 'step before backward', lambda c: ZeroAdam([torch.ones(1, requires_grad=True)]).step(),
        Err(RuntimeError, ('backward',))),
    Row('GradientAccumulation', 'n_acc = 0', lambda c: GradientAccumulation(0), Err(ValueError, ('n_acc=0',))),
    Row('GradientAccumulation', 'n_acc = 2.5', lambda c: GradientAccumulation(2.5), Err(ValueError, ('n_acc=2.5', 'whole'))),
    Row('GradientAccumulation', 'numpy int n_acc', lambda c: fit_lin(bs=2, epochs=1, cbs=[GradientAccumulation(np.int64(4))]).loss,
        Ok(lambda r: len(r) == 5)),
    Row('GradientAccumulation', 'micro-batches that overshoot n_acc', lambda c: fit_lin(bs=3, cbs=[GradientAccumulation(4)]),
        Err(ValueError, ('overshoot', 'n_acc=4'))),
    # issue 20 (fits)
    Row('SGD', 'load_state_dict from 2 parameters into 3',
        lambda c: SGD(_ps(3), lr=0.1).load_state_dict(SGD(_ps(2), lr=0.1).state_dict()),
        Err(ValueError, ('2 parameters', 'this optimizer has 3'))),
    Row('SGD', 'load_state_dict of a corrupt state', lambda c: SGD(_ps(1), lr=0.1).load_state_dict({'state': [], 'hypers': {}}),
        Err(ValueError, ('corrupt',))),
    Row('SGD', "load_state_dict of torch.optim's state_dict",
        lambda c: SGD(_ps(1), lr=0.1).load_state_dict(torch.optim.SGD(_ps(1), lr=0.1).state_dict()),
        Err(ValueError, ('torch.optim', 'param_groups'))),
    Row('SGD', 'load_state_dict of float32 state onto float64 parameters',
        lambda c: _loaded(SGD, torch.float64).state, Ok(lambda st: all(v.dtype == torch.float64 for v in _vals(st)))),
    Row('History', 'load a file whose epoch_spans is a number', lambda c: History.load(_hist_file(c, epoch_spans=5)),
        Err(ValueError, ('not a valid History',))),
    Row('History', 'load a History saved before epoch_spans existed', lambda c: History.load(_hist_file(c)).epoch_loss,
        Ok(lambda el: el == [3., 1.])),
    # issue 20 (interop)
    Row('ParamScheduler', 'a misspelt name on torch.optim.Adam', lambda c: fit_lin(opt_func=torch.optim.Adam, cbs=[ParamScheduler({'mmo': sched_no(0.9, 0.9)})]),
        Err(ValueError, ("no hyper-parameter 'mmo'", 'mom (betas[0])'))),
    Row('ParamScheduler', "torch's own name 'momentum' on torch.optim.SGD", lambda c: fit_lin(opt_func=torch.optim.SGD, cbs=[ParamScheduler({'momentum': sched_no(0.9, 0.9)})]),
        Err(ValueError, ("no hyper-parameter 'momentum'", 'mom (momentum)'))),
    Row('ParamScheduler', 'mom on torch.optim.Adam', lambda c: fit_lin(opt_func=torch.optim.Adam, steps=2, cbs=[ParamScheduler({'mom': sched_no(0.5, 0.5)})]),
        Ok(lambda h: len(h.loss) == 2)),
    Row('ParamScheduler', 'a schedule leaving [0, 1) on torch.optim.Adam', lambda c: fit_lin(opt_func=torch.optim.Adam, cbs=[ParamScheduler({'sqr_mom': sched_no(1., 1.)})]),
        Err(ValueError, ('sqr_mom=1.0', '[0, 1)'))),
    Row('fit', 'lr = 0', lambda c: fit_lin(lr=0.), Err(ValueError, ('lr=0.0', 'positive', 'sched_lin(0.'))),
    Row('fit', 'lr = 0 with torch.optim.SGD', lambda c: fit_lin(lr=0, opt_func=torch.optim.SGD), Err(ValueError, ('lr=0', 'positive'))),
    Row('fit sched_lin combine_scheds', 'a warm-up from lr 0', lambda c: fit_lin(lr=combine_scheds([0.5, 0.5], [sched_lin(0., 0.1), sched_no(0.1, 0.1)]), steps=4).lrs,
        Ok(lambda r: r[:3] == [0., 0.05, 0.1])),
    Row('main demo', '--lr 0', lambda c: main(['demo', '--lr', '0']), Exit(2, ('--lr 0.0 must be a positive', 'at 0 nothing trains'))),
    Row('one_cycle', 'moms of two values', lambda c: one_cycle(0.1, moms=(0.95, 0.85)), Err(ValueError, ('one_cycle', 'moms=(0.95, 0.85)', 'three'))),
    Row('one_cycle', 'a momentum of 1', lambda c: one_cycle(0.1, moms=(0.95, 1., 0.95)), Err(ValueError, ('one_cycle', 'mom=1.0', '[0, 1)'))),
    Row('one_cycle', 'moms as a string', lambda c: one_cycle(0.1, moms='0.95'), Err(ValueError, ('moms=', 'three'))),
    Row('one_cycle', 'numpy moms', lambda c: one_cycle(0.1, moms=np.array([0.95, 0.85, 0.95])).scheds['mom'](0.25), Ok(lambda r: abs(r - 0.85) < 1e-12)),
    Row('one_cycle fit', 'moms with torch.optim.Adagrad, which has no momentum', lambda c: fit_lin(lr=one_cycle(0.1, moms=(0.95, 0.85, 0.95)), opt_func=torch.optim.Adagrad),
        Err(ValueError, ("no hyper-parameter 'mom'", 'Adagrad'))),
    Row('ParamScheduler fit', "a mom-only ParamScheduler with lr=one_cycle", lambda c: fit_lin(lr=one_cycle(0.1), steps=4, cbs=[ParamScheduler({'mom': sched_no(0.9, 0.9)})]).lrs,
        Ok(lambda r: len(r) == 4 and r[0] == one_cycle(0.1)(0.))),
    Row('fit', "torch's DataLoader as x", lambda c: fit_lin(torch_dl(X, Y, 4), None, epochs=2).loss, Ok(lambda r: len(r) == 6)),
    Row('fit', "torch's DataLoader and y", lambda c: fit_lin(torch_dl(X, Y, 4), Y), Err(ValueError, ('leave out y',))),
    Row('fit', "torch's DataLoader and seed, which it would ignore", lambda c: fit_lin(torch_dl(X, Y, 4), None, seed=0),
        Err(ValueError, ('leave out seed', 'generator='))),
    Row('fit', "torch's DataLoader of x alone", lambda c: fit_lin(torch_dl(X, None, 4), None), Err(ValueError, ('batch 0 of x', 'not a pair (xb, yb)'))),
    Row('fit', "torch's DataLoader of no rows", lambda c: fit_lin(torch_dl(X[:0], Y[:0], 4), None), Err(ValueError, ('no batches',))),
    Row('fit', 'an iterator of batches', lambda c: fit_lin(iter([(X, Y)]), None), Err(TypeError, ('no length', "torch's DataLoader"))),
    Row('fit', 'x without y', lambda c: fit_lin(X, None), Err(ValueError, ('y is missing', "torch's DataLoader"))),
    Row('fit', "valid as torch's DataLoader", lambda c: fit_lin(valid=torch_dl(X, Y, 3), epochs=2).valid_loss, Ok(lambda r: len(r) == 2)),
    Row('fit', 'valid as an iterator', lambda c: fit_lin(valid=iter([(X, Y)])), Err(TypeError, ('valid=', 'iterator', 'DataLoader'))),
    Row('fit', "valid as torch's DataLoader of no rows", lambda c: fit_lin(valid=torch_dl(X[:0], Y[:0], 3)), Err(ValueError, ('valid=', 'no batches'))),
    Row('lr_find', "torch's DataLoader as x", lambda c: lrf(torch_dl(X, Y, 2), None, start_lr=1e-3, end_lr=10., num_it=30).suggestion, Ok(lambda r: 1e-3 < r < 10)),
    Row('main demo', '--n 99999999999999999999', lambda c: main(['demo', '--n', '99999999999999999999']), Exit(2, ('--n 99999999999999999999', 'at most'))),
    Row('main demo', '--steps 99999999999999999999', lambda c: main(['demo', '--steps', '99999999999999999999']), Exit(2, ('--steps 99999999999999999999', 'at most'))),
    Row('main demo', '--bs 99999999999999999999', lambda c: main(['demo', '--bs', '99999999999999999999']), Exit(2, ('--bs 99999999999999999999', '--n'))),
    Row('main demo', '--bs above --n', lambda c: main(['demo', '--n', '10', '--bs', '11']), Exit(2, ('--bs 11', 'the 10 points', 'leave --bs out'))),
    # issue 21 (ranks)
    Row('DataLoader', 'items: a rank with no row of the short last batch', lambda c: list(DataLoader(
        [(torch.ones(2), i) for i in range(13)], bs=12, rank=2, world_size=3))[-1],
        Ok(lambda r: r[0].shape == (0, 2) and r[1].shape == (0,) and r[1].dtype == torch.int64)),
    Row('shard_dl', 'items at world_size 3, 1 row in the last batch', lambda c: [len(b[1]) for b in shard_dl(
        DataLoader([(torch.ones(2), i) for i in range(13)], bs=12), 1, 3)], Ok(lambda r: r == [4, 0])),
    Row('run_distributed', 'torchrun_args as one string', lambda c: (c.tmp/'x.py').write_text('') or
        run_distributed(c.tmp/'x.py', torchrun_args='--max-restarts 1'),
        Err(TypeError, ('torchrun_args', "('--max-restarts', '1')"))),
]

# issue 20 (fits): helpers of its rows
def _ps(n, dtype=torch.float32): return [torch.ones(2, dtype=dtype, requires_grad=True) for _ in range(n)]
def _vals(state): return [v for st in state.values() for v in st.values()]
def _loaded(make, dtype):
    "An optimizer on `dtype` parameters that loaded the state of one momentum step taken in float32"
    ps = _ps(1); opt = make(ps, lr=0.1, mom=0.9); ps[0].sum().backward(); opt.step()
    new = make(_ps(1, dtype), lr=0.1, mom=0.9); new.load_state_dict(opt.state_dict())
    return new
def _hist_file(c, **fields):
    "A History file as an older sgdlab wrote it (no epoch_spans), with `fields` added"
    from dataclasses import asdict
    d = {k: v for k, v in asdict(History(loss=[4., 2., 1.5, .5], steps_per_epoch=2)).items() if k != 'epoch_spans'}
    torch.save({**d, **fields}, c.tmp / 'old_hist.pt')
    return c.tmp / 'old_hist.pt'


def torch_dl(x, y, bs, **kwargs):
    "torch's own DataLoader over `x` (and `y`, unless None), unshuffled unless `kwargs` say otherwise"
    from torch.utils.data import DataLoader as TorchDL, TensorDataset
    return TorchDL(TensorDataset(x) if y is None else TensorDataset(x, y), batch_size=bs, **kwargs)

# helpers for the issue 20 (edges) rows
import torch.nn.functional as F

def written(c, name: str, data: bytes) -> Path:
    (c.tmp/name).write_bytes(data); return c.tmp/name

def saved(c, name: str, obj) -> Path:
    torch.save(obj, c.tmp/name); return c.tmp/name

def two_param_history() -> History:
    a, b = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(1))
    return fit(lambda x: x@a + b, X, Y, params=[a, b], lr=0.1, epochs=2)

# Public names that need no row of their own, and why
EXEMPT = {
    'Optimizer': 'built by SGD; its rows are the SGD rows',
    'Callback': 'a base class with no behaviour of its own',
    'CancelBatchException': 'raised by callbacks, not called', 'CancelEpochException': 'raised by callbacks, not called',
    'CancelStepException': 'raised by callbacks, not called',
    'CancelFitException': 'raised by callbacks, not called',
    'CancelStepException': 'raised by callbacks, not called',
    'TrainEvalCallback': 'a default callback without arguments; every fit row runs it',
    'DeviceCallback': 'a default callback without arguments; every fit row runs it',
    'DivergenceError': 'an exception class; raised in the fit rows',
    'demo': "the CLI's body; main's rows reach it",
    **{n: 'needs a process group; tests/test_distributed.py runs it in real multi-process runs' for n in ('init_distributed', 'average_grads', 'DataParallel')},
}

# --- the tests -------------------------------------------------------------------------------------------

def _message(e: BaseException) -> str:
    return ' '.join([str(e), *getattr(e, '__notes__', [])]).lower()

def _has(msg: str, words) -> list:
    "The words (or groups of alternatives) missing from `msg`"
    return [w for w in words if not any(a.lower() in msg for a in ((w,) if isinstance(w, str) else w))]

def _raised_in_sgdlab(e: BaseException) -> bool:
    tb, last = e.__traceback__, None
    while tb is not None: last, tb = tb.tb_frame.f_code.co_filename, tb.tb_next
    return last is not None and Path(last).resolve().is_relative_to(PKG)

def _check(row: Row, expect, ctx: Ctx, capsys) -> str|None:
    "None if `expect` holds for `row`, else what went wrong"
    try:
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter('always')
            result = row.call(ctx)
    except SystemExit as e:
        err = capsys.readouterr().err
        if not isinstance(expect, Exit): return f"exited {e.code}: {err!r}"
        if e.code != expect.code: return f"exit status {e.code}, expected {expect.code}: {err!r}"
        if 'Traceback' in err or len(err.strip().splitlines()) != 1: return f"not one line on stderr: {err!r}"
        if miss := _has(err.lower(), expect.words): return f"stderr {err!r} lacks {miss}"
        return None
    except Exception as e:
        if not isinstance(expect, Err): return f"raised {type(e).__name__}: {e}"
        if not isinstance(e, expect.types): return f"raised {type(e).__name__} ({e}), expected {expect.types}"
        msg = _message(e)
        if miss := _has(msg, expect.words): return f"{type(e).__name__} message {str(e)!r} lacks {miss}"
        if bad := [w for w in expect.not_words if w.lower() in msg]: return f"message {str(e)!r} blames the wrong thing: {bad}"
        if not expect.deep_ok and not _raised_in_sgdlab(e): return f"raised from outside sgdlab, not checked first: {type(e).__name__}: {e}"
        return None
    if isinstance(expect, Warns):
        hits = [w for w in ws if issubclass(w.category, expect.category) and not _has(str(w.message).lower(), expect.words)]
        return None if hits else f"no {expect.category.__name__} with {expect.words}; warnings: {[str(w.message) for w in ws]}"
    if not isinstance(expect, Ok): return f"returned {result!r:.200}; expected {expect}"
    return None if expect.check(result) else f"returned {result!r:.300}, which fails the row's check"

@pytest.fixture(scope='module')
def ctx(tmp_path_factory): return Ctx(tmp_path_factory.mktemp('bad_inputs'))

@pytest.mark.parametrize('row', ROWS, ids=lambda r: r.id)
def test_row(row, ctx, capsys):
    options = row.expect.options if isinstance(row.expect, Either) else (row.expect,)
    fails = [_check(row, o, ctx, capsys) for o in options]
    if all(f is not None for f in fails): pytest.fail(' | '.join(fails))
    assert not [p for p in ctx.tmp.iterdir() if p.name.startswith('.')], "a temporary file was left behind"

def test_row_ids_are_unique():
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]

def test_every_public_name_has_a_row():
    covered = {n for r in ROWS for n in r.fn.split()}
    public = {n for n in sgdlab.__all__ if callable(getattr(sgdlab, n))} if hasattr(sgdlab, '__all__') else \
             {n for n in dir(sgdlab) if not n.startswith('_') and callable(getattr(sgdlab, n)) and getattr(getattr(sgdlab, n), '__module__', '').startswith('sgdlab')}
    missing = sorted(public - covered - set(EXEMPT) - {'main'})
    assert not missing, f"public names without a row in tests/test_bad_inputs.py: {missing}"
    assert 'main' in covered
