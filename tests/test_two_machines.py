"""Two machines, on one machine (issue 21 §3): two torchrun launchers, `--nnodes 2` with one process each, meet at a
c10d rendezvous on 127.0.0.1 as two machines would at the first one's address. The run equals the single-launcher
2-process run bit for bit, and the 1-process run to float rounding; it has a timeout and leaves no process behind."""
import socket, subprocess, sys, time
import pytest
import torch
from torch import nn
from sgdlab import fit, linear_data
from sgdlab.distributed import run_distributed, _env, _restarts, _stop, _Tree
from test_distributed_faults import HEAD, _nothing_left, time_limit  # noqa: F401 (an autouse fixture: 150 s a test)

COMMON = r'''
import torch
from torch import nn
from sgdlab import fit, linear_data
def train():
    "101 rows at bs=10, shuffled: the last global batch has 1 row, so one rank gets none"
    x, y = linear_data(101, seed=0)
    a = nn.Parameter(torch.tensor([0., -1.]))
    h = fit(lambda xb: xb@a, x, y, params=[a], lr=0.3, bs=10, seed=1, epochs=3)
    return dict(params=a.detach(), loss=h.loss)
'''
SCRIPT = HEAD + COMMON + r'''
import torch.distributed as dist
from sgdlab.distributed import init_distributed, world
init_distributed('gloo', timeout=30)
out = dict(train(), world=world(), node=int(os.environ['GROUP_RANK']))
torch.save(out, f"{d}/rank{world()[0]}.pt")
dist.destroy_process_group()
'''

# The same training, with a checkpoint every 5 steps; rank 1 kills itself at step 17 of the first attempt.
KILLED = HEAD + COMMON + r'''
import signal, torch.distributed as dist
from sgdlab import Callback, CheckpointCallback, Learner
from sgdlab.distributed import init_distributed, world
init_distributed('gloo', timeout=30)
attempt = int(os.environ['TORCHELASTIC_RESTART_COUNT'])
class Kill(Callback):
    first = None                            # the first step this process computes
    def before_batch(self, learn):
        if self.first is None: self.first = learn.step
        if world()[0] == 1 and attempt == 0 and learn.step == 17: os.kill(os.getpid(), signal.SIGKILL)
kill = Kill()
x, y = linear_data(101, seed=0)
a = nn.Parameter(torch.tensor([0., -1.]))
ck = f"{d}/ck.pt"
learn = Learner(lambda xb: xb@a, x, y, params=[a], lr=0.3, bs=10, seed=1, cbs=[CheckpointCallback(ck, every=5), kill])
h = learn.fit(3, resume=ck if os.path.exists(ck) else None)
torch.save(dict(params=a.detach(), loss=h.loss, attempt=attempt, first=kill.first), f"{d}/rank{world()[0]}.pt")
dist.destroy_process_group()
'''

def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def two_launchers(script, d, timeout=90., extra: tuple = ()) -> list[int]:
    "What you would type on two machines, here on one: the rendezvous address is the first machine's (127.0.0.1)"
    port, ps = _free_port(), []
    for node in (0, 1):
        cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes=2', '--nproc-per-node=1', *extra,
               '--rdzv-backend=c10d', f'--rdzv-endpoint=127.0.0.1:{port}', '--rdzv-id=two-machines',
               str(script), str(d)]                     # no --node-rank: the c10d rendezvous numbers the nodes
        log = open(d/f'node{node}.log', 'w')
        ps.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env(_restarts(extra)),
                                   start_new_session=True))
    trees, end = [_Tree(p.pid) for p in ps], time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in ps) and time.monotonic() < end:
            for t in trees: t.scan()
            time.sleep(0.1)
    finally:
        left = [pid for p, t in zip(ps, trees) for pid in _stop(p, t)]   # on time: nothing to stop; late: everything
    assert not left, left
    assert time.monotonic() < end, f"the two launchers were still running after {timeout} s"
    return [p.returncode for p in ps]

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    two, one = tmp_path_factory.mktemp('two_nodes'), tmp_path_factory.mktemp('one_node')
    for d in (two, one): (d/'s.py').write_text(SCRIPT)
    rcs = two_launchers(two/'s.py', two)
    assert rcs == [0, 0], [(two/f'node{n}.log').read_text()[-2000:] for n in (0, 1)]
    _nothing_left(two, 4)                   # 2 launchers, 1 worker each
    run_distributed(one/'s.py', nprocs=2, args=(one,), timeout=90, echo=False)
    _nothing_left(one, 3)
    ns = {}
    exec(COMMON, ns)
    return [torch.load(two/f'rank{r}.pt') for r in range(2)], [torch.load(one/f'rank{r}.pt') for r in range(2)], ns['train']()

def test_two_launchers_make_one_world_of_two_machines(runs):
    two, _, _ = runs
    assert [o['world'] for o in two] == [(0, 2), (1, 2)]
    assert sorted(o['node'] for o in two) == [0, 1]        # one rank on each "machine"

def test_two_machines_equal_one_machine_bit_for_bit(runs):
    two, one, _ = runs
    for a, b in zip(two, one):
        assert a['loss'] == b['loss'] and torch.equal(a['params'], b['params'])

def test_two_machines_equal_one_process(runs):
    two, _, single = runs
    assert len(two[0]['loss']) == len(single['loss']) == 33
    assert max(abs(u - v) for u, v in zip(two[0]['loss'], single['loss'])) < 1e-6
    torch.testing.assert_close(two[0]['params'], single['params'], atol=1e-6, rtol=0)

def test_two_machines_survive_a_killed_worker(tmp_path, runs):
    "Both launchers with --max-restarts 1: rank 1 dies at step 17, the group restarts, resumes, and ends bit for bit"
    two, _, _ = runs
    (tmp_path/'k.py').write_text(KILLED)
    rcs = two_launchers(tmp_path/'k.py', tmp_path, timeout=120., extra=('--max-restarts=1',))
    assert rcs == [0, 0], [(tmp_path/f'node{n}.log').read_text()[-2000:] for n in (0, 1)]
    _nothing_left(tmp_path, 6)              # 2 launchers, 2 workers killed or stopped, 2 restarted
    killed = [torch.load(tmp_path/f'rank{r}.pt') for r in range(2)]
    assert [o['first'] for o in killed] == [15, 15]                    # both restarted, resumed after step 14
    # the killed rank's launcher counts a failure; the other one may restart for the new rendezvous without counting
    assert killed[1]['attempt'] == 1 and killed[0]['attempt'] in (0, 1)
    for a, b in zip(killed, two): assert a['loss'] == b['loss'] and torch.equal(a['params'], b['params'])
