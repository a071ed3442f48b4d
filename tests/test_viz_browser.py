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
