"""The explorers saved in lessons 1 and 3 (issue 25 §4): the losses each one embeds for a few grid points equal those
of a fresh fit made the lesson's way, so a saved page never shows numbers the library no longer produces."""
import html, json, math
from pathlib import Path
import pytest
import torch
from torch import nn
from sgdlab import SGD, DivergenceError, fit, linear_data
from sgdlab.explore import _round

NBS = Path(__file__).resolve().parents[1]/'nbs'


def saved(nb: str, title: str) -> dict:
    "The data embedded in the saved explorer of notebook `nb` whose title starts with `title`"
    for c in json.loads((NBS/nb).read_text())['cells']:
        for o in c.get('outputs', []):
            page = ''.join(o.get('data', {}).get('text/html', ''))
            if 'sgdlab-explore' in page and f'class="sx-title">{html.escape(title)}' in page:
                return json.loads(page.split('var D=\n', 1)[1].split('\n;', 1)[0])
    raise AssertionError(f'{nb}: no saved explorer titled {title!r}')


def point(data: dict, **at) -> dict:
    "The embedded numbers of grid point `at`, found by the labels of its values"
    idx = [data['labels'][data['names'].index(n)].index(f'{v:g}') for n, v in at.items()]
    return data['points'][sum(i * math.prod(data['sizes'][k + 1:]) for k, i in enumerate(idx))]


def same_losses(p: dict, h, rule):
    "The embedded losses are the fresh fit's, rounded by the widget's rule"
    finite = [v for v in h.loss if math.isfinite(v)]
    assert p['n'] == len(h.loss) and p['l'][0] == _round(finite[0], rule) and p['l'][-1] == _round(finite[-1], rule)
    assert all(abs(e - v) <= 5e-4 * abs(v) for e, v in zip(p['l'], finite))


X, Y = linear_data(100, seed=42)
def run(lr, epochs=100, **kwargs):
    "Lesson 1's `run` from (-1, 1)"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return fit(lambda xb: xb@a, X, Y, params=[a], lr=lr, epochs=epochs, **kwargs)


@pytest.mark.parametrize('lr', [0.1, 0.99, 1.1])
def test_lesson1_learning_rate_explorer(lr):
    data = saved('10_sgd_from_scratch.ipynb', 'The learning rate')
    same_losses(point(data, lr=lr), run(lr), data['round']['l'])


@pytest.mark.parametrize('bs', [100, 10])
def test_lesson1_batch_size_explorer(bs):
    data = saved('10_sgd_from_scratch.ipynb', 'The batch size')
    same_losses(point(data, bs=bs), run(0.1, epochs=20, bs=bs, seed=0, valid=(X, Y)), data['round']['l'])


KAPPA = 100.
CURV = torch.tensor([1., KAPPA], dtype=torch.float64)
def valley_fit(lr, mom, steps=100):
    "Lesson 3's `valley_fit`: `SGD(lr, mom)` on the valley from (-10, 1)"
    w = nn.Parameter(torch.tensor([-10., 1.], dtype=torch.float64))
    try: return fit(lambda xb: w, torch.zeros(1, 1), torch.zeros(1), params=[w], lr=lr, steps=steps,
                    loss_func=lambda preds, targs: 0.5 * (CURV * preds**2).sum(-1),
                    opt_func=lambda ps, lr: SGD(ps, lr=lr, mom=mom))
    except DivergenceError as e: return e.hist


@pytest.mark.parametrize('lr,mom', [(4 / 11**2, (9 / 11)**2), (0.025, 0.), (0.01, 0.9)])
def test_lesson3_goh_explorer(lr, mom):
    data = saved('12_accelerated_sgd.ipynb', "Goh's experiment")
    same_losses(point(data, lr=lr, mom=mom), valley_fit(lr, mom), data['round']['l'])
