"""Explorers (issue 25): the numbers a widget embeds are those of a fresh fit at the same hyper-parameters, the HTML is
self-contained and within its budget, the size guard stops a grid before it is fitted, and paths are clipped exactly.
tests/test_explore_browser.py drives the widget in headless Chromium."""
import base64, io, json, math, random, re, subprocess, sys
from functools import partial
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from PIL import Image
from torch import nn
import sgdlab
from sgdlab import SGD, DivergenceError, Explorer, History, explore, fit, linear_data
from sgdlab.explore import _clip, _curve_str, _path_str, _round, _runs

X, Y = linear_data(100, seed=42)


def line(lr, mom=0., bs=None, steps=40, seed=0):
    "The lesson's line from a = (-1, 1): a fresh parameter every call, so every call is a fresh fit"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return fit(lambda xb: xb@a, X, Y, params=[a], lr=lr, steps=steps, bs=bs, seed=seed,
               opt_func=partial(SGD, mom=mom))


def fresh(**point) -> History:
    "The History of a fit at `point`, run again from scratch, the way explore keeps it (DivergenceError included)"
    try: return line(**point)
    except DivergenceError as e: return e.hist


def embedded(html: str) -> dict:
    "The data a widget's script holds, parsed from the HTML itself"
    return json.loads(html.split('var D=\n', 1)[1].split('\n;', 1)[0])


GRID = {'lr': [0.05, 0.3, 0.9, 1.2, 3.0], 'mom': [0., 0.5, 0.9], 'bs': [None, 10]}


@pytest.fixture(scope='module')
def ex():
    return explore(line, GRID, surface=(X, Y), default={'lr': 0.3, 'mom': 0.5})


def test_embedded_numbers_are_a_fresh_fits(ex):
    "A few points at random: each loss and each path point in the HTML is the fresh fit's, rounded by the stated rule"
    data = embedded(ex.html)
    assert data['points'] == ex.data['points']
    rl, (rx, ry) = data['round']['l'], data['round']['p']
    assert rl == ['g', 4] and rx[0] == ry[0] == 'f'
    for point in random.Random(0).sample(ex.points, 8) + [{'lr': 3.0, 'mom': 0.9, 'bs': 10}]:
        h, p = fresh(**point), data['points'][ex.points.index(point)]
        finite = [v for v in h.loss if math.isfinite(v)]
        assert p['n'] == len(h.loss)
        assert p['l'][:len(finite)] == [_round(v, rl) for v in finite], point
        assert all(abs(e - v) <= 5e-4 * abs(v) for e, v in zip(p['l'], finite))      # 4 significant digits
        assert p['l'][len(finite):] == [None] * (len(h.loss) - len(finite))          # the step that blew up
        path = [s.tolist() for s in h.path()] + ([h.final_params[0].tolist()] if h.final_params is not None else [])
        if not p.get('pc'):   # the whole path inside the picture: every recorded point, in order
            got = np.array(p['p'], dtype=float).reshape(-1, 2)
            assert got.tolist() == [[_round(a, rx), _round(b, ry)] for a, b in path], point
            assert np.abs(got - np.array(path)).max() <= 0.5 * 10.**-min(rx[1], ry[1]) + 1e-12
        else:                 # the part before the path leaves the picture is still the recorded one
            first = p['p'][:p['p'].index(None)] if None in p['p'] else p['p']
            got = np.array(first, dtype=float).reshape(-1, 2)
            assert got[:-1].tolist() == [[_round(a, rx), _round(b, ry)] for a, b in path[:len(got) - 1]], point


def test_divergence_is_a_grid_point(ex):
    h = ex.hist(lr=3.0, mom=0.9, bs=10)
    assert h.stopped == 'diverged' and not math.isfinite(h.loss[-1])
    t = ex.data['points'][ex.points.index({'lr': 3.0, 'mom': 0.9, 'bs': 10})]['t']
    assert t.startswith('diverged: the loss became') and 'DivergenceError' in t
    assert ex.data['points'][ex.points.index({'lr': 3.0, 'mom': 0.9, 'bs': 10})].get('pc') == 1
    assert 'diverged' in repr(ex)


def test_thinning_keeps_every_kth_step_and_the_last():
    ex = explore(lambda lr: line(lr, steps=23), {'lr': [0.1, 0.5]}, every=5)
    p, h = ex.data['points'][1], fresh(lr=0.5, steps=23)
    assert p['l'] == [_round(h.loss[i], ['g', 4]) for i in (0, 5, 10, 15, 20, 22)]
    rx, ry = ex.data['round']['p']
    snaps = [s.tolist() for s in h.path()] + [h.final_params[0].tolist()]
    assert np.array(p['p']).reshape(-1, 2).tolist() == [[_round(a, rx), _round(b, ry)]
                                                        for a, b in (snaps[i] for i in (0, 5, 10, 15, 20, 23))]


def test_html_is_self_contained_and_draws_the_default_point(ex):
    html = ex.html
    assert html.count('<script>') == 1 and 'src=' not in html and '<link' not in html and 'http' not in html
    assert html.count('{{') == 0 and 'disabled' in html
    j = ex.points.index({'lr': 0.3, 'mom': 0.5, 'bs': None})
    assert f'points="{_curve_str(ex.data, ex.data["points"][j])}"' in html
    assert f'<path class="sx-path" d="{_path_str(ex.data, ex.data["points"][j])}"/>' in html
    assert 'lr = 0.3, mom = 0.5, bs = None: loss 8.232' in html
    assert '<select' not in html and html.count('type="range"') == 3


def test_display_bundle_has_a_still_of_the_default_point(ex, tmp_path):
    b = ex._repr_mimebundle_()
    assert set(b) == {'text/html', 'image/png', 'text/plain'} and b['text/html'] == ex.html
    im = Image.open(io.BytesIO(base64.b64decode(b['image/png'])))
    assert im.size == (780, 290)
    assert np.asarray(im.convert('RGB')).std() > 10          # a picture, not a blank
    assert ex.still(lr=0.05).tobytes() != ex.still().tobytes()
    path = ex.save(tmp_path/'ex.html')
    page = path.read_text(encoding='utf-8')
    assert page.startswith('<!DOCTYPE html>') and ex.html in page and '<meta charset="utf-8">' in page
    assert [p.name for p in tmp_path.iterdir()] == ['ex.html']


def test_choices_and_a_two_number_module():
    "Strings become a <select>; an nn.Linear(1, 1) has a path (weight, bias) without project="
    xs, ys = X[:, :1], Y[:, None]
    def run(opt, lr):
        net = nn.Linear(1, 1)
        with torch.no_grad(): net.weight.fill_(-1.); net.bias.fill_(1.)
        return fit(net, xs, ys, lr=lr, steps=20, opt_func=partial(SGD, mom=0.9 if opt == 'momentum' else 0.))
    ex = explore(run, {'opt': ['plain', 'momentum'], 'lr': [0.1, 0.3]}, coords=('weight', 'bias'))
    assert '<select data-dim="0" aria-label="opt" disabled><option value="0" selected>plain</option>' in ex.html
    assert ex.data['points'][0]['p'][:2] == [-1., 1.] and '>weight</text>' in ex.html
    assert 'class="sx-contour"' not in ex.html and 'class="sx-path"' in ex.html   # no surface: a path, no contours


def test_a_bigger_model_has_only_the_loss_panel():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    def run(lr):
        for p, v in zip(net.parameters(), torch.linspace(-0.5, 0.5, 4)): nn.init.constant_(p, v.item())
        return fit(net, X, Y[:, None], lr=lr, steps=10)
    ex = explore(run, {'lr': [0.01, 0.05]})
    assert 'px' not in ex.data and 'class="sx-path"' not in ex.html and 'p' not in ex.data['points'][0]
    with pytest.raises(ValueError, match='record_params=True'):
        explore(lambda lr: line_unrecorded(lr), {'lr': [0.1]}, surface=(X, Y))


def line_unrecorded(lr):
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return fit(lambda xb: xb@a, X, Y, params=[a], lr=lr, steps=5, record_params=False)


def test_budget_of_a_10_by_10_grid():
    "Issue 25: a 10 × 10 grid of 100-step fits of a 2-parameter model stays under 500 kB of HTML"
    grid = {'lr': [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.05], 'mom': [i / 10 for i in range(10)]}
    ex = explore(partial(line, steps=100), grid, surface=(X, Y))
    assert len(ex) == 100 and max(len(h) for h in ex.hists) == 100
    assert ex.kb < 500, ex.kb


def test_guard_stops_before_fitting_the_rest():
    calls = []
    def f(lr):
        calls.append(lr)
        return line(lr, steps=300)
    with pytest.raises(ValueError) as e: explore(f, {'lr': [i / 100 for i in range(1, 60)]}, max_kb=50)
    msg = str(e.value)
    assert calls == [0.01], 'the early guard runs one fit, not the whole grid'
    for words in ('59 grid points', '300 steps', 'max_kb=50', 'every=', 'fewer values', 'kB'): assert words in msg, msg
    k = int(re.search(r'every=(\d+)', msg)[1])
    assert explore(lambda lr: line(lr, steps=300), {'lr': [i / 100 for i in range(1, 60)]}, every=k, max_kb=50).kb < 50


def test_guard_after_the_last_fit():
    "An estimate under 1.5 × max_kb runs the grid; the exact size is then checked, with a way out that works"
    grid = {'lr': [0.05, 0.1, 0.2, 0.4]}
    kb = explore(line, grid).kb
    with pytest.raises(ValueError, match=r'max_kb=') as e: explore(line, grid, max_kb=kb * 0.9)
    k = re.search(r'every=(\d+)', str(e.value))
    if k: assert explore(line, grid, max_kb=kb * 0.9, every=int(k[1])).kb <= kb * 0.9
    assert explore(line, grid, max_kb=kb * 1.01).kb == kb


def test_quiet_in_tests(capsys):
    explore(line, {'lr': [0.1, 0.2]})
    assert capsys.readouterr() == ('', '')


def test_import_sgdlab_still_leaves_matplotlib_alone():
    code = "import sys, sgdlab; assert sgdlab.explore and 'matplotlib' not in sys.modules, sorted(sys.modules)[:5]"
    subprocess.run([sys.executable, '-c', code], check=True)


def test_epochs_along_the_loss_axis():
    ex = explore(lambda bs: line(0.1, bs=bs, steps=30), {'bs': [10, 50]}, along='epoch')
    assert ex.data['lx'][1] == 29 / 2                            # bs=50: 2 steps per epoch, 30 steps
    assert [p['e'] for p in ex.data['points']] == [10, 2]
    assert '>epoch</text>' in ex.html


# --- clipping a path to its axes ----------------------------------------------------------------------------------

BOX = (-1., 2., 0.5, 3.)
coord = st.floats(-50, 50, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(coord, coord, coord, coord)
def test_clip_keeps_exactly_the_part_inside(ax, ay, bx, by):
    "The clipped segment lies on the segment, inside the box, and holds every sampled point of it that is inside"
    a, b = (ax, ay), (bx, by)
    seg = _clip(a, b, BOX)
    ts = np.linspace(0, 1, 201)
    pts = np.array(a) + ts[:, None] * (np.array(b) - np.array(a))
    inside = (pts[:, 0] >= BOX[0]) & (pts[:, 0] <= BOX[1]) & (pts[:, 1] >= BOX[2]) & (pts[:, 1] <= BOX[3])
    if seg is None: assert not inside[1:-1].any() or np.hypot(bx - ax, by - ay) < 1e-9; return
    (cx, cy), (dx, dy) = seg
    for x, y in seg:
        assert BOX[0] - 1e-9 <= x <= BOX[1] + 1e-9 and BOX[2] - 1e-9 <= y <= BOX[3] + 1e-9
        assert abs((bx - ax) * (y - ay) - (by - ay) * (x - ax)) <= 1e-6 * (1 + abs(bx - ax) + abs(by - ay)) * 50
    # every inside sample lies between the clipped ends (by projection on the segment)
    d = np.array(b) - np.array(a)
    if d @ d > 0:
        t0, t1 = sorted([(np.array(seg[0]) - a) @ d / (d @ d), (np.array(seg[1]) - a) @ d / (d @ d)])
        assert (ts[inside] >= t0 - 1e-6).all() and (ts[inside] <= t1 + 1e-6).all()


def test_runs_of_a_divergent_path_cross_the_box_where_the_segments_do():
    pts = np.array([[0., 1.], [1., 2.], [5., 2.], [-5., 1.], [60., 1e6], [np.inf, 0.]])
    runs, ends = _runs(pts, BOX)
    assert runs[0] == [(0., 1.), (1., 2.), (2., 2.)] and not ends
    assert runs[1][0] == (2., pytest.approx(1.7)) and runs[1][1] == (-1., pytest.approx(1.4))
    assert len(runs) == 2     # the segment to (60, 1e6) misses the box, and inf ends the path


# --- a surface per value of one hyper-parameter ---------------------------------------------------------------------

CURV = torch.tensor([1., 10.], dtype=torch.float64)
TURN = torch.tensor([[0.8, -0.6], [0.6, 0.8]], dtype=torch.float64)
VALLEYS = {'aligned': lambda w: 0.5 * (CURV * w**2).sum(-1), 'turned': lambda w: 0.5 * (CURV * (w @ TURN)**2).sum(-1)}


def on_valley(valley, lr):
    "fit on a loss of the parameters alone: the model returns w, and the loss ignores the (empty) data"
    w = nn.Parameter(torch.tensor([-3., 1.], dtype=torch.float64))
    return fit(lambda xb: w, torch.zeros(1, 1), torch.zeros(1), params=[w], lr=lr, steps=30,
               loss_func=lambda p, t: VALLEYS[valley](p))


def test_a_surface_per_value_of_a_choice():
    ex = explore(on_valley, {'lr': [0.05, 0.15], 'valley': ['turned', 'aligned']}, surface=VALLEYS, best=(0, 0))
    assert ex.data['sd'] == 1 and ex.html.count('class="sx-bg"') == 2
    shown, hidden = ex.html.split('class="sx-bg"')[1:]
    assert not shown.startswith(' visibility="hidden"') and hidden.startswith(' visibility="hidden"')
    t, a = ex.layers                                       # in the order of the grid's values: turned, aligned
    assert len(t[0]) > 5 and t[1] == [0., 0.]
    assert not np.allclose(np.concatenate(t[0])[:20], np.concatenate(a[0])[:20])
    assert ex.hist(lr=0.15, valley='aligned').loss == on_valley('aligned', 0.15).loss
    assert ex.still(valley='aligned').tobytes() != ex.still(valley='turned').tobytes()
    with pytest.raises(ValueError, match='not the values of one'):
        explore(on_valley, {'lr': [0.1], 'valley': ['turned']}, surface=VALLEYS)
