"""Make a notebook's matplotlib figures sharp on HiDPI screens: add one `#| hide` cell that asks IPython's inline
backend for 'retina' PNGs (drawn at twice the pixels, displayed at the same size through the output's width metadata).

Usage: python tools/hidpi.py nbs/X.ipynb [...]        add the cell where it is missing (idempotent)
       python tools/hidpi.py --check nbs/X.ipynb [...] write nothing; exit 1 naming the notebooks without it

The cell goes right after the notebook's `from nbdev.showdoc import *` hide cell (or after its first code cell), before
any figure is drawn. It holds an IPython magic and no import, so nbdev's doc build never re-runs it and nbdev's
exporter ignores it. After adding it, re-execute the notebook so that its saved figures are redrawn, then nbdev-clean.
Each retina PNG weighs about 2-3 times the old one: tests/test_docs.py keeps every page of the site within 3 MB.
"""
import json, re, sys
from pathlib import Path

HIDPI_SRC = "#| hide\n%config InlineBackend.figure_formats = ['retina']"
_re_hidpi = re.compile(r"^%config\s+InlineBackend\.figure_formats?\s*=.*retina", re.M)

def has_hidpi(nb: dict) -> bool:
    "Does the notebook already ask for retina figures?"
    return any(c['cell_type'] == 'code' and _re_hidpi.search(''.join(c['source'])) for c in nb['cells'])

def _cell_id(nb: dict) -> str:
    "A stable id for the new cell that no other cell of this notebook carries"
    ids, n = {c.get('id') for c in nb['cells']}, 0
    while (cid := f'hidpi{n:03d}') in ids: n += 1
    return cid

def add_hidpi(nb: dict) -> bool:
    "Insert the retina cell into `nb` (in place) unless it is there; True if `nb` changed"
    if has_hidpi(nb): return False
    code = [i for i, c in enumerate(nb['cells']) if c['cell_type'] == 'code']
    showdoc = [i for i in code if 'from nbdev.showdoc import' in ''.join(nb['cells'][i]['source'])]
    at = (showdoc or code or [-1])[0] + 1
    cell = {'cell_type': 'code', 'execution_count': None, 'id': _cell_id(nb), 'metadata': {}, 'outputs': [],
            'source': HIDPI_SRC.splitlines(keepends=True)}
    if nb.get('nbformat', 4) == 4 and nb.get('nbformat_minor', 5) < 5: del cell['id']
    nb['cells'].insert(at, cell)
    return True

def _dump(nb: dict) -> str:
    "JSON as nbdev-clean writes it (indent 1, non-ASCII kept, newline at the end)"
    return json.dumps(nb, indent=1, ensure_ascii=False) + '\n'

def main(argv):
    check = '--check' in argv
    paths = [Path(a) for a in argv if a != '--check']
    if not paths: sys.exit(__doc__)
    missing = []
    for p in paths:
        nb = json.loads(p.read_text())
        if check:
            if not has_hidpi(nb): missing.append(str(p))
        elif add_hidpi(nb):
            p.write_text(_dump(nb)); print(f'{p}: added the retina cell; re-execute it, then run nbdev-clean')
    if missing: sys.exit('no retina cell (run tools/hidpi.py on them): ' + ' '.join(missing))

if __name__ == '__main__': main(sys.argv[1:])
