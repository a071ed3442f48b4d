"""Write README.md from nbs/index.ipynb without Quarto (which cannot be installed offline).

Usage: python tools/make_readme.py [--check]
`--check` writes nothing and exits 1 if README.md is stale.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"

def _src(cell): return ''.join(cell['source'])

def _directives(src): return {l[3:].strip().split(':')[0].split()[0] for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()}

def _code(src): return '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()

def _output(o):
    "Markdown for one cell output: text as a fenced block, markdown as is, images dropped."
    if o['output_type'] == 'stream': return '```\n' + ''.join(o['text']).rstrip() + '\n```'
    data = o.get('data', {})
    if 'text/markdown' in data: return ''.join(data['text/markdown']).strip()
    if 'text/plain' in data and 'image/png' not in data: return '```\n' + ''.join(data['text/plain']).rstrip() + '\n```'
    return ''

def nb2md(nb_path) -> str:
    "The README text for `nb_path`: hidden cells, directives and output images left out; image links made relative to the repo root."
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for c in nb['cells']:
        src = _src(c)
        if {'hide', 'exporti', 'export', 'exports'} & _directives(src): continue
        if c['cell_type'] == 'markdown': parts.append(src.strip().replace('](images/', '](nbs/images/'))
        elif c['cell_type'] == 'code' and _code(src):
            parts.append('```python\n' + _code(src) + '\n```')
            parts += [t for t in map(_output, c.get('outputs', [])) if t]
    return HEADER + '\n\n'.join(parts) + '\n'

def main(argv):
    md, out = nb2md(ROOT/'nbs'/'index.ipynb'), ROOT/'README.md'
    if '--check' in argv:
        if not out.exists() or out.read_text() != md:
            sys.exit("README.md is stale: run `python tools/make_readme.py` (or `make readme`) and commit it.")
        return
    out.write_text(md)

if __name__ == '__main__': main(sys.argv[1:])
