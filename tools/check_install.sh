#!/usr/bin/env bash
# `make check-install`: sgdlab as a user gets it. `pip install .` (not editable) into a fresh venv, then, from a
# folder outside the repository, import it, load the MNIST sample, render an animation's HTML player (its HTML, CSS
# and JavaScript are package data) and run the demo command.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg
# By default the dependencies come from the project's .venv (`make install` resolved the same pyproject.toml there), and
# only sgdlab itself is installed, from a wheel built by `pip install .`: what can go wrong in packaging (a module or a
# data file left out of the wheel, the console script) is all checked, in about 30 s instead of minutes of unpacking
# torch again. FRESH=1 installs everything into the fresh venv, as a user's `pip install .` does.
TORCH=${TORCH:-torch==2.13.0}
venv=$PWD/.venv-pkg
t0=$SECONDS
# Build from a copy of the tracked files: a stale build/ folder, or a build running beside this one (CI installs the
# dependency floor at the same time), cannot leak into the wheel.
src=$(mktemp -d); git ls-files -z | xargs -0 cp --parents -t "$src"
rm -rf "$venv"; python3 -m venv "$venv"
if [ "${FRESH:-0}" = 1 ] || [ ! -x .venv/bin/python ]; then
  "$venv/bin/python" -m pip install -q "$TORCH"
  "$venv/bin/python" -m pip install -q "$src[lessons]"
else
  deps=$(.venv/bin/python -c "import site; print(site.getsitepackages()[0])")
  own=$("$venv/bin/python" -c "import site; print(site.getsitepackages()[0])")
  echo "import site; site.addsitedir('$deps')" > "$own/zz_sgdlab_deps.pth"
  "$venv/bin/python" -m pip install -q --no-deps "$src"
fi
rm -rf "$src"
away=$(mktemp -d); cd "$away"
"$venv/bin/python" - <<'EOF'
import sgdlab, pathlib
import sys
where = pathlib.Path(sgdlab.__file__).parent
assert where.parent == pathlib.Path(sys.prefix, 'lib', f'python{sys.version_info[0]}.{sys.version_info[1]}',
                                    'site-packages'), f"sgdlab was imported from {where}, not from this venv's package"
tx, ty, vx, vy = sgdlab.mnist_sample()
assert tx.shape[1:] == (28, 28) and len(tx) == len(ty) and len(vx) == len(vy) > 0, (tx.shape, vx.shape)
print(f"check-install: sgdlab {sgdlab.__version__} from {where}; mnist_sample: {len(tx)} train, {len(vx)} valid images")
# The animation player's HTML, CSS and JavaScript are package data: the wheel must carry them, and a player renders
import torch
from importlib.resources import files
parts = {ext: files('sgdlab').joinpath(f'player.{ext}') for ext in ('html', 'css', 'js')}
assert all(p.is_file() and 'site-packages' in str(p) for p in parts.values()), parts
x, y = sgdlab.linear_data(20, seed=0)
h = sgdlab.History(loss=[2., 1.], params=[(torch.tensor([0., 1.]),), (torch.tensor([1., 1.]),)])
html = sgdlab.animate_fit(x, y, h, every=1).to_jshtml()
css, js = parts['css'].read_text(), parts['js'].read_text()
assert html.startswith('<div class="sgdlab-anim"') and css in html and js in html and '$' not in html.replace(js, '')
print(f"check-install: animate_fit rendered a {len(html) // 1000} kB player from the installed player.html/.css/.js")
# so is the explorer's widget
ex = sgdlab.explore(lambda lr: sgdlab.fit(lambda x: x@a, x, y, params=[a := torch.zeros(2, requires_grad=True)], lr=lr,
                                          steps=5), {'lr': [0.1, 0.3]})
assert files('sgdlab').joinpath('explore.html').is_file() and '<script' in ex._repr_html_()
print(f"check-install: explore rendered a {len(ex._repr_html_()) // 1000} kB widget from the installed explore.html")
EOF
"$venv/bin/sgdlab" demo --steps 20 --out x.gif > demo.log
python3 -c "import sys; b = open('x.gif', 'rb').read(6); sys.exit(b not in (b'GIF89a', b'GIF87a'))"
echo "check-install: 'sgdlab demo --out x.gif' wrote a GIF from $away; $((SECONDS - t0)) s in all"
rm -rf "$away" "$venv"
