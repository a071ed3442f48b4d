"Run every notebook in nbs/ through nbdev's own runner, one pytest test each."
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook  # renamed so pytest does not collect it

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

def test_there_are_notebooks(): assert len(NBS) >= 6, NBS

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook(nb):
    flags = get_config(ROOT).tst_flags.split()
    ok, secs = run_notebook(nb, skip_flags=flags, basepath=ROOT)
    assert ok, f"{nb.name} failed: its traceback is printed above"
