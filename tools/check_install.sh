#!/usr/bin/env bash
# `make check-install`: sgdlab as a user gets it. `pip install .` (not editable) into a fresh venv, then, from a
# folder outside the repository, import it, load the MNIST sample and run the demo command.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg
TORCH=${TORCH:-torch==2.13.0}
venv=$PWD/.venv-pkg
t0=$SECONDS
rm -rf "$venv" build; python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q "$TORCH"
"$venv/bin/python" -m pip install -q ".[lessons]"
rm -rf build
away=$(mktemp -d); cd "$away"
"$venv/bin/python" - <<'EOF'
import sgdlab, pathlib
where = pathlib.Path(sgdlab.__file__).parent
assert 'site-packages' in where.parts, f"sgdlab was imported from {where}, not from the installed package"
tx, ty, vx, vy = sgdlab.mnist_sample()
assert tx.shape[1:] == (28, 28) and len(tx) == len(ty) and len(vx) == len(vy) > 0, (tx.shape, vx.shape)
print(f"check-install: sgdlab {sgdlab.__version__} from {where}; mnist_sample: {len(tx)} train, {len(vx)} valid images")
EOF
"$venv/bin/sgdlab" demo --steps 20 --out x.gif > demo.log
python3 -c "import sys; b = open('x.gif', 'rb').read(6); sys.exit(b not in (b'GIF89a', b'GIF87a'))"
echo "check-install: 'sgdlab demo --out x.gif' wrote a GIF from $away; $((SECONDS - t0)) s in all"
rm -rf "$away" "$venv"
