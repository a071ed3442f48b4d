"Plots and animations: frames as data, determinism, no training, no global state, files that read back."
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.animation import FuncAnimation
from PIL import Image
from torch import nn
from sgdlab import (History, FitAnimation, animate_fit, fit, linear_data, loss_surface, plot_fit,
                    plot_function, quadratic_data, save_anim, to_np)


@pytest.fixture(scope='module')
def data():
    x, y = linear_data(100, seed=42)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=30)
    return x, y, a, hist


@pytest.fixture(autouse=True)
def no_figures_left():
    "Every test starts and ends without pyplot figures, so a stray figure shows up as a failure"
    plt.close('all')
    yield
    plt.close('all')


def test_frame_count_and_subsampling(data):
    x, y, a, hist = data
    test_n = len(hist)
    assert animate_fit(x, y, hist).steps == list(range(test_n))
    anim = animate_fit(x, y, hist, every=7)
    assert anim.steps == [0, 7, 14, 21, 28, 29]
    assert len(list(anim.render())) == 6
    with pytest.raises(ValueError, match='positive'): animate_fit(x, y, hist, every=0)


@pytest.mark.parametrize('panel', [None, 'loss', 'surface'])
def test_render_is_deterministic_and_touches_nothing(data, panel):
    x, y, a, hist = data
    a0, path0, loss0, rng0 = a.detach().clone(), hist.path(0).clone(), list(hist.loss), torch.get_rng_state()
    rc0 = dict(matplotlib.rcParams)
    anim = animate_fit(x, y, hist, every=3, panel=panel)
    first, second = np.stack(list(anim.render())), np.stack(list(anim.render()))
    assert first.shape == (len(anim.steps), 350, 500 * (1 + (panel is not None)), 3)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first[0], first[-1])
    assert torch.equal(a.detach(), a0) and torch.equal(hist.path(0), path0) and hist.loss == loss0
    assert torch.equal(torch.get_rng_state(), rng0)
    assert dict(matplotlib.rcParams) == rc0
    assert plt.get_fignums() == []


def test_frames_replay_the_history(data):
    x, y, a, hist = data
    calls = []
    def model(ps, x): calls.append(1); return x@ps[0]
    anim = animate_fit(x, y, hist, model=model, every=10)
    assert len(calls) == len(anim.steps)  # predictions are computed once, up front
    frames = list(anim.render()) + list(anim.render())
    assert len(calls) == len(anim.steps)  # rendering only replays them
    line = anim._artists[0]
    anim._frame(2)  # frame 2 shows step 20
    order = np.argsort(to_np(x[:, 0]))
    np.testing.assert_allclose(line.get_ydata(), to_np(x@hist.params[20][0])[order], rtol=1e-6)
    assert len(frames) == 2 * len(anim.steps)


def test_any_model_of_one_variable():
    t, speed = quadratic_data(seed=0)
    p = nn.Parameter(torch.zeros(3))
    def quad(ps, t): u = (t - 10) / 10; return ps[0][0]*u**2 + ps[0][1]*u + ps[0][2]
    hist = fit(lambda t: quad([p], t), t, speed, params=[p], lr=0.2, epochs=20)
    anim = animate_fit(t, speed, hist, model=quad, every=5, panel='loss')
    np.testing.assert_allclose(anim._artists[0].get_xdata(), np.arange(20.))
    assert len(list(anim.render())) == 5


def test_bad_arguments(data):
    x, y, a, hist = data
    with pytest.raises(ValueError, match="'loss' or 'surface'"): animate_fit(x, y, hist, panel='weights')
    with pytest.raises(ValueError, match='record_params'): animate_fit(x, y, History(loss=[1.]))
    with pytest.raises(ValueError, match=r'must be \(n, 2\)'): loss_surface(x[:, 0], y)
    with pytest.raises(ValueError, match='2 numbers'): loss_surface(x, y, History(loss=[1.], params=[(torch.zeros(3),)]))
    with pytest.raises(ValueError, match='surface'): animate_fit(x[:, 0], y, hist, model=lambda ps, x: x*ps[0][0], panel='surface')


def test_notebook_display_is_jshtml_without_global_settings(data):
    x, y, a, hist = data
    rc0 = matplotlib.rcParams['animation.html']
    anim = animate_fit(x, y, hist, every=5)
    html = anim._repr_html_()
    assert isinstance(anim, FuncAnimation) and isinstance(anim, FitAnimation)
    assert html.count('data:image/png;base64,') == len(anim.steps)
    assert '<script' in html
    assert matplotlib.rcParams['animation.html'] == rc0
    assert 'FitAnimation(7 frames' in repr(anim)


def test_saved_files_read_back(data, tmp_path):
    x, y, a, hist = data
    anim = animate_fit(x, y, hist, every=3, panel='loss')
    n = len(anim.steps)
    gif = save_anim(anim, tmp_path/'fit.gif')
    with Image.open(gif) as im:
        assert im.format == 'GIF' and im.n_frames == n and im.size == (1000, 350)
    mp4 = save_anim(anim, str(tmp_path/'fit.mp4'))
    assert mp4 == tmp_path/'fit.mp4' and mp4.read_bytes()[4:8] == b'ftyp'
    page = save_anim(anim, tmp_path/'fit.HTML')
    text = page.read_text()
    assert text.startswith('<!DOCTYPE html>') and text.count('data:image/png;base64,') == n
    assert 'src="http' not in text  # self-contained


def test_save_rejects_bad_paths(data, tmp_path):
    x, y, a, hist = data
    anim = animate_fit(x, y, hist, every=10)
    with pytest.raises(ValueError, match=r'\.gif, \.mp4, \.html'): save_anim(anim, tmp_path/'fit.avi')
    with pytest.raises(ValueError, match=r'\.gif, \.mp4, \.html'): save_anim(anim, tmp_path/'fit')
    with pytest.raises(FileNotFoundError, match='does not exist'): save_anim(anim, tmp_path/'nope'/'fit.gif')
    assert list(tmp_path.iterdir()) == []


def test_save_any_matplotlib_animation(data, tmp_path):
    "A lesson-style FuncAnimation goes through matplotlib's writers, with ffmpeg from imageio-ffmpeg"
    x, y, a, hist = data
    fig = plt.figure(figsize=(3, 2))
    line, = plt.plot(to_np(x[:, 0]), to_np(x@hist.params[0][0]))
    plt.close(fig)
    anim = FuncAnimation(fig, lambda i: line.set_ydata(to_np(x@hist.params[i][0])), range(4), interval=50)
    with Image.open(save_anim(anim, tmp_path/'lesson.gif')) as im: assert im.n_frames == 4
    assert save_anim(anim, tmp_path/'lesson.mp4').read_bytes()[4:8] == b'ftyp'


def test_plot_helpers_accept_tensors_that_require_grad(data):
    x, y, a, hist = data
    w = nn.Parameter(torch.tensor(2.))
    ax = plot_function(lambda t: w*t**2, 'x', 'w*x**2', title='t', min=-1, max=1)
    np.testing.assert_allclose(ax.lines[0].get_ydata()[[0, -1]], [2., 2.])
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ('x', 'w*x**2', 't')
    xg, yg = x.clone().requires_grad_(), y.clone().requires_grad_()
    for m, line in ((a, a), (hist.params[-1], hist.params[-1][0]), (lambda x: x@a, a), ([a], a)):
        xs, ys = plot_fit(xg, yg, m).lines[0].get_data()
        np.testing.assert_allclose(ys, xs*line[0].item() + line[1].item(), rtol=1e-5, atol=1e-5)
    ax = loss_surface(xg, yg, {'full': hist, 'again': hist})
    np.testing.assert_allclose(ax.lines[1].get_xydata(), to_np(hist.path(0)))
    assert ax.get_legend_handles_labels()[1] == ['least squares', 'full', 'again']
    anim = animate_fit(xg, yg, hist, every=10, panel='surface')
    assert len(list(anim.render())) == len(anim.steps)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_gpu_tensors(data):
    x, y, a, hist = data
    xc, yc, ac = x.cuda(), y.cuda(), nn.Parameter(a.detach().cuda())
    ax = plot_fit(xc, yc, ac)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.sort(to_np(x@a)), rtol=1e-5)
    hc = History(loss=hist.loss, params=[tuple(p.cuda() for p in ps) for ps in hist.params])
    assert len(list(animate_fit(xc, yc, hc, every=10, panel='surface').render())) == 4
