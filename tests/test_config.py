"settings.ini (nbdev 2) and pyproject.toml (nbdev 3) must describe the same project."
import configparser, subprocess, sys
from pathlib import Path
import sgdlab
try: import tomllib
except ModuleNotFoundError: import tomli as tomllib  # Python 3.10: the test extra installs tomli

ROOT = Path(__file__).resolve().parents[1]
proj = tomllib.loads((ROOT/'pyproject.toml').read_text())
nbdev3 = proj['tool']['nbdev']
ini = configparser.ConfigParser(); ini.read(ROOT/'settings.ini'); ini = ini['DEFAULT']

def test_names_and_paths_agree():
    assert ini['lib_name'] == proj['project']['name'] == 'sgdlab'
    for k in 'lib_path', 'nbs_path', 'doc_path', 'readme_nb': assert ini[k] == nbdev3[k], k
    assert ini['recursive'].lower() == str(nbdev3['recursive']).lower()

def test_tst_flags_agree(): assert ini['tst_flags'].split() == nbdev3['tst_flags'].split()

def test_version_agrees(): assert ini['version'] == sgdlab.__version__

def test_python_and_scripts_agree():
    assert proj['project']['requires-python'] == f">={ini['min_python']}"
    nm, target = ini['console_scripts'].split('=')
    assert proj['project']['scripts'] == {nm: target}

def test_readme_is_fresh():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
