"""A killed worker costs a few steps and changes nothing (issue 21 §4, the multi-process half): 2 gloo ranks under
`torchrun --max-restarts 1` with a `CheckpointCallback`; one worker is SIGKILLed mid-epoch (or rank 0 while it writes
the checkpoint), torchrun restarts the group, the fit resumes from the checkpoint, and the parameters and the History
equal the run that was never killed, bit for bit. Each run has a timeout, and no process of it is left behind."""
import os
from functools import partial
import pytest
import torch
from sgdlab.distributed import run_distributed
from test_distributed_faults import HEAD, _nothing_left, time_limit  # noqa: F401 (an autouse fixture: 150 s a test)

# argv: folder, who dies ('none', 'rank1' at the start of step `at`, 'write': rank 0 inside the save after step `at`)
SCRIPT = HEAD + r'''
import signal, torch
from functools import partial
from torch import nn
from sgdlab import Callback, CheckpointCallback, Learner, SGD, linear_data, one_cycle
from sgdlab.distributed import init_distributed, world
init_distributed('gloo', timeout=30)
rank, _ = world()
who, at, attempt = sys.argv[2], int(sys.argv[3]), int(os.environ['TORCHELASTIC_RESTART_COUNT'])
ck = f"{d}/ck.pt"

def die(): os.kill(os.getpid(), signal.SIGKILL)
class Kill(Callback):
    order = 49   # just before CheckpointCallback's after_batch
    def before_batch(self, learn):
        if who == 'rank1' and rank == 1 and attempt == 0 and learn.step == at: die()
    def after_batch(self, learn):
        if who == 'write' and rank == 0 and attempt == 0 and learn.step == at:
            real = os.fsync   # rank 0 dies after writing the temporary file, before renaming it into place
            os.fsync = lambda fd: die() if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).endswith('.tmp.pt') \
                else real(fd)
class Steps(Callback):
    def after_batch(self, learn): open(f"{d}/steps{rank}_{attempt}", 'a').write(f"{learn.step}\n")

x, y = linear_data(200, seed=0)
net, g = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0)), torch.Generator().manual_seed(0)
with torch.no_grad():
    for p in net.parameters(): p.uniform_(-1, 1, generator=g)
learn = Learner(net, x, y, lr=one_cycle(0.1), bs=20, seed=0, opt_func=partial(SGD, mom=0.9),
                cbs=[CheckpointCallback(ck, every=4), Kill(), Steps()])
h = learn.fit(3, resume=ck if os.path.exists(ck) else None)   # 10 steps an epoch, 30 in all
torch.save(dict(params=[p.detach() for p in net.parameters()], loss=h.loss, lrs=h.lrs, steps_per_epoch=h.steps_per_epoch),
           f"{d}/rank{rank}.pt")
torch.distributed.destroy_process_group()   # a rank that exits without it may abort in gloo's destructor
'''

def _run(d, who, at):
    (d/'s.py').write_text(SCRIPT)
    run_distributed(d/'s.py', nprocs=2, args=(d, who, at), timeout=120, echo=False, torchrun_args=('--max-restarts', '1'))
    _nothing_left(d, 3 if who == 'none' else 5)   # torchrun and 2 workers, and 2 more after a restart
    return [torch.load(d/f'rank{r}.pt') for r in range(2)]

def _steps(d, rank, attempt) -> list[int]:
    f = d/f'steps{rank}_{attempt}'
    return [int(s) for s in f.read_text().split()] if f.exists() else []

@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    d = tmp_path_factory.mktemp('whole')
    return _run(d, 'none', -1), _steps(d, 0, 0)

def _same(a, b):
    assert a['loss'] == b['loss'] and a['lrs'] == b['lrs']
    assert len(a['params']) == len(b['params']) and all(torch.equal(p, q) for p, q in zip(a['params'], b['params']))

@pytest.mark.parametrize('who, at, saved', [('rank1', 13, 12),    # epoch 2, step 13: the save after step 11 is kept
                                            ('rank1', 6, 4),      # epoch 1
                                            ('write', 7, 4)])     # rank 0 dies writing the save after step 7
def test_a_killed_worker_changes_nothing(tmp_path, uninterrupted, who, at, saved):
    (whole, whole_steps) = uninterrupted
    assert whole_steps == list(range(30))
    outs = _run(tmp_path, who, at)
    for o in outs: _same(o, whole[0])               # parameters, losses, lrs: bit for bit, on both ranks
    assert len(outs[0]['loss']) == 30                # no step duplicated or missing in the History
    first, second = _steps(tmp_path, 0, 0), _steps(tmp_path, 0, 1)
    assert first == list(range(at + (who == 'write')))   # what ran before the kill (rank 0 finished step `at`)
    assert second == list(range(saved, 30))          # the restart resumed from the last whole checkpoint
    recomputed = len(first) - saved
    assert recomputed == (at - saved + (who == 'write')) and recomputed < 4 + 1   # at most `every` steps
    assert not list(tmp_path.glob('.ck.*.tmp.pt'))   # the torn save's temporary file was removed
