"""Build the lesson site into `_docs/` from the notebooks' committed outputs: offline, no cell re-executed.

1. nbdev's own processors prepare each notebook as for an nbdev site: hidden cells dropped, `show_doc` rendered,
   doc links added. As on an nbdev site, an `#| export` cell's source is hidden and its show_doc shown (`#| exports`
   shows both), so each name appears once.
2. Quarto-only markup is translated for Sphinx (title, `echo: false`, link attributes), links to the published
   site become relative, and the animations' CDN stylesheet is dropped. Each show_doc entry becomes a Python-domain
   object (`py:function`, `py:class`, `py:method`), so that search finds it and `objects.inv` lists it. Each page
   gets its notebook as a download (served from the site) and Colab/Binder launch links made from ONE repository
   URL, pyproject.toml's `Repository`. The home page is for readers: nbs/index.ipynb without its `readme-only`
   cells, with the lessons listed first.
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
REPO_URL = _urls['Repository'].rstrip('/')          # the one repository URL: source, Colab and Binder links
BRANCH = 'main'
BLOB_URL = f'{REPO_URL}/blob/{BRANCH}/'
NB_DIR = 'nbs'                                       # the site serves each page's notebook at _docs/nbs/<file>.ipynb
EXTRA_PAGES = {'benchmarks/README.md': 'benchmarks'}  # repo file -> page name, after the notebooks
CAPTIONS = {'lesson': 'Lessons', 'howto': 'How-to guides', 'ref': 'Reference'}   # the sidebar, in this order

# ---------------------------------------------------------------------------------------------------- 1. nbdev
def _procs():
    """nbdev's default processors (an `#| export` cell's source hidden, its show_doc shown), with a show_doc runner
    that survives a bad cell."""
    from nbdev.processors import FilterDefaults, exec_show_docs
    class exec_show_docs_tolerant(exec_show_docs):
        "nbdev's show_doc runner; a cell that fails (say, an import cell that also uses data) keeps its saved outputs"
        def __call__(self, cell):
            saved = cell.get('outputs'), cell.get('execution_count')
            try: super().__call__(cell)
            except Exception as e:
                # nbdev runs every cell that holds an import; one that also uses names from a cell it does not run fails
                print(f'  note: {Path(self.nb.path_).name}: show_doc runner skipped cell {cell.idx_} (an import cell '
                      f'that also uses data; its saved output is kept): {str(e).splitlines()[-1]}')
                self.k.exc = None
                cell['outputs'], cell['execution_count'] = saved
    return [exec_show_docs_tolerant if p is exec_show_docs else p for p in FilterDefaults().procs()]

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

PROC_VERSION = 2                                      # bump when `_procs` changes: reprocesses every notebook

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
            if cache.get(str(s.relative_to(NBS))) != keys[str(s.relative_to(NBS))]
            or not (PROC/s.relative_to(NBS)).exists()]
    if todo:
        with ProcessPoolExecutor(min(workers, len(todo))) as ex: list(ex.map(_proc_one, todo))
    cache_f.write_text(json.dumps(keys))
    return len(todo)

# ----------------------------------------------------------------------------------------- 2. translate for Sphinx
def page_name(nb):
    "nbdev's page name for a notebook: `10_sgd_from_scratch.ipynb` -> `sgd_from_scratch` (as nbdev's doc links expect)."
    from nbdev.doclinks import nbpath2html
    return nbpath2html(nb.relative_to(NBS)).with_suffix('').as_posix()

_re_default_exp = re.compile(r'#\|\s*default_exp\s+([\w.]+)')

def default_exp(nb):
    "The module a notebook exports (`learner` for `#| default_exp learner`), or None."
    m = _re_default_exp.search(nb.read_text())
    return m[1] if m else None

def kind(nb):
    "Where a notebook goes in the navigation: 'index', 'lesson', 'howto', 'api' or 'ref'."
    if nb.stem == 'index': return 'index'
    if 'howto' in nb.stem: return 'howto'
    if 'api_reference' in nb.stem: return 'api'
    if default_exp(nb): return 'ref'
    return 'lesson'

_re_attrs = re.compile(r'(\]\([^)\s]*\))\{[^}]*\}')              # [text](url){target="_blank" ...}
_re_link = re.compile(r'(!?\[[^\]]*\])\(([^)\s]+)\)')
_re_html_link = re.compile(r'''((?:href|src)=["'])([^"']+)(["'])''')
_re_sd_heading = re.compile(r'^(#{2,4}) ([\w.]+)\s*$', re.M)
_re_sd_code = re.compile(r'^```python\n(.*?)\n```', re.S | re.M)
_re_sd_source = re.compile(r'\[source\]\(([^)\s]+)\)(\{[^}]*\})?')
README_ONLY = re.compile(r'^<!--\s*readme-only\b')                # index.ipynb cells that only README.md shows

def _fm(cell):
    "The YAML frontmatter nbdev put in a raw cell, or None."
    import yaml
    src = ''.join(cell['source'])
    if cell['cell_type'] != 'raw' or not src.startswith('---'): return None
    return yaml.safe_load(src.strip().strip('-')) or {}

# ------------------------------------------------------------------- show_doc entries as Sphinx Python objects
def _parseable(params):
    "Signature text Sphinx can parse: a repr such as `<factory>` (a dataclass default) is shown as `...`."
    import ast
    fixed = re.sub(r'<[^<>()]*>', '...', params)
    for p in (params, fixed):
        try: ast.parse(f'def f{p}: pass' if p else 'f'); return p
        except SyntaxError: pass
    return fixed

def _docments(code):
    "nbdev's show_doc code block -> (the code without comments, [(parameter, its docment comment)])."
    import io, tokenize
    lines, docs = code.splitlines(), []
    try: toks = list(tokenize.generate_tokens(io.StringIO(code + '\n').readline))
    except (tokenize.TokenError, SyntaxError, IndentationError): return code, []
    comments = [t for t in toks if t.type == tokenize.COMMENT]
    for t in reversed(comments):
        row, col = t.start
        before = lines[row - 1][:col]
        lines[row - 1] = before.rstrip()
        pieces = [p for p in re.split(r',(?![^\[(]*[\])])', before) if p.strip() and p.strip() != '*']
        m = re.match(r'\s*(\*{0,2}\w+)', pieces[-1]) if pieces else None
        if m: docs.insert(0, (m[1], t.string.lstrip('#').strip()))
    return '\n'.join(lines), docs

def parse_show_doc(md):
    "nbdev's show_doc Markdown -> dict(name, sig, source, body), or None when `md` is not a show_doc entry."
    h = _re_sd_heading.search(md)
    c = _re_sd_code.search(md, h.end()) if h else None
    if not (h and c) or md[h.end():c.start()].strip(): return None
    code, docs = _docments(c[1])
    sig = ' '.join(code.split())                                      # one line: Sphinx wraps long ones itself
    sig = re.sub(r'^(async\s+)?(def|class)\s+', '', sig).rstrip(':').strip()
    sig = re.sub(r'\(\s+', '(', re.sub(r',?\s+\)', ')', sig))
    name = h[2]
    sig = name + _parseable(sig[sig.index('('):] if '(' in sig else '')
    src = _re_sd_source.search(md[:h.start()])
    body = md[c.end():].strip()
    if docs: body += '\n\n' + '\n'.join(f'- `{p}`: {d}' for p, d in docs)
    return dict(name=name, sig=sig, source=src[1] if src else None, body=body)

def _resolve(name, module):
    "The sgdlab object `name` (maybe `Class.method`) names: (module name, object), looked up in `module` first."
    import importlib, pkgutil, sgdlab
    mods = ([module] if module else []) + [f'sgdlab.{m.name}' for m in pkgutil.iter_modules(sgdlab.__path__)
                                           if m.name[0] != '_']
    for mod in mods:
        try: obj = importlib.import_module(mod)
        except ImportError: continue
        try:
            for part in name.split('.'): obj = getattr(obj, part)
        except AttributeError: continue
        return mod, obj
    return module, None

def py_directive(entry, module, index):
    "A MyST `py:*` directive for one show_doc entry: a real object of Sphinx's index when `index`, else a plain entry."
    import inspect
    mod, obj = _resolve(entry['name'], module)
    sig = entry['sig']
    if inspect.isclass(obj): role, sig = 'class', re.sub(r'\)\s*->\s*None$', ')', sig)
    elif '.' in entry['name'] and isinstance(obj, property): role, sig = 'property', entry['name']
    elif '.' in entry['name'] and callable(obj): role = 'method'
    elif callable(obj) or obj is None: role = 'function'
    else: role, sig = 'data', entry['name']
    opts = f':module: {mod}\n' if mod else ''
    if not index: opts += ':no-index:\n'
    src = (f'<a class="sd-source reference external" href="{entry["source"]}">[source]</a>\n\n'
           if entry['source'] else '')
    return f'::::{{py:{role}}} {sig}\n{opts}\n{src}{entry["body"]}\n::::\n', (f'{mod}.{entry["name"]}' if mod else None)

class Site:
    "Maps repo files to page names, and rewrites links so that they work inside the built site."
    def __init__(self, nbs):
        self.pages = {nb.resolve(): page_name(nb) for nb in nbs}
        self.pages.update({(ROOT/k).resolve(): v for k, v in EXTRA_PAGES.items()})
        self.anchors = {}                              # page -> {nbdev's anchor (`learner.fit`): Sphinx's object id}

    def url(self, url, here, depth, image=False):
        "A link from a page built from `here` (a file), `depth` folders below the site root. None drops the link."
        up = '../'*depth
        if url.startswith(SITE_URL):                                 # nbdev's doc links to the published site
            path, _, frag = url[len(SITE_URL):].partition('#')
            page = path.removesuffix('.html') or 'index'
            if frag:
                frag = self.anchors.get(page, {}).get(frag.lower())
                if frag is None: return None                         # e.g. a private name with no entry
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

def launch_links(nb, depth):
    "The bar under a page's title: its notebook as a download from this site, and where to run it."
    from urllib.parse import quote
    rel = nb.relative_to(ROOT).as_posix()                            # nbs/10_sgd_from_scratch.ipynb
    gh = REPO_URL.removeprefix('https://github.com/')
    links = [(f'{"../"*depth}{NB_DIR}/{nb.relative_to(NBS).as_posix()}', 'Download the notebook', 'download'),
             (f'https://colab.research.google.com/github/{gh}/blob/{BRANCH}/{rel}', 'Open in Colab', 'colab'),
             (f'https://mybinder.org/v2/gh/{gh}/{BRANCH}?labpath={quote(rel, safe="")}', 'Launch on Binder', 'binder'),
             (f'{BLOB_URL}{rel}', 'Source on GitHub', 'source')]
    a = ' '.join(f'<a class="sgdlab-launch-{k}" href="{u}"' + (f' download="{nb.name}"' if k == 'download' else '')
                 + f'>{t}</a>' for u, t, k in links)
    return f'<div class="sgdlab-launch">\n{a}\n</div>'

_NB_KEYS = {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments'}
_QUARTO_TAGS = {'echo: false': 'remove-input', 'output: false': 'remove-output', 'include: false': 'remove-cell'}

def _png_size_and_software(b64):
    "(width, height, Software text) of a base64 PNG, read from its IHDR and tEXt chunks."
    import base64, struct
    b = base64.b64decode(b64)
    w, h = struct.unpack('>II', b[16:24])
    i, software = 8, ''
    while i + 8 <= len(b):
        n, typ = struct.unpack('>I4s', b[i:i + 8])
        if typ == b'tEXt' and b[i + 8:i + 8 + n].startswith(b'Software\0'):
            software = b[i + 17:i + 8 + n].decode('latin-1')
        if typ in (b'IDAT', b'IEND'): break
        i += 12 + n
    return w, h, software

def image_sizes(cell, hidpi):
    """Give every PNG output its display size, so that the browser reserves its space before it loads (a link to an
    anchor lands where it should). A notebook with tools/hidpi.py's retina cell draws 2x PNGs: IPython records their
    1x size as `image/png` width metadata, which nbdev-clean drops unless `allowed_out_metadata_keys` keeps it; a
    matplotlib PNG of such a notebook without it is shown at half its pixel size."""
    for o in cell.get('outputs', []):
        png = o.get('data', {}).get('image/png')
        if not png or o.get('metadata', {}).get('image/png', {}).get('width'): continue
        w, h, software = _png_size_and_software(''.join(png))
        k = 2 if hidpi and 'matplotlib' in software.lower() else 1
        o.setdefault('metadata', {})['image/png'] = {'width': w // k, 'height': h // k}

def _md_cell(cid, source): return {'cell_type': 'markdown', 'id': cid, 'metadata': {}, 'source': source}

def translate(nb_json, src, site, depth, indexed=frozenset()):
    "Turn one nbdev-processed notebook into what myst-nb expects; `indexed`: the show_doc names this page owns."
    from hidpi import has_hidpi                                     # tools/hidpi.py
    cells, out, module = nb_json['cells'], [], (f'sgdlab.{m}' if (m := default_exp(src)) else None)
    hidpi = has_hidpi(json.loads(src.read_text()))
    for c in cells:
        if 'source' not in c: continue                               # nbdev's hide processors delete the source
        if (fm := _fm(c)) is not None:
            head = f"# {fm.get('title', src.stem)}"
            if fm.get('description'): head += f"\n\n> {fm['description']}"
            if src.stem != 'index': head += '\n\n' + launch_links(src, depth)
            out.append(_md_cell('sgdlab-title', head)); continue
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            if s.strip() == '<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->': continue
            if src.stem == 'index' and README_ONLY.match(s): continue
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
            entries = [parse_show_doc(''.join(o.get('data', {}).get('text/markdown', '')))
                       for o in c.get('outputs', [])]
            if entries and all(entries) and 'remove-input' in tags:    # a show_doc cell: its entries become objects
                for i, e in enumerate(entries):
                    e['body'] = site.md(e['body'], src, depth)
                    text, _ = py_directive(e, module, e['name'] in indexed)
                    out.append(_md_cell(f"{c.get('id', 'sd')}-{i}", text))
                continue
            c.setdefault('metadata', {})['tags'] = sorted(tags)
            c['metadata'].pop('execution', None)
            image_sizes(c, hidpi)
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if 'text/markdown' in data: data['text/markdown'] = site.md(''.join(data['text/markdown']), src, depth)
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

def _title(j, nb):
    "A processed notebook's (title, description), from the frontmatter nbdev made of its `# Title` and `> summary`."
    fm = next((f for c in j['cells'] if (f := _fm(c)) is not None), {})
    return fm.get('title', nb.stem), fm.get('description', '')

def home_lists(groups, titles):
    "The home page's reader-facing contents: the lessons first, then the how-to guides, then the reference."
    def items(names, numbered=False):
        return '\n'.join(f'{f"{i}." if numbered else "-"} [{titles[n][0]}]({n}.html)'
                         + (f': {titles[n][1]}' if titles[n][1] else '') for i, n in enumerate(names, 1))
    md = ['## Lessons\n\nRead them in order; each page offers its notebook to download or to run in Colab or '
          'Binder.\n\n'
          + items(groups['lesson'], numbered=True)]
    if groups['howto']:
        md.append('## How-to guides\n\nShort recipes, each a runnable notebook.\n\n' + items(groups['howto']))
    if groups['ref']: md.append('## Reference\n\nThe library the lessons build, one page per module, each name shown '
                                'working and checked.\n\n' + items(groups['ref']))
    return '\n\n'.join(md)

def other_names(mod, names):
    "Entries for public names that have no show_doc on their module's page (constants, say): their value."
    import importlib
    m, md = importlib.import_module(f'sgdlab.{mod}'), ['## Other public names\n']
    for n in names:
        v = repr(getattr(m, n, None))
        value = f':value: {v}\n' if len(v) < 200 and '\n' not in v else ''
        md.append(f'::::{{py:data}} {n}\n:module: sgdlab.{mod}\n{value}::::\n')
    return '\n'.join(md)

def stage(nbs):
    "Write Sphinx's source folder: the translated notebooks, the extra pages, conf.py, static files, the notebooks."
    site = Site(nbs)
    procd = {nb: json.loads((PROC/nb.relative_to(NBS)).read_text()) for nb in nbs}
    owned, seen, extra = {}, set(), {}                              # page -> show_doc names it indexes
    for nb, j in procd.items():                                     # show_doc entries, for doc links and the index
        names = [e['name'] for c in j['cells'] for o in c.get('outputs', [])
                 if (e := parse_show_doc(''.join(o.get('data', {}).get('text/markdown', ''))))]
        name, mod = page_name(nb), default_exp(nb)
        # module pages own their entries (the first page to show a name, if two do); lessons show plain copies
        owned[name] = {n for n in names if f'{mod}.{n}' not in seen} if mod else set()
        seen |= {f'{mod}.{n}' for n in owned[name]}
        site.anchors[name] = {n.lower(): f'sgdlab.{mod}.{n}' for n in owned[name]}
    for nb in procd:                                                # public names with no show_doc (constants)
        if not (mod := default_exp(nb)): continue
        import importlib
        try: m = importlib.import_module(f'sgdlab.{mod}')
        except ImportError: continue
        rest = [n for n in getattr(m, '__all__', []) if f'{mod}.{n}' not in seen and '.' not in n]
        if rest:
            extra[nb], name = rest, page_name(nb)
            seen |= {f'{mod}.{n}' for n in rest}
            site.anchors[name].update({n.lower(): f'sgdlab.{mod}.{n}' for n in rest})
    groups, titles = {k: [] for k in CAPTIONS}, {}
    wanted = {'pyproject.toml', '_extra', '_site.json'}
    for nb, j in procd.items():
        name, k = page_name(nb), kind(nb)
        titles[name] = _title(j, nb)
        j = translate(j, nb, site, name.count('/'), owned[name])
        if nb in extra: j['cells'].append(_md_cell('sgdlab-more-names', other_names(default_exp(nb), extra[nb])))
        if k == 'index': index = j
        elif k == 'api': groups['ref'].insert(0, name)                # the API reference heads the reference pages
        else: groups[k].append(name)
        if k != 'index':
            _write(SRC/f'{name}.ipynb', json.dumps(j, indent=1))
            _write(SRC/'_extra'/NB_DIR/nb.relative_to(NBS), nb.read_bytes())   # the download: the notebook itself
        wanted.add(name.split('/')[0] + ('' if '/' in name else '.ipynb'))
    for f, name in EXTRA_PAGES.items():
        text = (ROOT/f).read_text()
        _write(SRC/f'{name}.md', site.md(text, (ROOT/f), 0))
        for img in re.findall(r'!\[[^\]]*\]\(([^)\s:]+)\)', text):
            _write(SRC/img, ((ROOT/f).parent/img).read_bytes()); wanted.add(img.split('/')[0])
        groups['ref'].append(name); wanted.add(f'{name}.md')
        titles[name] = (re.search(r'^# (.+)$', text, re.M) or [None, name])[1], ''
    # the home page: its intro, then the lessons, how-tos and reference; then the rest of index.ipynb for readers
    first_h2 = next((i for i, c in enumerate(index['cells']) if c['cell_type'] == 'markdown'
                     and re.match(r'\s*##\s', ''.join(c['source']))), len(index['cells']))
    index['cells'].insert(first_h2, _md_cell('sgdlab-contents', home_lists(groups, titles)))
    index['cells'].append(_md_cell('sgdlab-toctree', ''.join(_toctree(CAPTIONS[k], v) for k, v in groups.items() if v)))
    _write(SRC/'index.ipynb', json.dumps(index, indent=1)); wanted.add('index.ipynb')
    # what the search page shows before a query (docs/_templates/search.html reads it through conf.py)
    _write(SRC/'_site.json', json.dumps({'lessons': [(n, titles[n][0]) for n in groups['lesson']],
                                         'howtos': [(n, titles[n][0]) for n in groups['howto']]}, indent=1))
    for d in {p.parent for p in NBS.rglob('*') if p.is_file() and not p.suffix == '.ipynb'
              and not any(x[0] in '_.' for x in p.relative_to(NBS).parts)}:
        for f in d.iterdir():                                        # images and other files beside the notebooks
            if f.is_file() and f.suffix != '.ipynb':
                _write(SRC/f.relative_to(NBS), f.read_bytes()); wanted.add(f.relative_to(NBS).parts[0])
    _write(SRC/'pyproject.toml', (ROOT/'pyproject.toml').read_bytes())
    for f in CONF.rglob('*'):                                        # conf.py, _ext/, _static/, _templates/
        if f.is_file() and '__pycache__' not in f.parts:
            _write(SRC/f.relative_to(CONF), f.read_bytes()); wanted.add(f.relative_to(CONF).parts[0])
    for p in SRC.iterdir():                                          # pages whose notebook has gone
        if p.name not in wanted: shutil.rmtree(p) if p.is_dir() else p.unlink()
    extra = SRC/'_extra'/NB_DIR                                      # downloads whose notebook has gone
    keep = {SRC/'_extra'/NB_DIR/nb.relative_to(NBS) for nb in nbs}
    for p in extra.rglob('*.ipynb'):
        if p not in keep: p.unlink()
    return groups

# ---------------------------------------------------------------------------------------------------- 3. Sphinx
def sphinx():
    from sphinx.cmd.build import build_main
    # -a: write every page, so that each page's sidebar lists pages added since the last build
    rc = build_main(['-b', 'html', '-a', '-j', '2', '-q', '-d', str(WORK/'doctrees'), str(SRC), str(HTML)])
    if rc: sys.exit(f'build_docs: sphinx-build failed ({rc})')

def publish():
    "Copy Sphinx's output into `_docs/`, without Sphinx's build bookkeeping."
    if OUT.exists(): shutil.rmtree(OUT)
    shutil.copytree(HTML, OUT, ignore=shutil.ignore_patterns('.buildinfo', '.doctrees', '_sources', '*.map'))
    (OUT/'.nojekyll').touch()                                      # GitHub Pages: serve _static/ as is

def main(argv):
    t = [time.time()]
    force = '--force' in argv
    if force and WORK.exists(): shutil.rmtree(WORK)
    nbs = notebooks()
    n = process(nbs, force=force); t.append(time.time())
    groups = stage(nbs); t.append(time.time())
    sphinx(); t.append(time.time())
    publish(); t.append(time.time())
    pages = sum(map(len, groups.values())) + 1
    nbdev_s, stage_s, sphinx_s, copy_s = (b - a for a, b in zip(t, t[1:]))
    print(f'build_docs: {pages} pages in {OUT.relative_to(ROOT)}/ in {t[-1]-t[0]:.1f} s '
          f'(nbdev processed {n} notebooks: '
          f'{nbdev_s:.1f} s, staging {stage_s:.1f} s, Sphinx {sphinx_s:.1f} s, copy {copy_s:.1f} s); '
          'open _docs/index.html or run: python -m http.server -d _docs')

if __name__ == '__main__': main(sys.argv[1:])
