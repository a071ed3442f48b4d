"""The lesson site. Two quick checks of the committed notebooks run everywhere; the browser test runs under
`make docs-test` (or SGDLAB_DOCS_TEST=1 pytest tests/test_docs.py).

The browser test builds `_docs/` with tools/build_docs.py, serves it on 127.0.0.1 at a free port and opens every page in Debian's
headless Chromium through Selenium, pointed at /usr/bin/chromedriver (never a browser download). Screenshots of
lessons 1 and 2 land in `_build/docs-test/` for a person to look at.
"""
import functools, http.server, importlib, json, os, pkgutil, re, subprocess, sys, threading, time
from pathlib import Path
from urllib.parse import urldefrag, urlparse
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS, SHOTS = ROOT/'_docs', ROOT/'_build'/'docs-test'
CHROMIUM, DRIVER = Path('/usr/bin/chromium'), Path('/usr/bin/chromedriver')
LESSON_SHOTS = {'sgd_from_scratch': 'lesson1', 'mnist_basics': 'lesson2', 'howto_animations': 'howto_animations'}
MAX_PAGE_BYTES = 3_000_000

def _missing():
    "Why the browser test cannot run here, or ''."
    if os.environ.get('SGDLAB_DOCS_TEST') != '1': return 'browser test of the site: run `make docs-test`'
    for mod in ('selenium', 'sphinx', 'myst_nb', 'furo', 'latex2mathml', 'yaml'):
        try: __import__(mod)
        except ImportError: return f'{mod} is missing: pip install -e ".[docs]"'
    for p in (CHROMIUM, DRIVER):
        if not p.exists(): return f'{p} is missing: apt-get install chromium chromium-driver'
    return ''

why = _missing()
if why and os.environ.get('SGDLAB_DOCS_TEST') == '1': raise RuntimeError(f'make docs-test: {why}')
browser_test = pytest.mark.skipif(bool(why), reason=why or 'ok')

def _outputs_text(nb_path):
    "All the text a notebook's committed outputs show."
    cells = json.loads(Path(nb_path).read_text())['cells']
    return '\n'.join(''.join(o.get('data', {}).get('text/markdown', o.get('text', '')))
                     for c in cells for o in c.get('outputs', []))

def test_api_reference_lists_every_public_name():
    "The API page's committed table has a row for every name in every public module's `__all__`: rerun nbs/99_api_reference.ipynb when one is missing."
    import sgdlab
    table = _outputs_text(ROOT/'nbs'/'99_api_reference.ipynb')
    for m in pkgutil.iter_modules(sgdlab.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'sgdlab.{m.name}')
        missing = [n for n in getattr(mod, '__all__', []) if f'| [{n}](' not in table]
        assert not missing, f'nbs/99_api_reference.ipynb lacks {mod.__name__}.{missing}: run the notebook again and commit it'

def test_index_lists_every_notebook():
    "The home page's table of notebooks (and README.md, made from it) links every notebook."
    index = (ROOT/'nbs'/'index.ipynb').read_text()
    nbs = [p.name for p in (ROOT/'nbs').glob('*.ipynb') if p.stem != 'index']
    assert not [n for n in nbs if f']({n})' not in index and f'](' + n + '#' not in index], 'add them to the table in nbs/index.ipynb'

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

@pytest.fixture(scope='module')
def base_url():
    "Build the site, then serve `_docs/` on 127.0.0.1 at a free port."
    subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py')], check=True, cwd=ROOT)
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(DOCS)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_port}/'
    srv.shutdown()

@pytest.fixture(scope='module')
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,900',
              '--disable-extensions', '--no-first-run', '--hide-scrollbars'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    d.set_page_load_timeout(30)
    yield d
    d.quit()

# Runs in the page: waits for every <img> to finish, then reports what the checks need.
_PAGE_JS = r"""
const done = arguments[arguments.length - 1];
const waitImg = i => (i.complete && i.getAttribute('src')) ? Promise.resolve() : new Promise(r => {
  i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 5000); });
Promise.all(Array.from(document.images).map(waitImg)).then(() => {
  const res = performance.getEntriesByType('resource');
  const nav = performance.getEntriesByType('navigation')[0];
  done({
    broken_imgs: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120)),
    n_imgs: document.images.length,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
    math: document.querySelectorAll('.math').length,
    typeset: Array.from(document.querySelectorAll('.math math')).filter(m => m.getBoundingClientRect().height > 0).length,
    raw_tex: Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('math')).length
      + (document.body.innerText.match(/\$\$|\\frac|\\sum|\\nabla/g) || []).length,
    bytes: (nav ? nav.encodedBodySize : 0) + res.reduce((s, r) => s + (r.encodedBodySize || 0), 0),
    foreign: res.map(r => r.name).filter(n => !n.startsWith(location.origin) && !n.startsWith('data:')),
    sidebar: document.querySelectorAll('.sidebar-tree a.reference').length,
    animations: document.querySelectorAll('.animation, .sgdlab-anim').length,
  });
});
"""

def _pages(): return sorted(p.name for p in DOCS.glob('*.html'))

def _console_errors(browser):
    return [e['message'] for e in browser.get_log('browser') if e['level'] == 'SEVERE']

# The two players that pages carry: sgdlab's own (05_viz) and matplotlib's jshtml, in older outputs.
PLAYERS = {
    '.sgdlab-anim': dict(play='button[data-act="play"]', pause='button[data-act="pause"]', first='button[data-act="first"]',
                         next='button[data-act="next"]', slider='input[type="range"]'),
    '.animation': dict(play='button[title="Play"]', pause='button[title="Pause"]', first='button[title="First frame"]',
                       next='button[title="Next frame"]', slider='input.anim-slider'),
}

def _frame(browser, anim):
    return browser.execute_script("return arguments[0].querySelector('img').src.slice(-200)", anim)

def _check_animations(browser, page):
    "Click play on every animation and check that the frame moves; then pause, step and drag the slider."
    from selenium.webdriver.common.by import By
    problems, n = [], 0
    for root, sel in PLAYERS.items():
        for i, anim in enumerate(browser.find_elements(By.CSS_SELECTOR, root)):
            n += 1
            name = f'{page} animation {root}[{i}]'
            def btn(what):
                b = anim.find_element(By.CSS_SELECTOR, sel[what])
                browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", b)
                return b
            slider = anim.find_element(By.CSS_SELECTOR, sel['slider'])
            if int(slider.get_attribute('max')) < 1: problems.append(f'{name}: a single frame'); continue
            if btn('play').size['height'] < 10 or btn('play').size['width'] < 10: problems.append(f'{name}: the play button is not drawn')
            btn('pause').click(); btn('first').click()
            first = _frame(browser, anim)
            btn('play').click()
            deadline = time.time() + 5
            while _frame(browser, anim) == first and time.time() < deadline: time.sleep(0.05)
            btn('pause').click()
            if _frame(browser, anim) == first: problems.append(f'{name}: play did not change the frame')
            btn('first').click(); btn('next').click()
            if slider.get_attribute('value') != '1': problems.append(f'{name}: next frame did not step')
            browser.execute_script("const s = arguments[0]; s.value = s.max; s.dispatchEvent(new Event('input'))", slider)
            if _frame(browser, anim) == first: problems.append(f'{name}: the slider did not change the frame')
    return problems, n

def _screenshots(browser, name):
    "The top of the page (with the sidebar), the first animation and the first formula, for a person to look at."
    from selenium.webdriver.common.by import By
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")
    browser.save_screenshot(str(SHOTS/f'{name}_top.png'))
    for what, css in (('animation', ', '.join(PLAYERS)), ('math', 'div.math')):
        found = browser.find_elements(By.CSS_SELECTOR, css)
        if not found: continue
        browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", found[0])
        time.sleep(0.3)
        browser.save_screenshot(str(SHOTS/f'{name}_{what}.png'))

@browser_test
def test_site_in_browser(base_url, browser):
    "Every page: no console errors, images load, nothing from outside, math typeset, < 3 MB; animations play."
    pages, problems, ids, links, weights, sidebars, n_anims = _pages(), [], {}, set(), {}, {}, 0
    assert {'index.html', 'sgd_from_scratch.html', 'mnist_basics.html', 'benchmarks.html'} <= set(pages)
    browser.get(base_url)                                    # a first visit, as a new reader's
    for page in pages:
        browser.get(base_url + page)
        r = browser.execute_async_script(_PAGE_JS)
        ids[page], weights[page], sidebars[page] = set(r['ids']), r['bytes'], r['sidebar']
        links |= {l for l in r['links'] if l.startswith(base_url)}
        problems += [f'{page}: console error: {m}' for m in _console_errors(browser)]
        problems += [f'{page}: image did not load: {s}' for s in r['broken_imgs']]
        problems += [f'{page}: loads {u} from outside the site' for u in r['foreign']]
        if r['typeset'] < r['math'] or r['raw_tex']: problems.append(f'{page}: math not typeset ({r["typeset"]} of {r["math"]}, raw TeX {r["raw_tex"]})')
        if r['bytes'] > MAX_PAGE_BYTES: problems.append(f'{page}: weighs {r["bytes"]/1e6:.1f} MB')
        if r['animations']:
            found, n = _check_animations(browser, page)
            problems += found; n_anims += n
        if (stem := page[:-5]) in LESSON_SHOTS: _screenshots(browser, LESSON_SHOTS[stem])
        problems += [f'{page}: console error after clicking: {m}' for m in _console_errors(browser)]
    full = max(sidebars.values())                            # every page lists every page: no stale sidebar
    problems += [f'{p}: its sidebar lists {n} of {full} pages' for p, n in sidebars.items() if n != full]
    for link in sorted(links):                               # every internal link resolves, anchors included
        url, frag = urldefrag(link)
        path = urlparse(url).path.lstrip('/') or 'index.html'
        if not (DOCS/path).is_file(): problems.append(f'broken link: {link}'); continue
        if frag and path in ids and frag not in ids[path]: problems.append(f'missing anchor: {link}')
    print(f'\n{len(pages)} pages, {len(links)} internal links, {n_anims} animations played')
    print('page weights (kB): ' + ', '.join(f'{p[:-5]} {w/1e3:.0f}' for p, w in sorted(weights.items(), key=lambda x: -x[1])))
    assert not problems, '\n'.join(problems)

@browser_test
def test_lessons_have_playable_animations(base_url):
    "Lesson 1 embeds at least one animation player (the site test above checks that each one plays)."
    html = (DOCS/'sgd_from_scratch.html').read_text()
    assert re.search(r'class="(animation|sgdlab-anim)"', html) and 'maxcdn.bootstrapcdn.com' not in html

def _hidden_sources(nb):
    "The code of a notebook's `#| hide` cells."
    return [''.join(c['source']) for c in json.loads(nb.read_text())['cells']
            if c['cell_type'] == 'code' and re.match(r'#\|\s*hide\b', ''.join(c['source']))]

@browser_test
def test_nbdev_directives_rendered(base_url):
    "On a module page: `#| hide` cells are gone, `#| export` cells show as highlighted code, show_doc renders as a doc entry."
    html = (DOCS/'data.html').read_text()
    text = re.sub(r'<[^>]+>', '', html)
    hidden = _hidden_sources(ROOT/'nbs'/'00_data.ipynb')
    assert hidden and all(line not in text for src in hidden for line in src.splitlines()[1:] if line.strip())
    assert 'class="nf">make_generator<' in html                  # the exported definition, highlighted
    assert 'id="make_generator"' in html and 'class="sd-source"' in html and '#| export' not in html
