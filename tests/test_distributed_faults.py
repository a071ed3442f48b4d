"Faults under torchrun (issue 21): run_distributed ends on time, names the rank still running, and leaves no process"
import datetime, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch.distributed as dist
from sgdlab.distributed import init_distributed, run_distributed

# Each rank writes its pid, torchrun's pid (its parent) and any child's pid to `pids<rank>` in the folder argv[1].
HEAD = r'''
import os, subprocess, sys, time
rank, d = os.environ['RANK'], sys.argv[1]
def note(*pids): open(f"{d}/pids{rank}", 'a').write(' '.join(map(str, pids)) + '\n')
note(os.getpid(), os.getppid())
'''
# Rank 1 hangs, with a child in a session of its own (which torchrun does not stop); rank 0 ends at once.
HANG = HEAD + r'''
if rank == '1':
    note(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True).pid)
    time.sleep(300)
'''
# Rank 1 hangs; rank 0 waits for it in a collective, which would wait 60 s.
HANG_IN_COLLECTIVE = HEAD + r'''
import torch, torch.distributed as dist
from sgdlab.distributed import init_distributed
init_distributed('gloo', timeout=60)
if rank == '1': time.sleep(300)
dist.all_reduce(torch.ones(1))
'''
# Rank 1 hangs outside any collective; rank 0 waits for it in one, with a collective timeout of 3 s.
HUNG_PEER = HEAD + r'''
import torch, torch.distributed as dist
from sgdlab.distributed import init_distributed
init_distributed('gloo', timeout=3)
if rank == '1': time.sleep(300)
dist.all_reduce(torch.ones(1))
'''
# Rank 1 leaves (exit code argv[2]) before the collective that rank 0 waits in.
EARLY = HEAD + r'''
import torch, torch.distributed as dist
from sgdlab.distributed import init_distributed
init_distributed('gloo', timeout=60)
if rank == '1': sys.exit(int(sys.argv[2]))
dist.all_reduce(torch.ones(1))
'''
GARBAGE = HEAD + r'''
sys.stdout.buffer.write(b'rank ' + rank.encode() + b' says \xff\xfe\xc3(\n'); sys.stdout.flush()
print(f'rank {rank} done', flush=True)
'''
SLOW = HEAD + r'''
print(f'rank {rank} started', flush=True)
time.sleep(300)
'''

@pytest.fixture(autouse=True)
def time_limit():
    "Every test here ends within 150 s, even if run_distributed itself hung (SIGALRM raises in the main thread)"
    def alarm(*_): raise TimeoutError("test_distributed_faults: the test ran past its 150 s limit")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(150)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)

def _alive(pid: int) -> bool:
    "Is `pid` a running process (not a zombie, which has ended and only waits to be reaped)?"
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False

def _pids(d: Path) -> set[int]:
    "Every pid the ranks noted: the workers, torchrun, their children"
    return {int(p) for f in d.glob('pids*') for p in f.read_text().split()}

def _children(pid: int) -> list[int]:
    "The running processes whose parent is `pid`"
    out = []
    for d in filter(str.isdigit, os.listdir('/proc')):
        try: f = Path(f'/proc/{d}/stat').read_text().rsplit(')', 1)[1].split()
        except OSError: continue
        if int(f[1]) == pid and f[0] != 'Z': out.append(int(d))
    return out

def _run(tmp_path, src, *args, timeout=60., **kw):
    "run_distributed on `src`; returns (its result or the exception it raised, seconds it took)"
    (tmp_path/'s.py').write_text(src)
    t = time.perf_counter()
    try: res = run_distributed(tmp_path/'s.py', args=(tmp_path, *args), timeout=timeout, echo=False, **kw)
    except Exception as e: res = e
    return res, time.perf_counter() - t

def _nothing_left(tmp_path, n):
    "The run's processes (`n` noted pids at least) have all ended, and this process has no child left"
    pids = _pids(tmp_path)
    assert len(pids) >= n, pids
    assert [p for p in pids if _alive(p)] == []
    assert _children(os.getpid()) == []

pytestmark = pytest.mark.skipif(not os.path.isdir('/proc'), reason="the leftover checks read /proc (Linux)")

def test_a_hung_rank_is_stopped_at_the_timeout_and_named(tmp_path):
    err, took = _run(tmp_path, HANG, timeout=5)
    assert isinstance(err, TimeoutError), err
    assert 'after 5 s, with rank 1 of 2 still running; stopped torchrun and every process it started' in str(err)
    assert 5 <= took < 5 + 15, took        # 5 s, then torchrun's shutdown (before: until the sleeper woke)
    _nothing_left(tmp_path, 4)             # 2 workers, torchrun, rank 1's child in a session of its own

def test_a_rank_hung_in_a_collective_keeps_both_ranks_running(tmp_path):
    err, took = _run(tmp_path, HANG_IN_COLLECTIVE, timeout=8)
    assert isinstance(err, TimeoutError), err
    assert 'with ranks 0, 1 of 2 still running' in str(err)
    assert took < 8 + 15, took
    _nothing_left(tmp_path, 3)

def test_a_hung_peer_fails_the_collective_at_its_timeout(tmp_path):
    "init_distributed's timeout reaches the process group: rank 0 gives up after 3 s, not run_distributed's 60 s"
    err, took = _run(tmp_path, HUNG_PEER, timeout=60)
    assert isinstance(err, RuntimeError), err
    assert 'failed (exit code 1) with [rank0]: ' in str(err) and 'Timed out waiting 3000ms' in str(err), err
    assert 3 < took < 3 + 30, took         # the collective's 3 s and the start-up; torchrun then stops rank 1
    _nothing_left(tmp_path, 3)

def test_the_default_collective_timeout_is_a_minute(monkeypatch):
    "Without `timeout=`, init_distributed asks torch for a process group that waits 60 s (torch's own: 30 min)"
    seen = {}
    monkeypatch.setattr(dist, 'is_initialized', lambda: False)
    monkeypatch.setattr(dist, 'init_process_group', lambda backend, timeout, **kw: seen.update(b=backend, t=timeout))
    init_distributed('gloo')
    assert seen == dict(b='gloo', t=datetime.timedelta(seconds=60))

@pytest.mark.parametrize('code', [0, 3])
def test_a_rank_that_exits_early_fails_the_run_quickly(tmp_path, code):
    err, took = _run(tmp_path, EARLY, code, timeout=60)
    assert isinstance(err, RuntimeError), err   # rank 0's collective fails: its peer closed the connection
    assert 'failed (exit code 1)' in str(err) and 'Connection closed by peer' in str(err)
    assert took < 40, took                 # not the collective's 60 s
    _nothing_left(tmp_path, 3)

def test_garbage_bytes_on_stdout_are_replaced_not_fatal(tmp_path):
    res, took = _run(tmp_path, GARBAGE)
    assert res.returncode == 0, res
    assert 'rank 1 says \ufffd\ufffd\ufffd(' in res.stdout and 'rank 0 done' in res.stdout
    _nothing_left(tmp_path, 3)

def test_an_error_while_echoing_stops_everything(tmp_path, monkeypatch):
    class Broken:
        def write(self, s):
            if 'rank 1 started' in s: raise OSError("the notebook's output went away")
        def flush(self): pass
    monkeypatch.setattr(sys, 'stdout', Broken())
    (tmp_path/'s.py').write_text(SLOW)
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"watching .* failed with OSError: the notebook's output went away, with "
                                           r"ranks? .*still running; stopped torchrun and every process it started"):
        run_distributed(tmp_path/'s.py', args=(tmp_path,), timeout=60)
    assert time.perf_counter() - t < 40
    _nothing_left(tmp_path, 2)             # rank 1 and torchrun at least (rank 0 may not have noted its pid yet)

CALLER = r'''
import sys
from sgdlab.distributed import run_distributed
run_distributed(sys.argv[1], args=(sys.argv[2],), timeout=120, echo=False)
'''

@pytest.mark.parametrize('to_group', [False, True])
def test_ctrl_c_to_the_caller_stops_everything(tmp_path, to_group):
    "SIGINT to the calling Python (`to_group`: to its whole process group, as a terminal's Ctrl-C does)"
    (tmp_path/'s.py').write_text(SLOW)
    caller = subprocess.Popen([sys.executable, '-c', CALLER, str(tmp_path/'s.py'), str(tmp_path)],
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for _ in range(600):                # both ranks have started
            if len(_pids(tmp_path)) == 3: break
            time.sleep(0.1)
        assert len(_pids(tmp_path)) == 3
        t = time.perf_counter()
        if to_group: os.killpg(caller.pid, signal.SIGINT)
        else: caller.send_signal(signal.SIGINT)
        _, err = caller.communicate(timeout=60)
        took = time.perf_counter() - t
    finally:
        if caller.poll() is None: os.killpg(caller.pid, signal.SIGKILL); caller.wait()
    assert caller.returncode != 0
    assert ('KeyboardInterrupt: run_distributed: interrupted with ranks 0, 1 of 2 still running; '
            'stopped torchrun and every process it started') in err
    assert took < 15, took
    _nothing_left(tmp_path, 3)

@pytest.mark.parametrize('kw, msg', [(dict(nprocs=0), 'nprocs=0 must be a whole number of processes, at least 1'),
                                     (dict(nprocs=1.5), 'nprocs=1.5 must be'), (dict(nprocs=True), 'nprocs=True'),
                                     (dict(timeout=0), 'timeout=0 must be a positive number of seconds'),
                                     (dict(timeout=-1), 'timeout=-1 must be'), (dict(timeout=float('nan')), 'nan')])
def test_bad_arguments_are_refused(tmp_path, kw, msg):
    (tmp_path/'s.py').write_text('')
    with pytest.raises(ValueError, match=msg): run_distributed(tmp_path/'s.py', echo=False, **kw)

@pytest.mark.skipif(__import__('torch').cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_nccl_without_cuda_says_so():
    from sgdlab.distributed import init_distributed
    with pytest.raises(RuntimeError, match="backend='nccl' needs CUDA GPUs.*use backend='gloo'"): init_distributed('nccl')


def test_the_store_variable_is_set_only_for_runs_that_restart(monkeypatch):
    "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 only when torchrun_args ask for restarts; other runs keep torchrun's default"
    from sgdlab.distributed import _env, _restarts
    monkeypatch.delenv('TORCH_DISABLE_SHARE_RDZV_TCP_STORE', raising=False)
    asks = [('--max-restarts', '1'), ('--max_restarts=2',), ('--max-restarts', '0'), (), ('--nnodes', '2'),
            ('--max-restarts',)]
    assert [_restarts(a) for a in asks] == [True, True, False, False, False, False]
    assert 'TORCH_DISABLE_SHARE_RDZV_TCP_STORE' not in _env(False)
    assert _env(True)['TORCH_DISABLE_SHARE_RDZV_TCP_STORE'] == '1'
    monkeypatch.setenv('TORCH_DISABLE_SHARE_RDZV_TCP_STORE', '0')       # a user's own choice is kept
    assert _env(True)['TORCH_DISABLE_SHARE_RDZV_TCP_STORE'] == '0'
