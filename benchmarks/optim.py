"""Optimizer benchmarks: sgdlab's optimizers against their torch.optim twins (python benchmarks/optim.py [--quick])"""
from __future__ import annotations
import harness
from harness import clock, compare
import torch
from torch import nn
from sgdlab import SGD, Adam, RMSProp, fit, linear_data, mse, one_cycle, quadratic_data

# ---------------------------------------------------------------------------------------------------------------
# 2. momentum: sgdlab's SGD against torch.optim.SGD on the book's roller coaster (three parameters a, b, c)

def momentum_loop(make_opt, steps: int) -> float:
    "Seconds per step of a training loop of a quadratic `a*t**2 + b*t + c` with the optimizer `make_opt(params)`"
    t, y = quadratic_data(20, seed=42)
    t = t / 20
    ps = [nn.Parameter(torch.tensor(v)) for v in (1., 1., 1.)]
    a, b, c = ps
    opt = make_opt(ps)
    def loop():
        for _ in range(steps):
            loss = mse(a*t**2 + b*t + c, y)
            loss.backward()
            opt.step()
            opt.zero_grad()
    return clock(loop) / steps

def step_only(make_opt, steps: int) -> float:
    "Seconds per `opt.step()` alone, with the gradients fixed"
    ps = [nn.Parameter(torch.ones(())) for _ in range(3)]
    for p in ps: p.grad = torch.full((), 0.5)
    opt = make_opt(ps)
    def loop():
        for _ in range(steps): opt.step()
    return clock(loop) / steps

def fig2(cfg):
    ours = lambda ps: SGD(ps, lr=0.01, mom=0.9)
    theirs = lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9)
    return [('2', 'SGD(mom=0.9) loop ÷ torch.optim.SGD(momentum=0.9) loop, 3 parameters', 1.0,
             compare(lambda: momentum_loop(ours, cfg.steps), lambda: momentum_loop(theirs, cfg.steps), cfg.reps)),
            ('2', '  opt.step() alone', None,
             compare(lambda: step_only(ours, cfg.steps), lambda: step_only(theirs, cfg.steps), cfg.reps))]

def _pair(num, what, ours, theirs, cfg):
    "A training-loop row (with a target of 1.0) and an `opt.step()`-alone row for one optimizer and its torch twin"
    return [(num, f'{what} loop ÷ torch.optim twin loop, 3 parameters', 1.0,
             compare(lambda: momentum_loop(ours, cfg.steps), lambda: momentum_loop(theirs, cfg.steps), cfg.reps)),
            (num, '  opt.step() alone', None,
             compare(lambda: step_only(ours, cfg.steps), lambda: step_only(theirs, cfg.steps), cfg.reps))]

def fig2_1(cfg):
    return _pair('2.1', 'Adam(lr=1e-3)', lambda ps: Adam(ps, lr=1e-3), lambda ps: torch.optim.Adam(ps, lr=1e-3), cfg)

def fig2_2(cfg):
    ours, theirs = lambda ps: RMSProp(ps, lr=1e-3), lambda ps: torch.optim.RMSprop(ps, lr=1e-3)
    return _pair('2.2', 'RMSProp(lr=1e-3)', ours, theirs, cfg)

# ---------------------------------------------------------------------------------------------------------------
# 2.3 a learning-rate schedule: fit(lr=one_cycle(...)) against fit(lr=constant), lesson 1's full-batch fit

def fit_steps(lr, steps: int) -> float:
    "Seconds per step of fit's default call on lesson 1's data (n = 100, full batch) with `lr`, a number or a schedule"
    x, y = linear_data(100, seed=42)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return clock(fit, lambda x: x@a, x, y, params=[a], lr=lr, steps=steps, progress=False) / steps

def fig2_3(cfg):
    return [('2.3', 'fit(lr=one_cycle(0.5)) ÷ fit(lr=0.1), n = 100 full batch, time per step', 1.05,
             compare(lambda: fit_steps(one_cycle(0.5), cfg.steps), lambda: fit_steps(0.1, cfg.steps), cfg.reps))]

FIGURES = {'2': fig2, '2.1': fig2_1, '2.2': fig2_2, '2.3': fig2_3}

if __name__ == '__main__': harness.main(FIGURES, description=__doc__.split(chr(10))[0])
