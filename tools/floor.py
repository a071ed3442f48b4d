"""Print `name==version` pins for the oldest release of each declared dependency that has a wheel for PYTHON.

    python3 tools/floor.py .venv-floor-3.10/bin/python [--wheels DIR]

Reads `[project] dependencies` from pyproject.toml (each must be `name>=floor`). For every dependency it lists
the releases at or above the floor (`pip index versions`) and downloads, oldest first, until one has a wheel for
PYTHON's tags (`pip download --only-binary :all:`, run by PYTHON itself). The wheels stay in DIR, so that
`pip install --find-links DIR` does not fetch them again. `make test-floor` uses it."""
import argparse, re, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _toml(path: Path) -> dict:
    try: import tomllib
    except ModuleNotFoundError: import tomli as tomllib  # Python 3.10
    return tomllib.loads(path.read_text())

def floors(pyproject: Path = ROOT/'pyproject.toml') -> dict[str, str]:
    "name -> declared minimum, from `[project] dependencies`"
    out = {}
    for dep in _toml(pyproject)['project']['dependencies']:
        m = re.fullmatch(r'\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)\s*', dep)
        if not m: sys.exit(f"floor.py: can't read the floor of {dep!r}; write each dependency as 'name>=version'")
        out[m[1]] = m[2]
    return out

def _key(v: str) -> tuple: return tuple(int(p) for p in v.split('.'))

def releases(python: str, name: str, floor: str) -> list[str]:
    "Final releases of `name` at or above `floor`, oldest first"
    r = subprocess.run([python, '-m', 'pip', 'index', 'versions', name], capture_output=True, text=True)
    m = re.search(r'Available versions: (.*)', r.stdout)
    if not m: sys.exit(f"floor.py: pip index versions {name} failed:\n{r.stdout}{r.stderr}")
    vs = [v.strip() for v in m[1].split(',') if re.fullmatch(r'\d+(\.\d+)*', v.strip())]
    return sorted((v for v in vs if _key(v) >= _key(floor)), key=_key)

def oldest_wheel(python: str, name: str, floor: str, wheels: Path) -> str:
    "The oldest release at or above `floor` that PYTHON can install from a wheel"
    for v in releases(python, name, floor):
        r = subprocess.run([python, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary', ':all:', '-d', str(wheels),
                            f'{name}=={v}'], capture_output=True, text=True)
        if r.returncode == 0: return v
    sys.exit(f"floor.py: no release of {name} >= {floor} has a wheel for {python}")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('python', help='the interpreter of the fresh venv to pin for')
    ap.add_argument('--wheels', type=Path, default=None, help='keep the downloaded wheels here')
    args = ap.parse_args()
    wheels = args.wheels or Path(tempfile.mkdtemp())
    for name, floor in floors().items(): print(f"{name}=={oldest_wheel(args.python, name, floor, wheels)}", flush=True)
