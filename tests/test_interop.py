"Mixing sgdlab with PyTorch (issue 20 §4): schedules on torch.optim optimizers, side by side with sgdlab's own."
import math
import pytest
import torch
from torch import nn
from sgdlab import SGD, Adam, RMSProp, ParamScheduler, fit, linear_data, sched_cos, sched_lin, sched_no

X, Y = linear_data(40, seed=1)

def _fit(opt_func, scheds, steps=6, bs=8):
    "Fit a line with `opt_func` and `ParamScheduler(scheds)`; return the parameters at the end"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    fit(lambda x: x@a, X, Y, params=[a], lr=0.05, steps=steps, bs=bs, seed=0, opt_func=opt_func,
        cbs=[ParamScheduler(scheds)])
    return a.detach()

def _by_hand(opt, scheds, steps=6, bs=8):
    "The same fit as a hand-written torch loop that sets each param group's entry itself: the meaning of each name"
    from sgdlab import DataLoader
    a = opt.param_groups[0]['params'][0]
    dl = DataLoader((X, Y), bs=bs, shuffle=True, seed=0)
    batches = [b for _ in range(math.ceil(steps / len(dl))) for b in dl][:steps]
    for i, (xb, yb) in enumerate(batches):
        for g in opt.param_groups: scheds(g, i / steps)
        ((xb@a - yb)**2).mean().backward(); opt.step(); opt.zero_grad()
    return a.detach()

def _start(): return [nn.Parameter(torch.tensor([-1., 1.]))]

MOM, SQR, WD = sched_cos(0.95, 0.85), sched_lin(0.99, 0.9), sched_lin(0., 0.1)

def _set(key, f, i=None):
    "A function that sets `g[key]` (or its element `i`) of a param group from schedule `f`"
    def set_(g, pos):
        v = f(pos)
        g[key] = v if i is None else tuple(v if j == i else b for j, b in enumerate(g[key]))
    return set_

CASES = {  # name: (torch optimizer, its sgdlab twin, the schedules, how a torch user would set them by hand)
    'Adam mom -> betas[0]': (torch.optim.Adam, Adam, {'mom': MOM}, [_set('betas', MOM, 0)]),
    'Adam sqr_mom -> betas[1], wd, eps': (torch.optim.Adam, Adam, {'sqr_mom': SQR, 'wd': WD, 'eps': sched_no(1e-3, 1e-3)},
                                          [_set('betas', SQR, 1), _set('weight_decay', WD), _set('eps', sched_no(1e-3, 1e-3))]),
    'AdamW mom, wd': (torch.optim.AdamW, lambda ps, lr: Adam(ps, lr=lr, decouple_wd=True), {'mom': MOM, 'wd': WD},
                      [_set('betas', MOM, 0), _set('weight_decay', WD)]),
    'SGD mom -> momentum, wd': (torch.optim.SGD, SGD, {'mom': sched_lin(0.9, 0.5), 'wd': WD},
                                [_set('momentum', sched_lin(0.9, 0.5)), _set('weight_decay', WD)]),
    'RMSprop mom -> momentum, sqr_mom -> alpha': (torch.optim.RMSprop, RMSProp, {'mom': MOM, 'sqr_mom': SQR},
                                                 [_set('momentum', MOM), _set('alpha', SQR)]),
}

@pytest.mark.parametrize('case', CASES)
def test_schedule_names_map_onto_torch_optimizers(case):
    "sgdlab's names set torch's real hyper-parameters: the same numbers as the hand-written loop and as sgdlab's twin"
    theirs, ours, scheds, setters = CASES[case]
    got = _fit(theirs, scheds)
    want = _by_hand(theirs(_start(), lr=0.05), lambda g, pos: [s(g, pos) for s in setters])
    assert torch.equal(got, want), (got, want)
    assert torch.equal(_fit(ours, scheds), got)
    assert not torch.equal(got, _fit(theirs, {'lr': sched_no(0.05, 0.05)}))  # the schedules did change something

def test_no_stray_keys_in_torch_param_groups():
    "`mom` on Adam sets betas[0] and adds no unused `momentum` entry"
    class Grab(ParamScheduler):
        def after_fit(self, learn): self.groups = learn.opt.param_groups
    cb = Grab({'mom': sched_no(0.8, 0.8)})
    a = nn.Parameter(torch.tensor([-1., 1.]))
    fit(lambda x: x@a, X, Y, params=[a], lr=0.05, steps=2, opt_func=torch.optim.Adam, cbs=[cb])
    g = cb.groups[0]
    assert 'momentum' not in g and 'mom' not in g and g['betas'] == (0.8, 0.999)

@pytest.mark.parametrize('opt, name, has', [
    (torch.optim.Adam, 'mmo', 'lr, mom (betas[0]), sqr_mom (betas[1]), wd (weight_decay), eps'),
    (torch.optim.Adam, 'momentum', 'mom (betas[0])'),
    (torch.optim.SGD, 'sqr_mom', 'lr, mom (momentum), wd (weight_decay)'),
    (torch.optim.SGD, 'eps', 'lr, mom (momentum), wd (weight_decay)'),
    (torch.optim.Adagrad, 'mom', 'lr, wd (weight_decay), eps'),
])
def test_names_a_torch_optimizer_lacks_are_refused(opt, name, has):
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises(ValueError) as e:
        fit(lambda x: x@a, X, Y, params=[a], lr=0.05, steps=2, opt_func=opt, cbs=[ParamScheduler({name: sched_no(0.5, 0.5)})])
    msg = str(e.value)
    assert f"{opt.__name__} has no hyper-parameter {name!r}" in msg and has in msg, msg
    assert torch.equal(a.detach(), torch.tensor([-1., 1.])), "refused before the first step"

def test_sgdlab_optimizers_refuse_unknown_names_too():
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises((ValueError, AttributeError), match="'mmo' is not a hyper-parameter"):
        fit(lambda x: x@a, X, Y, params=[a], lr=0.05, steps=2, opt_func=Adam, cbs=[ParamScheduler({'mmo': sched_no(0.5, 0.5)})])

@pytest.mark.parametrize('opt', [torch.optim.Adam, torch.optim.SGD, Adam, SGD])
def test_scheduled_values_are_checked_on_torch_optimizers_too(opt):
    "A schedule that leaves a hyper-parameter's range is refused, whichever optimizer it drives (torch checks only at build)"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises(ValueError, match=r'mom=1\.2 must be a number in \[0, 1\)'):
        fit(lambda x: x@a, X, Y, params=[a], lr=0.05, steps=2, opt_func=opt, cbs=[ParamScheduler({'mom': sched_no(1.2, 1.2)})])

# --- a schedule may start (or end) at 0, as torch allows lr=0; a constant lr of 0 given to fit is refused ----------

from sgdlab import combine_scheds, check_hyper, Learner

@pytest.mark.parametrize('ours, theirs', [(SGD, torch.optim.SGD), (Adam, torch.optim.Adam), (RMSProp, torch.optim.RMSprop)])
def test_lr_zero_is_accepted_by_optimizers_as_by_torch(ours, theirs):
    "lr=0 builds and steps without moving anything, like torch.optim; a negative lr is refused by both"
    ps, qs = _start(), _start()
    o, t = ours(ps, lr=0.), theirs(qs, lr=0.)
    for p in ps + qs: p.grad = torch.ones_like(p)
    o.step(); t.step()
    assert torch.equal(ps[0].detach(), torch.tensor([-1., 1.])) and torch.equal(qs[0].detach(), torch.tensor([-1., 1.]))
    o.lr = 0.  # and a schedule may set it
    with pytest.raises(ValueError, match='lr=-0.1 must be'): ours(_start(), lr=-0.1)
    with pytest.raises(ValueError): theirs(_start(), lr=-0.1)

WARM = combine_scheds([0.25, 0.75], [sched_lin(0., 0.1), sched_cos(0.1, 0.)])  # the docs' warm-up, from 0 and back

@pytest.mark.parametrize('opt', [SGD, Adam, torch.optim.SGD, torch.optim.Adam])
def test_a_schedule_may_start_at_zero(opt):
    "The warm-up from 0 trains, with the same numbers as a torch loop that sets the same rates by hand"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, X, Y, params=[a], lr=WARM, steps=8, bs=8, seed=0, opt_func=opt)
    assert hist.lrs[0] == 0. and hist.lrs[2] == pytest.approx(0.1) and len(hist.loss) == 8
    assert hist.params[1][0].equal(torch.tensor([-1., 1.]))  # the first step, at lr 0, moved nothing
    theirs = {SGD: torch.optim.SGD, Adam: torch.optim.Adam}.get(opt, opt)
    want = _by_hand(theirs(_start(), lr=0.), lambda g, pos: g.__setitem__('lr', WARM(pos)), steps=8)
    assert torch.equal(a.detach(), want)

@pytest.mark.parametrize('lr', [0, 0., -0.1, math.nan])
@pytest.mark.parametrize('opt', [SGD, torch.optim.SGD])
def test_a_constant_lr_that_cannot_train_is_refused_by_fit(lr, opt):
    "fit(lr=0) would return a History of a model that never moved: refused, with the way to warm up from 0"
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises(ValueError, match=rf'fit: lr={lr!r} must be a positive, finite number') as e:
        Learner(lambda x: x@a, X, Y, params=[a], lr=lr, opt_func=opt)
    assert ('sched_lin(0.' in str(e.value)) == (lr == 0)

# --- one_cycle(moms=...) cycles momentum as fastai's fit_one_cycle and torch's OneCycleLR do ----------------------

from sgdlab import one_cycle, Callback

def _torch_one_cycle(opt_cls, steps, pct):
    "The momentum (betas[0] or momentum) that torch's OneCycleLR sets before each of `steps` steps"
    opt = opt_cls(_start(), lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps, pct_start=pct)  # 0.95, 0.85
    key = 'betas' if 'betas' in opt.param_groups[0] else 'momentum'
    out = []
    for _ in range(steps):
        g = opt.param_groups[0]; out.append(g[key][0] if key == 'betas' else g[key])
        opt.step(); sched.step()
    return out

@pytest.mark.parametrize('opt_cls', [torch.optim.SGD, torch.optim.Adam])
def test_one_cycle_momentum_has_torch_one_cycle_lr_shape(opt_cls):
    """The same cosine from 0.95 down to 0.85 and back. torch counts a phase's steps from 0 to its last step, we count
    the fraction of training done, so torch's step i is our pos p*i/e1 in the warm-up (e1 = p*T - 1, its last step)
    and p + (1-p)*(i-e1)/(T-1-e1) after it; at those positions the values agree"""
    T, p = 20, 0.3
    want = _torch_one_cycle(opt_cls, T, p)
    mom = one_cycle(0.1, pct_start=p, moms=(0.95, 0.85, 0.95)).scheds['mom']
    e1 = p * T - 1
    pos = [p * i / e1 if i <= e1 else p + (1 - p) * (i - e1) / (T - 1 - e1) for i in range(T)]
    assert [mom(q) for q in pos] == pytest.approx(want, abs=1e-12)
    assert (want[0], min(want), want[-1]) == pytest.approx((0.95, 0.85, 0.95))

class _Moms(Callback):
    order = 0  # after the ParamScheduler
    def before_fit(self, learn): self.moms = []
    def before_batch(self, learn):
        g = learn.opt.param_groups[0] if hasattr(learn.opt, 'param_groups') else None
        self.moms.append(learn.opt.mom if g is None else g['betas'][0] if 'betas' in g else g['momentum'])

@pytest.mark.parametrize('opt', [Adam, SGD, torch.optim.Adam, torch.optim.SGD])
def test_fit_with_one_cycle_moms_sets_momentum_each_step(opt):
    oc = one_cycle(0.1, moms=(0.95, 0.85, 0.95))
    a, cb = nn.Parameter(torch.tensor([-1., 1.])), _Moms()
    hist = fit(lambda x: x@a, X, Y, params=[a], lr=oc, steps=8, bs=5, seed=0, opt_func=opt, cbs=[cb])
    assert cb.moms == pytest.approx([oc.scheds['mom'](i / 8) for i in range(8)]) and cb.moms[2] == pytest.approx(0.85)
    assert hist.lrs == pytest.approx([oc(i / 8) for i in range(8)])

def test_one_cycle_leaves_momentum_alone_by_default():
    "Opt-in, unlike fastai: sgdlab's default optimizer is plain SGD, which cycling would turn into momentum SGD"
    assert not hasattr(one_cycle(0.1), 'scheds')
    a, cb = nn.Parameter(torch.tensor([-1., 1.])), _Moms()
    fit(lambda x: x@a, X, Y, params=[a], lr=one_cycle(0.1), steps=4, opt_func=SGD, cbs=[cb])
    assert cb.moms == [0.] * 4

@pytest.mark.parametrize('moms, words', [((0.95, 0.85), 'three'), ((0.95, 1.2, 0.95), 'mom=1.2'), (0.9, 'three'),
                                         (('a', 0.85, 0.95), "mom='a'")])
def test_one_cycle_refuses_bad_moms(moms, words):
    with pytest.raises(ValueError, match='one_cycle: moms=') as e: one_cycle(0.1, moms=moms)
    assert words in str(e.value)

def test_one_cycle_moms_on_an_optimizer_without_momentum_is_refused():
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises(ValueError, match="Adagrad has no hyper-parameter 'mom'"):
        fit(lambda x: x@a, X, Y, params=[a], lr=one_cycle(0.1, moms=(0.95, 0.85, 0.95)), steps=2, opt_func=torch.optim.Adagrad)

def test_a_paramscheduler_without_lr_still_follows_fits_lr_schedule():
    "A ParamScheduler of one's own (for `mom`) replaces the default one, but not the lr schedule given as `lr=`"
    oc, mom = one_cycle(0.1), sched_cos(0.95, 0.85)
    a, cb = nn.Parameter(torch.tensor([-1., 1.])), _Moms()
    hist = fit(lambda x: x@a, X, Y, params=[a], lr=oc, steps=8, bs=5, seed=0, cbs=[ParamScheduler({'mom': mom}), cb])
    assert hist.lrs == pytest.approx([oc(i / 8) for i in range(8)])
    assert cb.moms == pytest.approx([mom(i / 8) for i in range(8)])

# --- fit on torch's DataLoader, and a validation set in batches ------------------------------------------------------

from torch.utils.data import DataLoader as TorchDL, TensorDataset, IterableDataset
from sgdlab import DataLoader, mae

def test_fit_takes_torch_dataloader_same_as_sgdlab_batches():
    "torch's DataLoader over the same rows, unshuffled, trains to the same numbers as sgdlab's"
    def run(dl):
        a = nn.Parameter(torch.tensor([-1., 1.]))
        return fit(lambda x: x@a, dl, params=[a], lr=0.05, epochs=2)
    theirs, ours = run(TorchDL(TensorDataset(X, Y), batch_size=16)), run(DataLoader((X, Y), bs=16))
    assert theirs.loss == ours.loss and len(theirs.loss) == 6 and theirs.steps_per_epoch == 3

def test_fit_takes_any_sized_iterable_of_batches():
    class Batches:
        def __len__(self): return 2
        def __iter__(self): return iter([(X[:20], Y[:20]), (X[20:], Y[20:])])
    a = nn.Parameter(torch.tensor([-1., 1.]))
    assert len(fit(lambda x: x@a, Batches(), params=[a], lr=0.05, epochs=3).loss) == 6

@pytest.mark.parametrize('make, words', [
    (lambda: TorchDL(TensorDataset(X), batch_size=8), ['batch 0', '1 item', '(xb, yb)']),
    (lambda: iter([(X, Y)]), ['no length', "torch's DataLoader"]),
    (lambda: TorchDL(TensorDataset(X[:0], Y[:0]), batch_size=8), ['no batches']),
    (lambda: TorchDL([{'x': x, 'y': y} for x, y in zip(X, Y)], batch_size=8), ['batch 0 of x is a dict', '(xb, yb)']),
])
def test_bad_loaders_are_refused_clearly(make, words):
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises((ValueError, TypeError)) as e: fit(lambda x: x@a, make(), params=[a], lr=0.05)
    assert all(w in str(e.value) for w in words), str(e.value)

def test_y_missing_names_torch_dataloader():
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises(ValueError, match="torch's DataLoader"): fit(lambda x: x@a, X, params=[a], lr=0.05)

@pytest.mark.parametrize('valid', [lambda: TorchDL(TensorDataset(X, Y), batch_size=16),   # 16, 16, 8 rows
                                   lambda: DataLoader((X, Y), bs=16), lambda: DataLoader((X, Y), bs=7, shuffle=True, seed=3)])
def test_validation_in_batches_is_the_mean_over_rows(valid):
    "The loss and metrics of a validation set in batches of uneven size: the one-pass values (a mean of batch means is not)"
    def run(v):
        a = nn.Parameter(torch.tensor([-1., 1.]))
        return fit(lambda x: x@a, X, Y, params=[a], lr=0.05, epochs=2, valid=v, metrics=[mae])
    got, want = run(valid()), run((X, Y))
    assert got.valid_loss == pytest.approx(want.valid_loss, rel=1e-6) and len(got.valid_loss) == 2
    assert got.metrics['mae'] == pytest.approx(want.metrics['mae'], rel=1e-6)
    a = torch.tensor([-1., 1.]); per_batch = [((X[i:i+16]@a - Y[i:i+16])**2).mean().item() for i in (0, 16, 32)]
    assert abs(sum(per_batch) / 3 - ((X@a - Y)**2).mean().item()) > 1e-3  # so a plain mean of batch means would fail

def test_validation_loader_is_not_moved_or_consumed_up_front():
    "A validation DataLoader is read batch by batch each epoch, so it need not fit in memory"
    seen = []
    class Counting(IterableDataset):
        def __iter__(self):
            seen.append(1)
            return iter(zip(X, Y))
    a = nn.Parameter(torch.tensor([-1., 1.]))
    hist = fit(lambda x: x@a, X, Y, params=[a], lr=0.05, epochs=3, valid=TorchDL(Counting(), batch_size=8))
    assert len(seen) == 3 and len(hist.valid_loss) == 3

# --- a fit on torch's shuffling DataLoader resumes from its checkpoint exactly, given a generator ---------------------

from sgdlab import CheckpointCallback, CancelFitException

def test_resume_on_torch_dataloader_with_a_generator_is_exact(tmp_path):
    "The loader's generator is saved before each epoch draws its order, as for sgdlab's DataLoader"
    class StopAt(Callback):
        def before_batch(self, learn):
            if learn.step == 13: raise CancelFitException
    def learner():
        a = nn.Parameter(torch.tensor([-1., 1.]))
        dl = TorchDL(TensorDataset(X, Y), batch_size=7, shuffle=True, generator=torch.Generator().manual_seed(0))
        return a, Learner(lambda x: x@a, dl, params=[a], lr=0.05)
    ck = tmp_path/'ck.pt'
    a, l = learner(); want = l.fit(4).loss, a.detach().clone()
    a, l = learner(); l.add_cbs([CheckpointCallback(ck, 5), StopAt()]); l.fit(4)
    a, l = learner(); l.add_cb(CheckpointCallback(ck, 5)); got = l.fit(4, resume=ck).loss, a.detach()
    assert got[0] == want[0] and torch.equal(got[1], want[1])


def test_a_dataloader_fit_records_its_batch_size():
    "A fit on a DataLoader (torch's or sgdlab's) records the loader's batch size, not None, which means full batch"
    from torch.utils.data import DataLoader as TorchDL, TensorDataset
    from sgdlab import DataLoader
    for dl in (TorchDL(TensorDataset(X, Y), batch_size=5), DataLoader((X, Y), bs=5)):
        a = nn.Parameter(torch.tensor([-1., 1.]))
        hist = fit(lambda x: x@a, dl, params=[a], lr=0.1, steps=2)
        assert hist.bs == 5 and 'bs=5' in repr(hist)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    assert fit(lambda x: x@a, X, Y, params=[a], lr=0.1, steps=2).bs is None   # full batch
