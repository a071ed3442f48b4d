"""Animation benchmarks: animate_fit against lesson-style FuncAnimation code, and save_anim

python benchmarks/anim.py [--quick]"""
from __future__ import annotations
import harness
from harness import compare
import gc, io, time
import torch
from torch import nn
from sgdlab import fit, linear_data

# ---------------------------------------------------------------------------------------------------------------
# 5. animate_fit against lesson-style FuncAnimation code

def fig5(cfg):
    try: from sgdlab.anim import animate_fit, save_anim
    except ImportError:  # before issue 24 split sgdlab.viz, the animations lived there (for old-vs-new runs)
        try: from sgdlab.viz import animate_fit, save_anim
        except ImportError: return [('5', 'animate_fit: sgdlab.anim is not there yet', None, None)]
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation
    frames = 100
    x, y = linear_data(100, seed=42)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=frames, progress=False)
    path = hist.path(0).numpy()
    xs = x[:, 0].numpy()

    def lesson_style():
        "The lesson's way: a default-size figure, a scatter and a line, 100 frames setting the line from given params"
        fig = plt.figure()
        plt.scatter(xs, y.numpy())
        line, = plt.plot(xs, xs*path[0, 0] + path[0, 1], c='r')
        def animate(i): line.set_ydata(xs*path[i, 0] + path[i, 1]); return line,
        anim = FuncAnimation(fig, animate, frames=frames, interval=20)
        html = anim.to_jshtml()
        plt.close(fig)
        return html

    def ours_html():
        return animate_fit(x, y, hist, every=1).to_jshtml()  # a bare Figure, never in pyplot: nothing to close

    sizes = {}
    def timed(f, key):
        def run():
            gc.collect()
            t = harness.now()
            sizes[key] = len(f())
            return harness.now() - t
        return run
    fig = plt.figure(); plt.plot([0, 1]); fig.savefig(io.BytesIO(), format='png'); plt.close(fig)  # load fonts once
    r = compare(timed(ours_html, 'ours'), timed(lesson_style, 'theirs'), cfg.anim_reps, warm=False)
    rows = [('5', f'animate_fit, {frames} frames to HTML ÷ lesson-style FuncAnimation: time', 0.5, r),
            ('5', '  the same: bytes of HTML', 0.5,
             dict(ours=sizes['ours'], theirs=sizes['theirs'], ratio=sizes['ours']/sizes['theirs'], spread=None,
                  unit='bytes'))]
    harness.OUT.mkdir(exist_ok=True)
    for ext in ('gif', 'mp4'):
        anim = animate_fit(x, y, hist, every=1)
        w, c = time.perf_counter(), harness.cpu_time()
        save_anim(anim, harness.OUT/f'fit.{ext}')
        w, c = time.perf_counter() - w, harness.cpu_time() - c
        kb = (harness.OUT/f'fit.{ext}').stat().st_size / 1e3
        what = f'  save_anim({frames} frames) to .{ext}: {w:.2f} s wall, {c:.2f} s CPU with ffmpeg; {kb:.0f} kB'
        rows.append(('5', what, None, None))
    return rows

FIGURES = {'5': fig5}

if __name__ == '__main__': harness.main(FIGURES, description=__doc__.split(chr(10))[0])
