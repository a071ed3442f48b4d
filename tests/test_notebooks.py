"""Run every notebook in nbs/ top to bottom in a real Jupyter kernel, one pytest test each.

This is the one place where CI executes the notebooks: a real kernel (what a learner runs) stands for nbdev's own
runner too, since it executes the same cells and more (a kernel also runs display hooks and magics for real).
Cells that nbdev would skip (`#| eval: false`, or a flag listed in `tst_flags`) are skipped here as well."""
import os, re
from pathlib import Path
import nbformat, pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

def _flags() -> list[str]:
    "nbdev's `tst_flags` from pyproject.toml (cells marked `#| <flag>` are not run by tests)"
    m = re.search(r'^tst_flags\s*=\s*"([^"]*)"', (ROOT/'pyproject.toml').read_text(), re.M)
    return m.group(1).split() if m else []

def _skipped(cell, flags: list[str]) -> bool:
    "Would nbdev's test runner skip this code cell?"
    src = cell.source
    if re.search(r'^#\|\s*eval:\s*false\b', src, re.M): return True
    return any(re.search(rf'^#\|\s*{re.escape(f)}\b', src, re.M) for f in flags)

def test_there_are_notebooks(): assert len(NBS) >= 6, NBS

def test_skip_rule():
    "The skip rule reads nbdev's directives as nbdev does"
    c = lambda s: nbformat.v4.new_code_cell(s)
    assert _skipped(c('#| eval: false\nx = 1'), []) and _skipped(c('#| slow\nx'), ['slow'])
    assert not _skipped(c('#| export\nx = 1'), ['slow']) and not _skipped(c('x = "#| slow"'), ['slow'])

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook(nb):
    book, flags = nbformat.read(nb, as_version=4), _flags()
    book.cells = [c for c in book.cells if c.cell_type != 'code' or not _skipped(c, flags)]
    env = {**os.environ, 'IN_TEST': '1', 'PYDEVD_DISABLE_FILE_VALIDATION': '1'}
    env.pop('MPLBACKEND', None)  # a kernel draws with the inline backend, as in Jupyter
    client = NotebookClient(book, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(nb.parent)}})
    try: client.execute(env=env)
    except CellExecutionError as e: pytest.fail(f"{nb.name} failed in a Jupyter kernel:\n{e}", pytrace=False)
