"An animation's HTML in a real headless Chromium, offline: the first frame shows before any script runs, nothing is fetched, Play plays."
import json, shutil
from pathlib import Path
import pytest
import torch
from sgdlab import History, animate_fit, linear_data, save_anim

CHROMIUM, DRIVER = Path('/usr/bin/chromium'), Path('/usr/bin/chromedriver')
webdriver = pytest.importorskip('selenium.webdriver', reason='pip install selenium (the dev extra)')
pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()), reason='needs the Debian chromium and chromium-driver packages')


@pytest.fixture(scope='module')
def page(tmp_path_factory):
    "A saved standalone page with two players (so that they must not drive each other), and a still beside them"
    x, y = linear_data(50, seed=0)
    h = History(loss=[float(10 - i) for i in range(10)], params=[(torch.tensor([i / 3 - 1, 1.]),) for i in range(10)])
    anim = animate_fit(x, y, h, every=1, interval=40)
    path = save_anim(anim, tmp_path_factory.mktemp('page')/'anim.html')
    html = path.read_text()
    body = html.split('<body>\n', 1)[1].rsplit('\n</body>', 1)[0]
    path.write_text(html.replace(body, body + '\n' + body))  # the same animation twice on one page
    return path, len(anim)


@pytest.fixture(scope='module')
def browser():
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
    drv = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    yield drv
    drv.quit()


def requested_urls(drv) -> list[str]:
    "Every URL the page asked for since the last call, from Chromium's DevTools network log"
    msgs = (json.loads(e['message'])['message'] for e in drv.get_log('performance'))
    return [m['params']['request']['url'] for m in msgs if m['method'] == 'Network.requestWillBeSent']


def test_picture_before_scripts_and_nothing_leaves_the_machine(browser, page):
    path, n = page
    browser.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': True})  # a notebook that is not trusted
    browser.get(path.as_uri())
    imgs = browser.find_elements('css selector', '.sgdlab-anim img')
    assert len(imgs) == 2
    assert all(browser.execute_script('return arguments[0].complete && arguments[0].naturalWidth', i) == 500 for i in imgs)
    assert all(i.size['height'] > 300 for i in imgs)  # laid out at full size, no 0-px picture
    browser.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': False})
    urls = requested_urls(browser)
    assert urls and all(u.startswith(('file://', 'data:')) for u in urls), [u[:80] for u in urls]


def test_play_changes_the_frame_and_players_are_independent(browser, page):
    path, n = page
    browser.get(path.as_uri())
    imgs = browser.find_elements('css selector', '.sgdlab-anim img')
    first = [i.get_attribute('src') for i in imgs]
    assert browser.execute_script('return arguments[0].naturalWidth', imgs[0]) == 500
    label = browser.find_elements('css selector', '.sgdlab-step')[0]
    assert label.text == 'step 0 loss 10.0000'
    browser.find_elements('css selector', 'button[data-act=play]')[0].click()  # the first click plays
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 5).until(lambda d: imgs[0].get_attribute('src') != first[0])
    browser.find_elements('css selector', 'button[data-act=pause]')[0].click()
    assert imgs[1].get_attribute('src') == first[1]  # the second player did not move
    browser.find_elements('css selector', 'button[data-act=last]')[1].click()
    assert browser.find_elements('css selector', '.sgdlab-step')[1].text == f'step {n - 1} loss 1.0000'
    assert browser.execute_script('return arguments[0].naturalWidth', imgs[1]) == 500
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

def test_player_inserted_like_a_notebook_output(browser, page, tmp_path):
    "Inserted twice into a live page the way JupyterLab inserts an output, each player drives its own picture"
    path, n = page
    html = path.read_text().split('<body>\n', 1)[1].rsplit('\n</body>', 1)[0].split('\n</div>\n')[0] + '\n</div>'
    blank = tmp_path/'blank.html'
    blank.write_text('<!DOCTYPE html><html><body></body></html>')
    browser.get(blank.as_uri())
    browser.execute_script(INSERT_LIKE_JUPYTERLAB, html)
    browser.execute_script(INSERT_LIKE_JUPYTERLAB, html)
    imgs = browser.find_elements('css selector', '.sgdlab-anim img')
    assert len(imgs) == 2 and all(browser.execute_script('return arguments[0].naturalWidth', i) == 500 for i in imgs)
    first = imgs[1].get_attribute('src')
    browser.find_elements('css selector', 'button[data-act=next]')[1].click()
    assert imgs[1].get_attribute('src') != first and imgs[0].get_attribute('src') == first
    assert browser.find_elements('css selector', '.sgdlab-step')[1].text == 'step 1 loss 9.0000'


# ---------------------------------------------------------------------------------------------------------------
# Issue 23 §7 and §10: controls that follow the page's colours, and a pace a learner can follow

PAGES = {  # name -> (body attributes, emulated prefers-color-scheme): a plain page, furo's and JupyterLab's dark themes
    'light': ('style="background:#ffffff;color:#222222"', 'light'),
    'furo dark': ('data-theme="dark" style="background:#131416;color:#cfd0d0"', 'light'),
    'furo auto, dark system': ('data-theme="auto" style="background:#131416;color:#cfd0d0"', 'dark'),
    'jupyterlab dark': ('data-jp-theme-light="false" style="background:#111111;color:#dddddd"', 'light'),
}

def _luminance(css: str) -> float:
    "Relative luminance of an `rgb(...)`/`rgba(...)` colour (WCAG 2)"
    r, g, b = (float(v) / 255 for v in css[css.index('(') + 1:].rstrip(')').split(',')[:3])
    lin = lambda c: c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)

def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize('name', PAGES)
def test_controls_follow_the_page_colours(browser, page, tmp_path, name):
    "Buttons draw in the page's text colour on a see-through background; native controls go dark on dark themes"
    path, n = page
    body_attrs, scheme = PAGES[name]
    player = path.read_text().split('<body>\n', 1)[1].rsplit('\n</body>', 1)[0]
    themed = tmp_path/'themed.html'
    themed.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
                      f'<body {body_attrs}>{player}</body></html>')
    media = {'features': [{'name': 'prefers-color-scheme', 'value': scheme}]}
    browser.execute_cdp_cmd('Emulation.setEmulatedMedia', media)
    try:
        browser.get(themed.as_uri())
        style = lambda el, prop: browser.execute_script('return getComputedStyle(arguments[0])[arguments[1]]', el, prop)
        body = browser.find_element('css selector', 'body')
        page_fg, page_bg = style(body, 'color'), style(body, 'backgroundColor')
        for b in browser.find_elements('css selector', '.sgdlab-anim button'):
            assert style(b, 'color') == page_fg and style(b, 'borderTopColor') == page_fg, name
            assert style(b, 'backgroundColor') == 'rgba(0, 0, 0, 0)', name  # the page shows through
            assert _contrast(style(b, 'color'), page_bg) >= 7, name
        dark = name != 'light'
        player_scheme = style(browser.find_element('css selector', '.sgdlab-anim'), 'colorScheme')
        assert player_scheme == ('dark' if dark else 'normal'), (name, player_scheme)
    finally:
        browser.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': []})


RECORD_DELAYS = """
window.__delays = [];
const later = window.setTimeout.bind(window);
window.setTimeout = function (f, ms) { window.__delays.push(ms); return later(f, 0); };  // record, and do not wait
"""

def test_default_pace_plays_once_and_a_loop_holds_the_last_frame(browser, tmp_path):
    "The defaults: a frame every 150 ms, played once to the last frame; with loop ticked the last frame waits 1.5 s"
    x, y = linear_data(50, seed=0)
    h = History(loss=[float(10 - i) for i in range(10)], params=[(torch.tensor([i / 3 - 1, 1.]),) for i in range(10)])
    anim = animate_fit(x, y, h, every=1)
    path = save_anim(anim, tmp_path/'default.html')
    browser.get(path.as_uri())
    n = len(anim)
    box = browser.find_element('css selector', '.sgdlab-anim input[type=checkbox]')
    assert not box.is_selected()  # loop is off until asked for
    browser.execute_script(RECORD_DELAYS)
    browser.find_element('css selector', 'button[data-act=play]').click()
    from selenium.webdriver.support.ui import WebDriverWait
    step = lambda d: d.find_element('css selector', '.sgdlab-step').text
    WebDriverWait(browser, 5).until(lambda d: step(d) == f'step {n - 1} loss 1.0000')
    assert browser.execute_script('return window.__delays') == [150] * (n - 1)  # and then it stopped
    box.click()
    browser.find_element('css selector', 'button[data-act=play]').click()
    WebDriverWait(browser, 5).until(lambda d: len(d.execute_script('return window.__delays')) >= 3 * n)
    browser.find_element('css selector', 'button[data-act=pause]').click()
    delays = browser.execute_script('return window.__delays')[n - 1:]
    assert delays[:2 * n] == ([150] * (n - 1) + [1500]) * 2, delays[:2 * n]
