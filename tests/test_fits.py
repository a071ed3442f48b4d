"State across fits (issue 20 §3): a second `Learner.fit` continues where the first stopped, bit for bit."
from functools import partial
import pytest, torch
from torch import nn
from sgdlab import SGD, Adam, Learner, linear_data, sched_lin

def run(opt_func, fits, lr=0.05, bs=16, x_y=None):
    "Train a small linear model with `opt_func` by `fits`, a list of epoch counts for successive `fit` calls"
    torch.manual_seed(0)  # only for the initial weights of the layer, the same in every run
    model = nn.Linear(2, 1)
    x, y = linear_data(64, seed=0)
    learn = Learner(model, x, y[:, None], lr=lr, bs=bs, opt_func=opt_func, seed=2)
    hists = [learn.fit(n) for n in fits]
    return [p.detach().clone() for p in model.parameters()], [l for h in hists for l in h.loss], learn

OPTS = {'SGD': SGD, 'SGD mom': partial(SGD, mom=0.9), 'Adam': Adam,
        'torch SGD': torch.optim.SGD, 'torch SGD momentum': partial(torch.optim.SGD, momentum=0.9),
        'torch Adam': torch.optim.Adam}

@pytest.mark.parametrize('name', OPTS)
def test_fit_2_then_2_is_fit_4_bit_for_bit(name):
    (p4, l4, _), (p22, l22, learn) = run(OPTS[name], [4]), run(OPTS[name], [2, 2])
    assert l4 == l22 and all(torch.equal(a, b) for a, b in zip(p4, p22))

def test_the_optimizer_and_its_state_are_kept():
    _, _, learn = run(Adam, [1])
    opt = learn.opt
    step = opt.state[learn.params[0]]['step']
    learn.fit(1)
    assert learn.opt is opt and opt.state[learn.params[0]]['step'] == 2 * step == 8

def test_a_new_lr_between_fits_is_used_and_opt_none_starts_afresh():
    _, _, learn = run(partial(SGD, mom=0.9), [1])
    learn.lr = 0.01
    learn.fit(1)
    assert learn.opt.lr == 0.01
    old, learn.opt = learn.opt, None
    learn.fit(1)
    assert learn.opt is not old and learn.opt.lr == 0.01  # its fresh momentum: test_contracts.py, by value

def test_a_schedule_restarts_with_each_fit():
    "As fastai's fit_one_cycle: the position of a schedule is that of this fit"
    s = sched_lin(0.1, 0.01)
    _, _, learn = run(SGD, [1], lr=s)
    h = learn.fit(1)
    assert h.lrs == [s(i / 4) for i in range(4)]
