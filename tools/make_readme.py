"""Write README.md from nbs/index.ipynb without Quarto (which cannot be installed offline).

Usage: python tools/make_readme.py [--check]
`--check` writes nothing and exits 1 if README.md is stale.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"

def _src(cell): return ''.join(cell['source'])

def _directives(src):
    return {l[3:].strip().split(':')[0].split()[0] for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()}

# A markdown cell that starts with this comment is for README.md only: the site's home page leaves it out.
_re_readme_only = re.compile(r'^<!--\s*readme-only\b.*?-->\n?')

def _code(src): return '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()

def _output(o):
    "Markdown for one cell output: text as a fenced block, markdown as is, images dropped."
    if o['output_type'] == 'stream': return '```\n' + ''.join(o['text']).rstrip() + '\n```'
    data = o.get('data', {})
    if 'text/markdown' in data: return ''.join(data['text/markdown']).strip()
    if 'text/plain' in data and 'image/png' not in data: return '```\n' + ''.join(data['text/plain']).rstrip() + '\n```'
    return ''

_re_link = re.compile(r'(!?)\[([^\]]*)\]\(([^)\s]+)\)')

def _links(md, nb_dir):
    """Relative links in a notebook point from its folder; in README.md they point from the repo root.
    A link to a file that does not exist (yet) becomes plain text."""
    def sub(m):
        bang, text, url = m.groups()
        if re.match(r'^[a-z]+:|^#|^/', url): return m[0]
        path, _, frag = url.partition('#')
        target = (nb_dir/path).resolve()
        if not target.exists(): return text if not bang else m[0]
        return f"{bang}[{text}]({target.relative_to(ROOT).as_posix()}{'#'+frag if frag else ''})"
    return _re_link.sub(sub, md)

def nb2md(nb_path) -> str:
    """The README text for `nb_path`: hidden cells, directives and output images left out; links made relative to
    the repo root."""
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for c in nb['cells']:
        src = _src(c)
        if {'hide', 'exporti', 'export', 'exports'} & _directives(src): continue
        if c['cell_type'] == 'markdown':
            parts.append(_links(_re_readme_only.sub('', src).strip(), Path(nb_path).resolve().parent))
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
