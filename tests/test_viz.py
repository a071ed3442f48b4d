"Plots and animations: frames as data, determinism, no training, no global state, files that read back, and errors that say what to do."
import json, signal, subprocess, sys, textwrap, time, warnings
from pathlib import Path
from types import SimpleNamespace
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.animation import FuncAnimation
from PIL import Image
from torch import nn
from torch.nn.utils import skip_init
import sgdlab
from sgdlab import (History, FitAnimation, animate_fit, animate_loss, fit, least_squares, linear_data, loss_surface,
                    plot_fit, plot_function, quadratic_data, save_anim, to_np)
from sgdlab import anim, viz
from sgdlab.anim import _png


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


def has_end(hist): return getattr(hist, 'final_params', None) is not None
def snapshots(hist):
    "The recorded tuples, then final_params if the History has them"
    return list(hist.params) + ([tuple(hist.final_params)] if has_end(hist) else [])


# ---------------------------------------------------------------------------------------------------------------
# Lazy import

def test_import_sgdlab_leaves_matplotlib_alone():
    code = textwrap.dedent("""
        import sys, sgdlab
        assert 'matplotlib' not in sys.modules and 'sgdlab.viz' not in sys.modules and 'sgdlab.anim' not in sys.modules
        assert 'animate_fit' in dir(sgdlab) and 'save_anim' in sgdlab.__all__
        from sgdlab import animate_fit
        import sgdlab.anim
        assert animate_fit is sgdlab.anim.animate_fit and 'matplotlib' in sys.modules
        try: sgdlab.no_such_name
        except AttributeError as e: assert 'no_such_name' in str(e)
        else: raise AssertionError('no AttributeError')
    """)
    subprocess.run([sys.executable, '-c', code], check=True)


def test_lazy_names_are_viz_all():
    assert sorted(sgdlab._LAZY) == sorted(viz.__all__ + anim.__all__)
    assert all(getattr(sgdlab, n) is getattr(mod, n) for mod in (viz, anim) for n in mod.__all__)


def test_star_import_gives_viz_names_not_submodules():
    ns = {}
    exec('from sgdlab import *', ns)
    assert ns['animate_fit'] is anim.animate_fit and ns['fit'] is sgdlab.fit
    assert 'viz' not in ns and 'anim' not in ns and 'data' not in ns


def test_no_private_matplotlib_attributes():
    "FitAnimation uses matplotlib's public API only (STYLE.md, rule 11)"
    src = Path(viz.__file__).read_text() + Path(anim.__file__).read_text()
    for name in ('_saved_frames', '_draw_was_started', '_fig', '_artists', '_interval', '_func', '_framedata'):
        assert f'.{name}' not in src, name
    assert not issubclass(FitAnimation, FuncAnimation)


# ---------------------------------------------------------------------------------------------------------------
# Frames: which steps, what each shows

def test_frame_count_and_subsampling(data):
    x, y, a, hist = data
    n = len(hist)
    end = [n] if has_end(hist) else []
    assert animate_fit(x, y, hist).steps == list(range(n if end else n)) + end
    anim = animate_fit(x, y, hist, every=7)
    assert anim.steps == [0, 7, 14, 21, 28] + (end or [29])
    assert len(list(anim.render())) == len(anim) == 6
    with pytest.raises(ValueError, match='positive'): animate_fit(x, y, hist, every=0)
    with pytest.raises(ValueError, match='positive'): animate_fit(x, y, hist, every=True)


def test_default_every_caps_frames_with_a_note():
    x, y = linear_data(20, seed=0)
    h = History(loss=[1.] * 500, params=[(torch.tensor([i / 500, 1.]),) for i in range(500)])
    with pytest.warns(UserWarning, match=r'showing 85 frames, one every 6 of 500 recorded steps; pass every=1'):
        anim = animate_fit(x, y, h)
    assert len(anim) == 85 and anim.steps[-2:] == [498, 499]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert len(animate_fit(x, y, h, every=1)) == 500  # asked for: no note


def test_frame_labels_trail_and_dot_when_every_is_above_one(data):
    x, y, a, hist = data
    anim = animate_fit(x, y, hist, every=4, panel='loss')
    line, label, trail, dot = anim.artists
    for j in (1, 3, 5):
        anim.draw_frame(j)
        s = anim.steps[j]
        assert s == 4 * j
        assert label.get_text() == f"step {s:>4}  loss {hist.loss[s]:.4f}"
        np.testing.assert_allclose(trail.get_xdata(), np.arange(s + 1))
        np.testing.assert_allclose(trail.get_ydata(), hist.loss[:s + 1])
        np.testing.assert_allclose(dot.get_xydata(), [[s, hist.loss[s]]])
        order = np.argsort(to_np(x[:, 0]))
        np.testing.assert_allclose(line.get_ydata(), to_np(x@hist.params[s][0])[order], rtol=1e-6)
    assert anim.labels[1] == f"step 4 loss {hist.loss[4]:.4f}"


def test_thinned_history_and_final_params():
    "params[i] precede step param_steps[i]; final_params come after the last step, and the last frame says so"
    x, y = linear_data(30, seed=1)
    loss = [float(10 - i) for i in range(10)]
    h = SimpleNamespace(loss=loss, params=[(torch.tensor([float(s), 1.]),) for s in (0, 3, 6, 9)], param_steps=[0, 3, 6, 9],
                        final_params=(torch.tensor([10., 1.]),), bs=None)
    anim = animate_fit(x, y, h, every=1, panel='surface')
    assert anim.steps == [0, 3, 6, 9, 10]
    line, label, trail, dot = anim.artists
    anim.draw_frame(2)
    assert label.get_text() == 'step    6  loss 4.0000'
    np.testing.assert_allclose(trail.get_xydata(), [[0, 1], [3, 1], [6, 1]])
    np.testing.assert_allclose(dot.get_xydata(), [[6, 1]])
    anim.draw_frame(4)
    assert label.get_text() == 'step   10 (end)' and anim.labels[-1] == 'step 10 (end)'
    np.testing.assert_allclose(dot.get_xydata(), [[10, 1]])
    np.testing.assert_allclose(line.get_ydata(), np.sort(to_np(x[:, 0])) * 10 + 1, rtol=1e-6)
    anim = animate_fit(x, y, h, every=3, panel='loss')
    assert anim.steps == [0, 9, 10]
    anim.draw_frame(2)
    trail, dot = anim.artists[2:]
    np.testing.assert_allclose(trail.get_ydata(), loss)  # the end frame shows the whole curve
    np.testing.assert_allclose(dot.get_xydata(), [[9, 1.]])
    ax = loss_surface(x, y, h)
    np.testing.assert_allclose(ax.lines[1].get_xydata(), [[0, 1], [3, 1], [6, 1], [9, 1], [10, 1]])


@pytest.mark.parametrize('panel', [None, 'loss', 'surface'])
def test_render_is_deterministic_and_touches_nothing(data, panel):
    x, y, a, hist = data
    a0, snaps0, loss0, rng0 = a.detach().clone(), [ps[0].clone() for ps in snapshots(hist)], list(hist.loss), torch.get_rng_state()
    rc0 = dict(matplotlib.rcParams)
    anim = animate_fit(x, y, hist, model=lambda x: x@a, params=[a], every=3, panel=panel)
    first, second = np.stack(list(anim.render())), np.stack(list(anim.render()))
    assert first.shape == (len(anim), 350, 500 * (1 + (panel is not None)), 3)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(np.asarray(anim.still()), first[-1])
    assert not np.array_equal(first[0], first[-1])
    assert torch.equal(a.detach(), a0) and hist.loss == loss0
    assert all(torch.equal(p[0], q) for p, q in zip(snapshots(hist), snaps0))
    assert torch.equal(torch.get_rng_state(), rng0)
    assert dict(matplotlib.rcParams) == rc0
    assert plt.get_fignums() == []


def test_predictions_are_computed_once_and_only_replayed(data):
    x, y, a, hist = data
    calls = []
    def model(x): calls.append(1); return x@a
    anim = animate_fit(x, y, hist, model=model, params=[a], every=10)
    n_calls = len(calls)
    assert n_calls == len(anim) + 1  # one check of the model, then one call per frame, up front
    list(anim.render()); list(anim.render())
    assert len(calls) == n_calls


# ---------------------------------------------------------------------------------------------------------------
# One model convention: model(x), as fit takes it

def test_function_model_with_params_of_one_variable():
    t, speed = quadratic_data(seed=0)
    p = nn.Parameter(torch.zeros(3))
    def quad(t): u = (t - 10) / 10; return p[0]*u**2 + p[1]*u + p[2]
    hist = fit(quad, t, speed, params=[p], lr=0.2, epochs=20)
    p_end, grad_end = p.detach().clone(), None if p.grad is None else p.grad.clone()
    anim = animate_fit(t, speed, hist, model=quad, params=[p], every=5, panel='loss')
    np.testing.assert_allclose(anim.artists[0].get_xdata(), np.arange(20.))
    anim.draw_frame(1)
    u = (t - 10) / 10
    ps = hist.params[5][0]
    np.testing.assert_allclose(anim.artists[0].get_ydata(), to_np(ps[0]*u**2 + ps[1]*u + ps[2]), rtol=1e-5)
    assert torch.equal(p.detach(), p_end) and p.requires_grad  # swapped back, never trained
    assert (p.grad is None) if grad_end is None else torch.equal(p.grad, grad_end)
    with pytest.raises(ValueError, match=r'params=\[a\]'): animate_fit(t, speed, hist, model=quad)
    with pytest.raises(TypeError, match=r'must be model\(x\)'): animate_fit(t, speed, hist, model=lambda ps, t: ps[0][0]*t)


def test_module_model_is_replayed_by_name_and_left_as_it_was():
    x, y = linear_data(50, seed=3)
    net = nn.Sequential(skip_init(nn.Linear, 2, 4), nn.Dropout(0.5), skip_init(nn.Linear, 4, 1))
    with torch.no_grad():
        for i, q in enumerate(net.parameters()): q.copy_(torch.linspace(-1, 1, q.numel()).reshape(q.shape) * (i + 1) / 4)
    rng = torch.get_rng_state()
    hist = fit(net, x, y[:, None], lr=0.05, epochs=5, seed=0)
    torch.set_rng_state(rng)
    net.train()
    after = [q.detach().clone() for q in net.parameters()]
    anim = animate_fit(x, y, hist, model=net, every=2)
    assert net.training and all(torch.equal(q, r) for q, r in zip(net.parameters(), after))
    anim.draw_frame(1)
    w1, b1, w2, b2 = hist.params[2]
    expected = (x @ w1.T + b1) @ w2.T + b2  # Dropout is off in a replay
    order = np.argsort(to_np(x[:, 0]))
    np.testing.assert_allclose(anim.artists[0].get_ydata(), to_np(expected[:, 0])[order], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r'model=net'): animate_fit(x, y, hist)
    with pytest.raises(ValueError, match=r'shapes'): animate_fit(x, y, hist, model=skip_init(nn.Linear, 2, 1))


def test_nn_linear_history_without_model_says_what_to_pass():
    x, y = linear_data(40, seed=2)
    lin = skip_init(nn.Linear, 2, 1)
    with torch.no_grad(): lin.weight.zero_(); lin.bias.zero_()
    hist = fit(lin, x, y[:, None], lr=0.1, epochs=3)
    with pytest.raises(ValueError) as e: animate_fit(x, y, hist)
    msg = str(e.value)
    assert 'model=' in msg and '[(1, 2), (1,)]' in msg and 'matmul' not in msg
    assert len(animate_fit(x, y, hist, model=lin)) == len(snapshots(hist))


def test_plot_fit_takes_the_same_models(data):
    x, y, a, hist = data
    lin = skip_init(nn.Linear, 2, 1, bias=False)
    with torch.no_grad(): lin.weight.copy_(a[None])
    for m in (a, hist.params[-1], lambda x: x@a, lin):
        xs, ys = plot_fit(x, y, m).lines[0].get_data()
        w = a if m is not hist.params[-1] else hist.params[-1][0]
        np.testing.assert_allclose(ys, xs*w[0].item() + w[1].item(), rtol=1e-5, atol=1e-5)
        plt.close('all')


def test_plot_fit_refuses_a_feature_matrix_and_accepts_raw_input():
    t = torch.linspace(-1, 1, 20)
    feats = torch.stack([t**2, t, torch.ones_like(t)], 1)
    c = torch.tensor([1., -2., 0.5])
    with pytest.raises(ValueError, match=r'shape \(20, 3\).*raw input'): plot_fit(feats, feats@c, c)
    with pytest.raises(ValueError, match=r'raw input'): plot_fit(torch.stack([t, t], 1), t, torch.ones(2))  # no column of ones
    ys = plot_fit(t, feats@c, lambda t: torch.stack([t**2, t, torch.ones_like(t)], 1)@c).lines[0].get_ydata()
    np.testing.assert_allclose(ys, to_np(feats@c), rtol=1e-6)
    hist = History(loss=[1.], params=[(c,)])
    with pytest.raises(ValueError, match='raw input'): animate_fit(feats, feats@c, hist)


def test_plot_helpers_accept_tensors_that_require_grad(data):
    x, y, a, hist = data
    w = nn.Parameter(torch.tensor(2.))
    ax = plot_function(lambda t: w*t**2, 'x', 'w*x**2', title='t', min=-1, max=1)
    np.testing.assert_allclose(ax.lines[0].get_ydata()[[0, -1]], [2., 2.])
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ('x', 'w*x**2', 't')
    xg, yg = x.clone().requires_grad_(), y.clone().requires_grad_()
    xs, ys = plot_fit(xg, yg, a).lines[0].get_data()
    np.testing.assert_allclose(ys, xs*a[0].item() + a[1].item(), rtol=1e-5, atol=1e-5)
    ax = loss_surface(xg, yg, {'full': hist, 'again': hist})
    np.testing.assert_allclose(ax.lines[1].get_xydata(), np.stack([to_np(ps[0]) for ps in snapshots(hist)]))
    assert ax.get_legend_handles_labels()[1] == ['least squares', 'full', 'again']
    anim = animate_fit(xg, yg, hist, every=10, panel='surface')
    assert len(list(anim.render())) == len(anim)


# ---------------------------------------------------------------------------------------------------------------
# The loss surface

def test_loss_surface_axes_equal_and_named(data):
    x, y, a, hist = data
    ax = loss_surface(x, y, hist)
    assert ax.get_aspect() == 1.0 and (ax.get_xlabel(), ax.get_ylabel()) == ('slope a[0]', 'intercept a[1]')
    anim = animate_fit(x, y, hist, every=10, panel='surface')
    sax = anim.fig.axes[1]
    assert sax.get_aspect() == 1.0 and (sax.get_xlabel(), sax.get_ylabel()) == ('slope a[0]', 'intercept a[1]')


def test_surface_grid_is_not_transposed():
    "The drawn bowl's lowest contour surrounds the least-squares star, also when slope and intercept differ a lot"
    x, y = linear_data(200, a=(5., -2.), noise='normal', scale=0.3, seed=7)
    ax = loss_surface(x, y, title=None)
    cs = next(c for c in ax.collections if hasattr(c, 'levels'))
    inner = cs.get_paths()[0].vertices
    best = to_np(least_squares(x, y))
    np.testing.assert_allclose(ax.lines[0].get_xydata()[0], best, rtol=1e-6)
    np.testing.assert_allclose(inner.mean(0), best, atol=0.1)
    assert inner[:, 0].min() < best[0] < inner[:, 0].max() and inner[:, 1].min() < best[1] < inner[:, 1].max()


def test_loss_surface_checks_data_before_lapack(data):
    x, y, a, hist = data
    y2 = y.clone(); y2[5] = float('nan')
    with pytest.raises(ValueError, match=r'y holds nan at index \(5,\)'): loss_surface(x, y2)
    x2 = x.clone(); x2[2, 0] = float('inf')
    with pytest.raises(ValueError, match=r'x holds inf at index \(2, 0\)'): loss_surface(x2, y)
    with pytest.raises(ValueError, match='y holds nan'): animate_fit(x, y2, hist, panel='surface')


# ---------------------------------------------------------------------------------------------------------------
# Bad arguments and any History

def test_bad_arguments(data):
    x, y, a, hist = data
    with pytest.raises(ValueError, match="'loss' or 'surface'"): animate_fit(x, y, hist, panel='weights')
    with pytest.raises(ValueError, match='record_params.*animate_loss'): animate_fit(x, y, History(loss=[1.]))
    with pytest.raises(ValueError, match='empty'): animate_fit(x, y, History())
    with pytest.raises(ValueError, match='empty'): animate_loss(History())
    with pytest.raises(ValueError, match=r'must be \(n, 2\)'): loss_surface(x[:, 0], y)
    with pytest.raises(ValueError, match='2 numbers'): loss_surface(x, y, History(loss=[1.], params=[(torch.zeros(3),)]))
    with pytest.raises(ValueError, match='surface'): animate_fit(x[:, 0], y, hist, model=lambda x: x*a[0], params=[a], panel='surface')


def test_animate_loss_takes_any_history():
    h = History(loss=[float(100 - i) for i in range(100)])
    anim = animate_loss(h, every=25)
    assert anim.steps == [0, 25, 50, 75, 99]
    trail, dot, label = anim.artists
    anim.draw_frame(2)
    assert label.get_text() == 'step   50  loss 50.0000'
    np.testing.assert_allclose(dot.get_xydata(), [[50, 50.]])
    assert len(trail.get_xdata()) == 51
    assert len(list(anim.render())) == 5


# ---------------------------------------------------------------------------------------------------------------
# Display in a notebook

def test_display_bundle_is_player_plus_still(data):
    x, y, a, hist = data
    rc0 = dict(matplotlib.rcParams)
    anim = animate_fit(x, y, hist, every=5)
    bundle = anim._repr_mimebundle_()
    html = bundle['text/html']
    assert html.count('data:image/png;base64,') == len(anim)
    first = html.split('<img src="', 1)[1].split('"', 1)[0]
    assert first.startswith('data:image/png;base64,')  # the first frame shows before any script runs
    assert '<script' in html and 'http' not in html and 'font-awesome' not in html
    import base64, io
    assert bundle['image/png'] == base64.b64encode(_png(np.asarray(anim.still()))).decode()  # the final frame
    with Image.open(io.BytesIO(base64.b64decode(bundle['image/png']))) as im: assert im.size == (500, 350)
    assert dict(matplotlib.rcParams) == rc0
    assert repr(anim).startswith(f'FitAnimation({len(anim)} frames: step 0 ')


def test_embed_limit_is_respected(data):
    x, y, a, hist = data
    anim = animate_fit(x, y, hist, every=1)
    with matplotlib.rc_context({'animation.embed_limit': 0.01}):
        with pytest.raises(ValueError, match=r'embed_limit \(0.01 MB\).*every='): anim.to_jshtml()
    assert len(anim.to_jshtml()) > 10_000


# ---------------------------------------------------------------------------------------------------------------
# Saving

def test_saved_files_read_back(data, tmp_path):
    x, y, a, hist = data
    anim = animate_fit(x, y, hist, every=3, panel='loss')
    n = len(anim)
    gif = save_anim(anim, tmp_path/'fit.gif')
    with Image.open(gif) as im:
        assert im.format == 'GIF' and im.n_frames == n and im.size == (1000, 350)
    mp4 = anim.save(str(tmp_path/'fit.mp4'))
    assert mp4 == tmp_path/'fit.mp4' and mp4.read_bytes()[4:8] == b'ftyp'
    page = save_anim(anim, tmp_path/'fit.HTML')
    text = page.read_text()
    assert text.startswith('<!DOCTYPE html>') and text.count('data:image/png;base64,') == n
    assert 'http' not in text  # self-contained
    assert sorted(p.name for p in tmp_path.iterdir()) == ['fit.HTML', 'fit.gif', 'fit.mp4']  # no temporary files left


def test_save_rejects_bad_paths(data, tmp_path):
    x, y, a, hist = data
    anim = animate_fit(x, y, hist, every=10)
    with pytest.raises(ValueError, match=r'\.gif, \.mp4, \.html'): save_anim(anim, tmp_path/'fit.avi')
    with pytest.raises(ValueError, match=r'\.gif, \.mp4, \.html'): save_anim(anim, tmp_path/'fit')
    with pytest.raises(FileNotFoundError, match='does not exist'): save_anim(anim, tmp_path/'nope'/'fit.gif')
    (tmp_path/'d.gif').mkdir()
    with pytest.raises(IsADirectoryError, match='is a folder'): save_anim(anim, tmp_path/'d.gif')
    for ext in ('gif', 'mp4'):
        with pytest.raises(PermissionError, match="'/sys'"): save_anim(anim, f'/sys/x.{ext}')
    assert [p.name for p in tmp_path.iterdir()] == ['d.gif']
    assert sgdlab.anim.ANIM_FORMATS == ('.gif', '.mp4', '.html')


KILLED_SAVE = """
import sys, torch
from sgdlab import History, linear_data, animate_fit, save_anim
x, y = linear_data(100, seed=0)
h = History(loss=[1.] * 150, params=[(torch.tensor([i / 50, 1.]),) for i in range(150)])
anim = animate_fit(x, y, h, every=1)
print('start', flush=True)
save_anim(anim, sys.argv[1])
print('done', flush=True)
"""

@pytest.mark.parametrize('ext', ['gif', 'mp4'])
def test_killed_save_leaves_the_old_file(tmp_path, ext):
    "A save killed at several moments leaves the previous file intact; one left alone writes a complete new file"
    delays = [0.0, 0.3, 1.0, None]
    targets = [tmp_path/f'{i}'/f'fit.{ext}' for i in range(len(delays))]
    for t in targets: t.parent.mkdir(); t.write_bytes(b'the previous file')
    procs = [subprocess.Popen([sys.executable, '-c', KILLED_SAVE, str(t)], stdout=subprocess.PIPE, text=True) for t in targets]
    for p, t, d in zip(procs, targets, delays):
        if d is None: continue
        assert p.stdout.readline().strip() == 'start'
        deadline = time.monotonic() + 60
        while not list(t.parent.glob('.fit.*')) and time.monotonic() < deadline and p.poll() is None: time.sleep(0.01)
        time.sleep(d)
        p.send_signal(signal.SIGKILL)
    for p, t, d in zip(procs, targets, delays):
        out, _ = p.communicate(timeout=120)
        data = t.read_bytes()
        if d is None:
            assert p.returncode == 0 and out.strip().endswith('done')
            assert complete(data, ext)
        else:
            assert data == b'the previous file' or complete(data, ext), (d, len(data))
    assert targets[0].read_bytes() == b'the previous file'  # killed as soon as the temporary file appeared: mid-write


def complete(data: bytes, ext: str) -> bool:
    "Is `data` a whole GIF of 150 frames, or an MP4 with its index ('moov' box)?"
    if ext == 'mp4': return data[4:8] == b'ftyp' and b'moov' in data
    import io
    with Image.open(io.BytesIO(data)) as im: return im.n_frames == 150


def test_save_any_matplotlib_animation(data, tmp_path):
    "A lesson-style FuncAnimation goes through matplotlib's writers, with ffmpeg from imageio-ffmpeg, and rcParams unchanged"
    x, y, a, hist = data
    fig = plt.figure(figsize=(3, 2))
    line, = plt.plot(to_np(x[:, 0]), to_np(x@hist.params[0][0]))
    plt.close(fig)
    anim = FuncAnimation(fig, lambda i: line.set_ydata(to_np(x@hist.params[i][0])), range(4), interval=50)
    rc0 = dict(matplotlib.rcParams)
    with Image.open(save_anim(anim, tmp_path/'lesson.gif')) as im: assert im.n_frames == 4
    assert save_anim(anim, tmp_path/'lesson.mp4').read_bytes()[4:8] == b'ftyp'
    assert dict(matplotlib.rcParams) == rc0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['lesson.gif', 'lesson.mp4']


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_gpu_tensors(data):
    x, y, a, hist = data
    xc, yc, ac = x.cuda(), y.cuda(), nn.Parameter(a.detach().cuda())
    ax = plot_fit(xc, yc, ac)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.sort(to_np(x@a)), rtol=1e-5)
    hc = History(loss=hist.loss, params=[tuple(p.cuda() for p in ps) for ps in hist.params])
    assert len(list(animate_fit(xc, yc, hc, every=10, panel='surface').render())) == 4
    assert len(animate_fit(xc, yc, hc, model=lambda x: x@ac, params=[ac], every=10)) == 4


# ---------------------------------------------------------------------------------------------------------------
# Issue 24 §5: plots and animations in two modules, the player a package data file; issue 23: the player's pace

def test_animation_names_moved_to_anim_and_still_import_from_viz():
    "viz holds the static plots; anim the animations, whose names a lesson may still import from sgdlab.viz"
    assert set(viz.__all__) == {'to_np', 'plot_function', 'plot_fit', 'loss_surface'}
    moved = {'FitAnimation', 'animate_fit', 'animate_loss', 'save_anim', 'ANIM_FORMATS', 'check_anim_path'}
    assert set(anim.__all__) == moved
    from sgdlab.viz import animate_fit as moved, save_anim as moved_save
    assert moved is anim.animate_fit and moved_save is anim.save_anim
    with pytest.raises(AttributeError, match='no_such_name'): viz.no_such_name
    code = "import sys, sgdlab.viz; assert 'sgdlab.anim' not in sys.modules"  # viz never imports anim at load time
    subprocess.run([sys.executable, '-c', code], check=True)


def test_player_is_package_data_not_a_string_in_the_module(data):
    "The player's HTML, CSS and JavaScript are files beside anim.py, read with importlib.resources, and all inlined"
    from importlib.resources import files
    x, y, a, hist = data
    parts = {ext: files('sgdlab').joinpath(f'player.{ext}').read_text() for ext in ('html', 'css', 'js')}
    src = Path(anim.__file__).read_text()
    assert '<button' not in src and 'querySelector' not in src and 'border-radius' not in src
    html = animate_fit(x, y, hist, every=10).to_jshtml()
    assert parts['css'] in html and parts['js'] in html and '$' not in html.replace(parts['js'], '')
    assert all(len(line) <= 120 for p in parts.values() for line in p.splitlines())


def test_pace_defaults_play_once_slowly_and_hold_the_last_frame(data, tmp_path):
    "A frame every 150 ms, played once by default; looping holds the last frame, in the player and in a GIF"
    x, y, a, hist = data
    fit_anim, loss_anim = animate_fit(x, y, hist, every=10), animate_loss(hist, every=10)
    assert fit_anim.interval == loss_anim.interval == 150
    once, looped = fit_anim.to_jshtml(), fit_anim.to_jshtml(default_mode='loop')
    assert '<input type="checkbox"> loop' in once.replace('\n ', ' ') and ' checked>' not in once
    assert ' checked>' in looped
    assert f', 150, {anim._HOLD_MS});' in once and anim._HOLD_MS >= 1000
    assert ' checked>' not in fit_anim._repr_mimebundle_()['text/html']
    with pytest.raises(ValueError, match="default_mode='reflect' must be 'once' or 'loop'"):
        fit_anim.to_jshtml(default_mode='reflect')
    with Image.open(save_anim(fit_anim, tmp_path/'fit.gif')) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info['duration'])
    assert durations == [150] * (len(fit_anim) - 1) + [anim._HOLD_MS]
