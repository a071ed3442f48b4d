"The `sgdlab` command, run as a real subprocess: the demo's output and files, and one-line errors with status 2."
import subprocess, sys
from pathlib import Path
import pytest
from PIL import Image
from sgdlab.cli import main

CLI = [sys.executable, '-m', 'sgdlab.cli']
SCRIPT = Path(sys.executable).parent/'sgdlab'

# Run as real subprocesses (each pays about 2 s to import torch, so they start together).
# name -> (command line, a phrase the one-line error must contain, or None for a run that succeeds)
RUNS = {
    'gif': (CLI + ['demo', '--steps', '20', '--out', '{tmp}/fit.gif'], None),
    'mp4 minibatch': (CLI + ['demo', '--steps', '20', '--bs', '10', '--n', '50', '--seed', '1', '--out', '{tmp}/fit.mp4'], None),
    'lr zero': (CLI + ['demo', '--lr', '0'], '--lr 0: the learning rate must be a positive'),
    'unknown extension': (CLI + ['demo', '--out', 'fit.avi'], "unknown extension '.avi'; use .gif, .mp4 or .html"),
    'missing folder': (CLI + ['demo', '--out', 'no/such/folder/fit.gif'], 'does not exist'),
    'n too small, console script': ([str(SCRIPT), 'demo', '--n', '1'], 'need at least 2 points'),
}
ERRORS = [k for k, (_, e) in RUNS.items() if e]

@pytest.fixture(scope='module')
def procs(tmp_path_factory):
    "Start every run at once, then let the tests wait on them"
    tmp = tmp_path_factory.mktemp('cli')
    ps = {k: subprocess.Popen([a.format(tmp=tmp) for a in cmd], cwd=tmp, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
          for k, (cmd, _) in RUNS.items()}
    return tmp, {k: (p, *p.communicate(timeout=120)) for k, p in ps.items()}


@pytest.mark.parametrize('name', ERRORS)
def test_bad_arguments_give_one_line_and_status_2(procs, name):
    tmp, done = procs
    p, out, err = done[name]
    assert p.returncode == 2, (out, err)
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith('sgdlab') and 'error: ' in err and RUNS[name][1] in err, err


def test_nothing_written_on_error(procs):
    tmp, done = procs
    assert sorted(p.name for p in tmp.iterdir()) == ['fit.gif', 'fit.mp4']


def test_demo_prints_losses_parameters_and_optimum(procs):
    tmp, done = procs
    p, out, err = done['gif']
    assert p.returncode == 0, err
    lines = out.splitlines()
    assert [l.split(':')[0] for l in lines[:2]] == ['step    0', 'step   10']
    assert lines[0] == 'step    0: loss 8.2318'  # the lesson's data and starting guess a = (-1, 1), seed 42
    assert lines[2].startswith('after 20 steps: a = (') and lines[3].startswith('least squares:   a = (3.0544, 2.4557)')
    assert lines[-1] == f"wrote {tmp/'fit.gif'}"
    with Image.open(tmp/'fit.gif') as im: assert im.n_frames == 20


def test_demo_writes_mp4(procs):
    tmp, done = procs
    p, out, err = done['mp4 minibatch']
    assert p.returncode == 0, err
    assert 'after 20 steps' in out  # 4 epochs of 5 minibatches
    assert out.strip().endswith(f"wrote {tmp/'fit.mp4'}")
    assert (tmp/'fit.mp4').read_bytes()[4:8] == b'ftyp'


# The remaining paths call `main` in this process: the same code, without paying for another import of torch.
@pytest.mark.parametrize('argv, msg', [
    (['demo', '--lr', '-0.5'], 'must be a positive'),
    (['demo', '--lr', 'fast'], "invalid float value: 'fast'"),
    (['demo', '--steps', '0'], 'at least 1 step'),
    (['demo', '--bs', '101'], 'between 1 and --n (100)'),
    (['demo', '--lr', '5', '--steps', '200', '--out', 'OUT/x.gif'], 'Try a smaller learning rate'),
    ([], 'choose a command: demo'),
    (['train'], "invalid choice: 'train'"),
])
def test_more_errors_in_process(argv, msg, tmp_path, capsys):
    with pytest.raises(SystemExit) as e: main([a.replace('OUT', str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and msg in err, err
    assert list(tmp_path.iterdir()) == []


def test_html_in_process(tmp_path, capsys):
    assert main(['demo', '--steps', '15', '--lr', '0.3', '--out', str(tmp_path/'fit.html')]) == 0
    assert capsys.readouterr().out.strip().endswith(f"wrote {tmp_path/'fit.html'}")
    assert (tmp_path/'fit.html').read_text().count('data:image/png;base64,') == 15
