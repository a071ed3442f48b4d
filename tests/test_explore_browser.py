"""An explorer in a real headless Chromium, offline (issue 25): in a saved page and inserted the way JupyterLab inserts
an output, moving a control (with the keyboard too) redraws the loss curve and the path of the new grid point exactly
as Python draws them; without JavaScript the default point is drawn and the controls say they need it; no console
error and no request leaves the machine. A screenshot lands in _build/explore-test/ for a person to look at."""
import json, re
from functools import partial
from pathlib import Path
import pytest
import torch
from torch import nn
from sgdlab import SGD, explore, fit, linear_data
from sgdlab.explore import _curve_str, _path_str, _said

CHROMIUM, DRIVER = Path('/usr/bin/chromium'), Path('/usr/bin/chromedriver')
SHOTS = Path(__file__).resolve().parents[1]/'_build'/'explore-test'
webdriver = pytest.importorskip('selenium.webdriver', reason='pip install selenium (the dev extra)')
pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()),
                                reason='needs the Debian chromium and chromium-driver packages')
X, Y = linear_data(100, seed=42)
OPTS = {'plain': dict(mom=0.), 'momentum': dict(mom=0.9), 'Nesterov': dict(mom=0.9, nesterov=True)}


def run(lr, opt):
    a = nn.Parameter(torch.tensor([-1., 1.]))
    return fit(lambda xb: xb@a, X, Y, params=[a], lr=lr, steps=60, opt_func=partial(SGD, **OPTS[opt]))


@pytest.fixture(scope='module')
def ex():
    "A slider and a choice; lr=2.5 diverges (DivergenceError)"
    return explore(run, {'lr': [0.02, 0.1, 0.5, 0.9, 2.5], 'opt': list(OPTS)}, surface=(X, Y),
                   default={'lr': 0.1}, title='lr and optimizer')


@pytest.fixture(scope='module')
def page(ex, tmp_path_factory):
    "The explorer saved as a page, twice on it, so that the two must not drive each other"
    path = ex.save(tmp_path_factory.mktemp('explore')/'explorer.html')
    html = path.read_text(encoding='utf-8')
    path.write_text(html.replace(ex.html, ex.html + '\n' + ex.html), encoding='utf-8')
    return path


@pytest.fixture(scope='module')
def browser():
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=900,900',
              '--hide-scrollbars', '--host-resolver-rules=MAP * ~NOTFOUND'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'performance': 'ALL', 'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    yield drv
    drv.quit()


def requested_urls(drv) -> list[str]:
    "Every URL the page asked for since the last call, from Chromium's DevTools network log"
    msgs = (json.loads(e['message'])['message'] for e in drv.get_log('performance'))
    return [m['params']['request']['url'] for m in msgs if m['method'] == 'Network.requestWillBeSent']


def console_errors(drv) -> list[str]:
    return [e['message'] for e in drv.get_log('browser') if e['level'] == 'SEVERE']


def same_drawing(got: str, want: str) -> bool:
    "Two SVG `points` or `d` strings draw the same: the same commands, every coordinate within 0.11 pixels"
    num = r'-?\d+(?:\.\d+)?'
    if re.sub(num, '#', got) != re.sub(num, '#', want): return False
    return all(abs(float(a) - float(b)) <= 0.11 for a, b in zip(re.findall(num, got), re.findall(num, want)))


def drawn(drv, k: int = 0) -> dict:
    "What explorer `k` on the page draws now: its curve, its path, its status line, its controls' values"
    return drv.execute_script("""
        const r = document.querySelectorAll('.sgdlab-explore')[arguments[0]];
        const a = (c, n) => r.querySelector(c).getAttribute(n);
        return {curve: a('.sx-sel', 'points'), path: a('.sx-path', 'd'), faint: a('.sx-faint', 'd'),
                status: r.querySelector('.sx-status').textContent,
                values: [...r.querySelectorAll('[data-dim]')].map(c => +c.value),
                disabled: [...r.querySelectorAll('[data-dim]')].map(c => c.disabled),
                note: !!r.querySelector('.sx-note'), end: a('.sx-end', 'visibility')};""", k)


def expected(ex, lr, opt) -> dict:
    "What Python draws for the point (lr, opt)"
    j = ex.points.index({'lr': lr, 'opt': opt})
    p, idx = ex.data['points'][j], [ex.grid['lr'].index(lr), ex.grid['opt'].index(opt)]
    return {'curve': _curve_str(ex.data, p), 'path': _path_str(ex.data, p), 'status': _said(ex.data, idx)}


def assert_shows(ex, got: dict, lr, opt):
    want = expected(ex, lr, opt)
    assert same_drawing(got['curve'], want['curve']), (got['curve'][:80], want['curve'][:80])
    assert same_drawing(got['path'], want['path']), (got['path'][:80], want['path'][:80])
    assert got['status'] == want['status']


def test_without_javascript_the_default_point_is_drawn(browser, page, ex):
    browser.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': True})   # an untrusted notebook
    try:
        browser.get(page.as_uri())
        got = drawn(browser)
        assert_shows(ex, got, 0.1, 'plain')
        assert got['note'] and all(got['disabled']) and got['faint'] == ''
        box = browser.find_elements('css selector', '.sgdlab-explore svg')[0].size
        assert box['width'] > 300 and box['height'] > 180            # laid out at full size, not a 0-px picture
        assert 'needs JavaScript' in browser.find_elements('css selector', '.sx-note')[0].text
    finally: browser.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': False})
    urls = requested_urls(browser)
    assert urls and all(u.startswith(('file://', 'data:')) for u in urls), [u[:80] for u in urls]


def test_keyboard_moves_the_saved_pages_explorer(browser, page, ex):
    from selenium.webdriver.common.keys import Keys
    browser.get(page.as_uri())
    got = drawn(browser)
    assert not got['note'] and not any(got['disabled']) and got['faint'].count('M') == len(ex)
    assert_shows(ex, got, 0.1, 'plain')
    slider = browser.find_elements('css selector', '.sgdlab-explore input[type=range]')[0]
    slider.send_keys(Keys.ARROW_RIGHT)                                # lr 0.1 -> 0.5
    assert_shows(ex, drawn(browser), 0.5, 'plain')
    choice = browser.find_elements('css selector', '.sgdlab-explore select')[0]
    choice.send_keys(Keys.ARROW_DOWN)                                 # plain -> momentum
    assert_shows(ex, drawn(browser), 0.5, 'momentum')
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)              # lr 0.5 -> 2.5: diverges
    got = drawn(browser)
    assert_shows(ex, got, 2.5, 'momentum')
    assert 'diverged' in got['status'] and 'DivergenceError' in got['status'] and got['end'] == 'hidden'
    assert slider.get_attribute('aria-valuetext') == '2.5'
    assert drawn(browser, 1)['values'] == [1, 0]                      # the second explorer did not move
    assert_shows(ex, drawn(browser, 1), 0.1, 'plain')
    slider.send_keys(Keys.HOME)
    assert_shows(ex, drawn(browser), 0.02, 'momentum')
    SHOTS.mkdir(parents=True, exist_ok=True)
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)              # lr 0.5, momentum: a curving path
    browser.save_screenshot(str(SHOTS/'explorer.png'))
    browser.execute_script("document.body.dataset.theme = 'dark'; document.body.style.background = '#131416';"
                           "document.body.style.color = '#cfd0d0';")
    browser.save_screenshot(str(SHOTS/'explorer_dark.png'))
    assert not console_errors(browser)
    urls = requested_urls(browser)
    assert all(u.startswith(('file://', 'data:')) for u in urls), [u[:80] for u in urls]


INSERT_LIKE_JUPYTERLAB = """
const host = document.createElement('div');
document.body.appendChild(host);
host.innerHTML = arguments[0];  // as JupyterLab's renderHTML does; scripts set through innerHTML do not run ...
for (const old of host.querySelectorAll('script')) {  // ... so it re-creates each one, which runs it
  const s = document.createElement('script');
  s.textContent = old.textContent;
  old.parentNode.replaceChild(s, old);
}
"""


def test_explorer_inserted_like_a_notebook_output(browser, ex, tmp_path):
    "Inserted twice into a live page the way JupyterLab inserts an output, each explorer drives its own picture"
    blank = tmp_path/'blank.html'
    blank.write_text('<!DOCTYPE html><html><body></body></html>')
    browser.get(blank.as_uri())
    browser.get_log('browser')
    browser.execute_script(INSERT_LIKE_JUPYTERLAB, ex.html)
    browser.execute_script(INSERT_LIKE_JUPYTERLAB, ex.html)
    assert all(not drawn(browser, k)['note'] and drawn(browser, k)['faint'] for k in (0, 1))
    browser.find_elements('css selector', '.sgdlab-explore input[type=range]')[1].click()   # the first move: a click
    got, other = drawn(browser, 1), drawn(browser, 0)
    lr = ex.grid['lr'][got['values'][0]]
    assert lr != 0.1
    assert_shows(ex, got, lr, 'plain')
    assert_shows(ex, other, 0.1, 'plain')
    assert not console_errors(browser)


def test_the_contours_follow_the_chosen_surface(browser, tmp_path):
    "With a surface per value of a choice, moving the choice shows that value's contours and hides the others"
    from selenium.webdriver.common.keys import Keys
    curv = torch.tensor([1., 10.], dtype=torch.float64)
    turn = torch.tensor([[0.8, -0.6], [0.6, 0.8]], dtype=torch.float64)
    valleys = {'aligned': lambda w: 0.5 * (curv * w**2).sum(-1),
               'turned': lambda w: 0.5 * (curv * (w @ turn)**2).sum(-1)}
    def on_valley(valley, lr):
        w = nn.Parameter(torch.tensor([-3., 1.], dtype=torch.float64))
        return fit(lambda xb: w, torch.zeros(1, 1), torch.zeros(1), params=[w], lr=lr, steps=30,
                   loss_func=lambda p, t: valleys[valley](p))
    ex = explore(on_valley, {'valley': list(valleys), 'lr': [0.05, 0.15]}, surface=valleys, best=(0, 0))
    blank = tmp_path/'blank.html'
    blank.write_text('<!DOCTYPE html><html><body></body></html>')
    browser.get(blank.as_uri())
    browser.get_log('browser')
    browser.execute_script(INSERT_LIKE_JUPYTERLAB, ex.html)
    shown = "return [...document.querySelectorAll('.sx-bg')].map(g => g.getAttribute('visibility') || 'visible')"
    assert browser.execute_script(shown) == ['visible', 'hidden']
    browser.find_elements('css selector', '.sgdlab-explore select')[0].send_keys(Keys.ARROW_DOWN)   # aligned -> turned
    assert browser.execute_script(shown) == ['hidden', 'visible']
    got = drawn(browser)
    j = ex.points.index({'valley': 'turned', 'lr': 0.05})
    assert same_drawing(got['path'], _path_str(ex.data, ex.data['points'][j]))
    assert not console_errors(browser)
