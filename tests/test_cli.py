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
    'lr zero': (CLI + ['demo', '--lr', '0'], '--lr 0.0 must be a positive, finite number'),
    'unknown extension': (CLI + ['demo', '--out', 'fit.avi'], "unknown extension '.avi'; use .gif, .mp4, .html"),
    'missing folder': (CLI + ['demo', '--out', 'no/such/folder/fit.gif'], 'does not exist'),
    'unwritable folder': (CLI + ['demo', '--out', '/sys/fit.gif'], "cannot write in the folder '/sys'"),
    'existing folder': (CLI + ['demo', '--out', '.'], "'.' is a folder"),
    'diverges': (CLI + ['demo', '--lr', '5', '--steps', '200'], 'Try a smaller learning rate'),
    'n too small, console script': ([str(SCRIPT), 'demo', '--n', '1'], 'need at least 2 points'),
}
ERRORS = [k for k, (_, e) in RUNS.items() if e]

@pytest.fixture(scope='module')
def procs(tmp_path_factory):
    "Start every run at once, then let the tests wait on them"
    tmp = tmp_path_factory.mktemp('cli')
    ps = {k: subprocess.Popen([a.format(tmp=tmp) for a in cmd], cwd=tmp, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
          for k, (cmd, _) in RUNS.items()}
    return tmp, {k: (p, *p.communicate(timeout=400)) for k, p in ps.items()}


@pytest.mark.parametrize('name', ERRORS)
def test_bad_arguments_give_one_line_and_status_2(procs, name):
    tmp, done = procs
    p, out, err = done[name]
    assert p.returncode == 2, (out, err)
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith('sgdlab') and 'error: ' in err and RUNS[name][1] in err, err
    assert 'inf' not in out and 'nan' not in out, out  # a loss that blew up is never printed


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
    with Image.open(tmp/'fit.gif') as im: assert im.n_frames == 21  # steps 0 to 19, and the end


def test_demo_writes_mp4(procs):
    tmp, done = procs
    p, out, err = done['mp4 minibatch']
    assert p.returncode == 0, err
    assert 'after 20 steps' in out  # 4 epochs of 5 minibatches
    assert [l.split(':')[0] for l in out.splitlines()[:2]] == ['step    0', 'step   10']
    assert out.strip().endswith(f"wrote {tmp/'fit.mp4'}")
    assert (tmp/'fit.mp4').read_bytes()[4:8] == b'ftyp'


# The remaining paths call `main` in this process: the same code, without paying for another import of torch.
@pytest.mark.parametrize('argv, msg', [
    (['demo', '--lr', '-0.5'], 'must be a positive'),
    (['demo', '--lr', 'nan'], '--lr nan must be a positive, finite number'),
    (['demo', '--lr', 'fast'], "invalid float value: 'fast'"),
    (['demo', '--steps', '0'], '--steps 0 must be a positive whole number'),
    (['demo', '--bs', '0'], '--bs 0 must be a positive whole number'),
    (['demo', '--n', '0'], 'need at least 2 points'),
    (['demo', '--out', 'OUT/x.gif/'], "is a folder"),
    (['demo', '--out', 'OUT'], "is a folder"),
    ([], 'choose a command: demo'),
    (['train'], "invalid choice: 'train'"),
])
def test_more_errors_in_process(argv, msg, tmp_path, capsys):
    if argv[-1:] == ['OUT/x.gif/']: (tmp_path/'x.gif').mkdir()
    with pytest.raises(SystemExit) as e: main([a.replace('OUT', str(tmp_path)) for a in argv])
    out, err = capsys.readouterr()
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and msg in err, err
    assert out == ''  # stopped before training
    assert [p.name for p in tmp_path.iterdir()] == (['x.gif'] if argv[-1:] == ['OUT/x.gif/'] else [])


@pytest.mark.parametrize('steps, bs, n, batches', [(7, 3, 10, 4), (2, 5, 20, 4), (6, 10, 10, 1)])
def test_steps_need_not_fill_epochs(steps, bs, n, batches, tmp_path, capsys):
    "Exactly --steps steps: fewer than an epoch, not a multiple of the batches per epoch, or --bs equal to --n"
    assert main(['demo', '--steps', str(steps), '--bs', str(bs), '--n', str(n), '--out', str(tmp_path/'f.gif')]) == 0
    assert f'after {steps} steps' in capsys.readouterr().out
    with Image.open(tmp_path/'f.gif') as im: assert im.n_frames == steps + 1


def test_formats_come_from_anim(monkeypatch, capsys):
    "One list of formats: the help shows anim's, and the check follows it when it changes"
    import sgdlab.anim
    with pytest.raises(SystemExit): main(['demo', '--help'])
    assert '.gif, .mp4, .html' in ' '.join(capsys.readouterr().out.split())
    monkeypatch.setattr(sgdlab.anim, 'ANIM_FORMATS', ('.gif',))
    with pytest.raises(SystemExit) as e: main(['demo', '--out', 'fit.mp4'])
    assert e.value.code == 2 and "unknown extension '.mp4'; use .gif\n" in capsys.readouterr().err


def test_html_in_process(tmp_path, capsys):
    assert main(['demo', '--steps', '15', '--lr', '0.3', '--out', str(tmp_path/'fit.html')]) == 0
    assert capsys.readouterr().out.strip().endswith(f"wrote {tmp_path/'fit.html'}")
    assert (tmp_path/'fit.html').read_text().count('data:image/png;base64,') == 16


# Issue 20 §5: a bad flag is named as the user typed it, never as the library's argument
@pytest.mark.parametrize('argv, msg', [
    (['demo', '--lr', '-1'], '--lr -1.0 must be a positive, finite number such as 0.1'),
    (['demo', '--bs', '0'], '--bs 0 must be a positive whole number'),
    (['demo', '--bs', '-3'], '--bs -3 must be a positive whole number'),
    (['demo', '--steps', '-2'], '--steps -2 must be a positive whole number'),
    (['demo', '--seed', '99999999999999999999'], '--seed 99999999999999999999 is out of range; use a whole number'),
])
def test_errors_name_the_flag_the_user_typed(argv, msg, tmp_path, capsys):
    with pytest.raises(SystemExit) as e: main(argv + ['--out', str(tmp_path/'x.gif')])
    out, err = capsys.readouterr()
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and msg in err, err
    assert not any(w in err for w in ('lr=', 'bs=', 'steps=', 'seed=', 'DataLoader', 'Overflow')), err
    assert out == '' and list(tmp_path.iterdir()) == []


def test_divergence_names_the_lr_flag(tmp_path, capsys):
    with pytest.raises(SystemExit) as e: main(['demo', '--lr', '5', '--steps', '200', '--out', str(tmp_path/'x.gif')])
    err = capsys.readouterr().err
    assert e.value.code == 2 and 'with --lr 5.0' in err and 'e.g. --lr 0.5' in err and 'lr=' not in err, err
