"""Build the lesson site into `_docs/` from the notebooks' committed outputs: offline, no cell re-executed.

1. nbdev's own processors prepare each notebook as for an nbdev site: hidden cells dropped, `show_doc` rendered,
   doc links added. Unlike nbdev's defaults, `#| export` cells stay on the page as code.
2. Quarto-only markup is translated for Sphinx (title, `echo: false`, link attributes), links to the published
   site become relative, and the animations' CDN stylesheet is dropped.
3. Sphinx + myst-nb write the HTML with the furo theme; math becomes MathML at build time (docs/_ext/mathml.py).

Usage: python tools/build_docs.py [--force]   (`make docs`), then open _docs/index.html
or serve it: python -m http.server -d _docs
"""
import hashlib, json, os, re, shutil, sys, time, warnings
try: import tomllib
except ModuleNotFoundError: import tomli as tomllib                # Python 3.10
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, CONF, OUT = ROOT/'nbs', ROOT/'docs', ROOT/'_docs'
PROC = ROOT/'_proc'                                  # nbdev-processed notebooks, cached (git-ignored)
WORK = ROOT/'_build'/'site'                          # Sphinx's sources, doctrees and output (git-ignored)
SRC, HTML = WORK/'src', WORK/'html'
_urls = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['urls']
SITE_URL = _urls['Documentation'].rstrip('/') + '/'
BLOB_URL = _urls['Repository'].rstrip('/') + '/blob/main/'
EXTRA_PAGES = {'benchmarks/README.md': 'benchmarks'}  # repo file -> page name, after the notebooks
CAPTIONS = {'lesson': 'Lessons', 'howto': 'How-to guides', 'ref': 'Reference'}   # the sidebar, in this order

# ---------------------------------------------------------------------------------------------------- 1. nbdev
def _procs():
    "nbdev's default processors, with `#| export` cells kept as code and a show_doc runner that survives a bad cell."
    from nbdev.processors import FilterDefaults, rm_export, exec_show_docs
    def rm_hidden(cell):
        "Remove code cells marked hide, exporti or default_exp; keep `#| export` and `#| exports` cells as code"
        if cell.cell_type == 'code' and cell.directives_ and cell.directives_.keys() & {'exporti', 'hide', 'default_exp'}:
            del cell['source']
    class exec_show_docs_tolerant(exec_show_docs):
        "nbdev's show_doc runner; a cell that fails (say, an import cell that also uses data) keeps its saved outputs"
        def __call__(self, cell):
            saved = cell.get('outputs'), cell.get('execution_count')
            try: super().__call__(cell)
            except Exception as e:
                print(f'  note: {Path(self.nb.path_).name}: show_doc runner skipped cell {cell.idx_}: {str(e).splitlines()[-1]}')
                self.k.exc = None
                cell['outputs'], cell['execution_count'] = saved
    swap = {rm_export: rm_hidden, exec_show_docs: exec_show_docs_tolerant}
    return [swap.get(p, p) for p in FilterDefaults().procs()]

def _proc_one(args):
    "Process one notebook with nbdev's processors into `dst` (runs in a worker process)."
    src, dst = map(Path, args)
    from fastcore.nbio import read_nb, write_nb
    from nbdev.process import NBProcessor
    os.environ['IN_TEST'] = '1'                      # as nbdev's own doc build does: notebooks skip slow work
    os.chdir(src.parent)
    nb, main = read_nb(src), sys.modules['__main__']
    try:
        with warnings.catch_warnings():                # nbdev's advice on cell layout; the tolerant runner copes
            warnings.simplefilter('ignore')
            NBProcessor(nb=nb, procs=_procs(), rm_directives='quarto').process()
    finally: sys.modules['__main__'] = main            # IPython's shell replaces it; the pool needs it back
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dst)
    return str(src)

def notebooks():
    "Every notebook under nbs/, skipping folders that start with `_` or `.` and checkpoints."
    return sorted(p for p in NBS.rglob('*.ipynb')
                  if not any(part[0] in '_.' for part in p.relative_to(NBS).parts))

PROC_VERSION = 1                                      # bump when `_procs` changes: reprocesses every notebook

def _key(src):
    import nbdev
    return hashlib.sha256(src.read_bytes() + f'{PROC_VERSION} {nbdev.__version__}'.encode()).hexdigest()

def process(nbs, force=False, workers=2):
    "Run nbdev's processors on the notebooks whose source (or this script) changed since the last build."
    PROC.mkdir(exist_ok=True)
    cache_f = PROC/'.keys.json'
    cache = {} if force or not cache_f.exists() else json.loads(cache_f.read_text())
    keys = {str(s.relative_to(NBS)): _key(s) for s in nbs}
    todo = [(s, PROC/s.relative_to(NBS)) for s in nbs
            if cache.get(str(s.relative_to(NBS))) != keys[str(s.relative_to(NBS))] or not (PROC/s.relative_to(NBS)).exists()]
    if todo:
        with ProcessPoolExecutor(min(workers, len(todo))) as ex: list(ex.map(_proc_one, todo))
    cache_f.write_text(json.dumps(keys))
    return len(todo)

# ----------------------------------------------------------------------------------------- 2. translate for Sphinx
def page_name(nb):
    "nbdev's page name for a notebook: `10_sgd_from_scratch.ipynb` -> `sgd_from_scratch` (as nbdev's doc links expect)."
    from nbdev.doclinks import nbpath2html
    return nbpath2html(nb.relative_to(NBS)).with_suffix('').as_posix()

def kind(nb):
    "Where a notebook goes in the navigation: 'index', 'lesson', 'howto' or 'ref'."
    text = nb.read_text()
    if nb.stem == 'index': return 'index'
    if 'howto' in nb.stem: return 'howto'
    if 'api_reference' in nb.stem: return 'api'
    if re.search(r'#\|\s*default_exp', text): return 'ref'
    return 'lesson'

_re_attrs = re.compile(r'(\]\([^)\s]*\))\{[^}]*\}')              # [text](url){target="_blank" ...}
_re_link = re.compile(r'(!?\[[^\]]*\])\(([^)\s]+)\)')
_re_html_link = re.compile(r'''((?:href|src)=["'])([^"']+)(["'])''')
_re_sd_heading = re.compile(r'^(#{2,4}) ([\w.]+)\s*$', re.M)

def _fm(cell):
    "The YAML frontmatter nbdev put in a raw cell, or None."
    import yaml
    src = ''.join(cell['source'])
    if cell['cell_type'] != 'raw' or not src.startswith('---'): return None
    return yaml.safe_load(src.strip().strip('-')) or {}

class Site:
    "Maps repo files to page names, and rewrites links so that they work inside the built site."
    def __init__(self, nbs):
        self.pages = {nb.resolve(): page_name(nb) for nb in nbs}
        self.pages.update({(ROOT/k).resolve(): v for k, v in EXTRA_PAGES.items()})
        self.anchors = {}                                             # page -> ids that show_doc headings carry

    def url(self, url, here, depth, image=False):
        "A link from a page built from `here` (a file), `depth` folders below the site root. None drops the link."
        up = '../'*depth
        if url.startswith(SITE_URL):                                 # nbdev's doc links to the published site
            path, _, frag = url[len(SITE_URL):].partition('#')
            page = path.removesuffix('.html') or 'index'
            if frag and frag not in self.anchors.get(page, ()): return None   # e.g. a private name with no entry
            return f'{up}{page}.html' + (f'#{frag}' if frag else '')
        if re.match(r'^[a-z]+:|^#|^/', url): return url
        path, _, frag = url.partition('#')
        target = (here.parent/path).resolve()
        if target in self.pages: return f'{up}{self.pages[target]}.html' + (f'#{frag}' if frag else '')
        if image or (target.is_relative_to(NBS) and target.exists()): return url   # files that staging copies
        if target.is_relative_to(ROOT) and target.exists(): return BLOB_URL + target.relative_to(ROOT).as_posix()
        return None                                                  # a notebook that has not landed yet: plain text

    def md(self, text, here, depth):
        "Rewrite the markdown links in `text`."
        text = _re_attrs.sub(r'\1', text)
        def sub(m):
            new = self.url(m[2], here, depth, image=m[1][0] == '!')
            return m[0] if new == m[2] else (m[1][1:-1] if new is None and m[1][0] != '!' else f'{m[1]}({new or m[2]})')
        return _re_link.sub(sub, text)

    def html(self, text, here, depth):
        def sub(m):
            new = self.url(m[2], here, depth)
            return f'{m[1]}{new or "#"}{m[3]}'
        text = re.sub(r'<link[^>]*maxcdn\.bootstrapcdn\.com[^>]*>\s*', '', text)   # matplotlib's jshtml CDN stylesheet
        return _re_html_link.sub(sub, text)

def _show_doc_md(text):
    "A show_doc entry: an anchor with nbdev's id before its heading, and the [source] link floated right."
    text = re.sub(r'^---\s*$', '<hr class="sd-rule">', text, flags=re.M)
    text = re.sub(r'\[source\]\(([^)\s]+)\)(\{[^}]*\})?', r'<a class="sd-source" href="\1">source</a>', text)
    return _re_sd_heading.sub(lambda m: f'<span id="{m[2].lower()}"></span>\n\n{m[1]} {m[2]}', text)

_NB_KEYS = {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments'}
_QUARTO_TAGS = {'echo: false': 'remove-input', 'output: false': 'remove-output', 'include: false': 'remove-cell'}

def translate(nb_json, src, site, depth):
    "Turn one nbdev-processed notebook into what myst-nb expects."
    cells, out = nb_json['cells'], []
    for c in cells:
        if 'source' not in c: continue                               # nbdev's hide processors delete the source
        if (fm := _fm(c)) is not None:
            head = f"# {fm.get('title', src.stem)}"
            if fm.get('description'): head += f"\n\n> {fm['description']}"
            out.append({'cell_type': 'markdown', 'id': 'sgdlab-title', 'metadata': {}, 'source': head}); continue
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            if s.strip() == '<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->': continue
            c['source'] = site.md(s, src, depth)
        elif c['cell_type'] == 'code':
            lines, tags = [], set(c.get('metadata', {}).get('tags', []))
            for l in s.splitlines():
                if l.startswith('#|'):
                    d = re.sub(r'\s+', ' ', l[2:].strip())
                    if d in _QUARTO_TAGS: tags.add(_QUARTO_TAGS[d])
                else: lines.append(l)
            c['source'] = '\n'.join(lines).strip('\n')
            if not c['source'] and not c.get('outputs'): continue
            c.setdefault('metadata', {})['tags'] = sorted(tags)
            c['metadata'].pop('execution', None)
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if 'text/markdown' in data:
                    m = ''.join(data['text/markdown'])
                    data['text/markdown'] = site.md(_show_doc_md(m), src, depth)
                if 'text/html' in data: data['text/html'] = site.html(''.join(data['text/html']), src, depth)
        elif c['cell_type'] == 'raw': continue
        out.append({k: v for k, v in c.items() if k in _NB_KEYS})     # nbdev adds keys such as `has_sd`
    nb_json['cells'] = out
    nb_json['metadata'].pop('widgets', None)
    return nb_json

def _write(path, data):
    "Write only when the content changed, so that Sphinx rebuilds only what changed."
    path.parent.mkdir(parents=True, exist_ok=True)
    data = data if isinstance(data, bytes) else data.encode()
    if not path.exists() or path.read_bytes() != data: path.write_bytes(data)

def _toctree(caption, pages):
    return f'\n```{{toctree}}\n:caption: {caption}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(pages) + '\n```\n'

def stage(nbs):
    "Write Sphinx's source folder: the translated notebooks, the extra pages, conf.py, static files, MathJax."
    site = Site(nbs)
    procd = {nb: json.loads((PROC/nb.relative_to(NBS)).read_text()) for nb in nbs}
    for nb, j in procd.items():                                     # ids of show_doc entries, for doc links
        site.anchors[page_name(nb)] = {m[2].lower() for c in j['cells'] for o in c.get('outputs', [])
                                       for m in _re_sd_heading.finditer(''.join(o.get('data', {}).get('text/markdown', '')))}
    groups = {k: [] for k in CAPTIONS}
    wanted = {'pyproject.toml'}
    for nb, j in procd.items():
        name, k = page_name(nb), kind(nb)
        depth = name.count('/')
        j = translate(j, nb, site, depth)
        if k == 'index': index = j
        elif k == 'api': groups['ref'].insert(0, name)                # the API reference heads the reference pages
        else: groups[k].append(name)
        if k != 'index': _write(SRC/f'{name}.ipynb', json.dumps(j, indent=1))
        wanted.add(name.split('/')[0] + ('' if '/' in name else '.ipynb'))
    for f, name in EXTRA_PAGES.items():
        _write(SRC/f'{name}.md', site.md((ROOT/f).read_text(), (ROOT/f), 0))
        for img in re.findall(r'!\[[^\]]*\]\(([^)\s:]+)\)', (ROOT/f).read_text()):
            _write(SRC/img, ((ROOT/f).parent/img).read_bytes()); wanted.add(img.split('/')[0])
        groups['ref'].append(name); wanted.add(f'{name}.md')
    # the home page carries the navigation: lessons in order, then how-tos, then reference pages
    index['cells'].append({'cell_type': 'markdown', 'id': 'sgdlab-toctree', 'metadata': {},
                           'source': ''.join(_toctree(CAPTIONS[k], v) for k, v in groups.items() if v)})
    _write(SRC/'index.ipynb', json.dumps(index, indent=1)); wanted.add('index.ipynb')
    for d in {p.parent for p in NBS.rglob('*') if p.is_file() and not p.suffix == '.ipynb'
              and not any(x[0] in '_.' for x in p.relative_to(NBS).parts)}:
        for f in d.iterdir():                                        # images and other files beside the notebooks
            if f.is_file() and f.suffix != '.ipynb':
                _write(SRC/f.relative_to(NBS), f.read_bytes()); wanted.add(f.relative_to(NBS).parts[0])
    _write(SRC/'pyproject.toml', (ROOT/'pyproject.toml').read_bytes())
    for f in CONF.rglob('*'):                                        # conf.py, _ext/, _static/
        if f.is_file() and '__pycache__' not in f.parts:
            _write(SRC/f.relative_to(CONF), f.read_bytes()); wanted.add(f.relative_to(CONF).parts[0])
    for p in SRC.iterdir():                                          # pages whose notebook has gone
        if p.name not in wanted: shutil.rmtree(p) if p.is_dir() else p.unlink()
    return groups

# ---------------------------------------------------------------------------------------------------- 3. Sphinx
def sphinx():
    from sphinx.cmd.build import build_main
    # -a: write every page, so that each page's sidebar lists pages added since the last build
    rc = build_main(['-b', 'html', '-a', '-q', '-d', str(WORK/'doctrees'), str(SRC), str(HTML)])
    if rc: sys.exit(f'build_docs: sphinx-build failed ({rc})')

def publish():
    "Copy Sphinx's output into `_docs/`, without Sphinx's build bookkeeping."
    if OUT.exists(): shutil.rmtree(OUT)
    shutil.copytree(HTML, OUT, ignore=shutil.ignore_patterns('.buildinfo', '.doctrees', '_sources', '*.map'))
    (OUT/'.nojekyll').touch()                                      # GitHub Pages: serve _static/ as is

def main(argv):
    t0 = time.time()
    force = '--force' in argv
    if force and WORK.exists(): shutil.rmtree(WORK)
    nbs = notebooks()
    n = process(nbs, force=force)
    t1 = time.time()
    groups = stage(nbs)
    sphinx()
    publish()
    pages = sum(map(len, groups.values())) + 1
    print(f'build_docs: {pages} pages in {OUT.relative_to(ROOT)}/ ({n} notebooks processed by nbdev in {t1-t0:.1f} s, '
          f'total {time.time()-t0:.1f} s); open _docs/index.html or run: python -m http.server -d _docs')

if __name__ == '__main__': main(sys.argv[1:])
