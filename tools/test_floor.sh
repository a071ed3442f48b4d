#!/usr/bin/env bash
# `make test-floor`: for each Python version given (default: the oldest and newest supported), a fresh venv with the
# OLDEST release of every declared dependency that has a wheel for it (tools/floor.py), then the unit tests and one
# lesson in a real Jupyter kernel. Prints the versions it tested and how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg
LESSON=${LESSON:-nbs/10_sgd_from_scratch.ipynb}
# PHASE=install only builds the venvs, PHASE=test only tests them (CI overlaps the install with its other steps).
PHASE=${PHASE:-all}

find_python() {  # python3.X on PATH, else pyenv's copy
  local v=$1 p
  for p in "python$v" "$HOME"/.pyenv/versions/"$v"*/bin/"python$v"; do
    if "$p" -c 'import sys' 2>/dev/null; then echo "$p"; return; fi
  done
  echo "test-floor: no python$v found (install it, or run: make test-floor FLOOR_PYTHONS='3.11')" >&2; exit 1
}

for v in "${@:-3.10 3.13}"; do
  t0=$SECONDS; venv=.venv-floor-$v; py=$(find_python "$v")
  echo "== test-floor: Python $v ($py), phase $PHASE"
  if [ "$PHASE" != test ]; then
    rm -rf "$venv"; "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    mkdir -p "$venv/wheels"
    python3 tools/floor.py "$venv/bin/python" --wheels "$venv/wheels" > "$venv/floor-pins.txt"
    "$venv/bin/python" -m pip install -q --find-links "$venv/wheels" -r "$venv/floor-pins.txt"
    src=$(mktemp -d); git ls-files -z | xargs -0 cp --parents -t "$src"  # a private copy: no shared build/ folder
    "$venv/bin/python" -m pip install -q --find-links "$venv/wheels" -c "$venv/floor-pins.txt" "$src[test]"
    rm -rf "$src"
    echo "-- installed in $((SECONDS - t0)) s: $(tr '\n' ' ' < "$venv/floor-pins.txt")"
  fi
  [ "$PHASE" = install ] && continue
  [ -f "$venv/floor-pins.txt" ] || { echo "test-floor: $venv is not installed; run with PHASE=install first"; exit 1; }
  t1=$SECONDS
  "$venv/bin/python" -c "import sys, IPython, sgdlab; print('-- python', sys.version.split()[0], '| IPython', IPython.__version__)"
  "$venv/bin/python" -m pytest -q -n 2 -p no:cacheprovider --ignore=tests/test_notebooks.py tests
  out=$(mktemp -d)
  (cd nbs && "../$venv/bin/jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
     --output-dir "$out" "../$LESSON" 2>&1 | grep -vE '^\[(NbConvertApp\] Writing|IPKernelApp\] WARNING)' || true)
  [ -f "$out/$(basename "$LESSON")" ] || { echo "test-floor: $LESSON failed in a Jupyter kernel on Python $v"; exit 1; }
  echo "-- Python $v: unit tests and $(basename "$LESSON") passed in $((SECONDS - t1)) s"
done
