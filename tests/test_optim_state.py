"Optimizer.load_state_dict checks what torch.optim checks (issue 20 §3), side by side with torch."
from functools import partial
import pytest, torch
from sgdlab import SGD, Adam

def params(n, dtype=torch.float32): return [torch.ones(2, dtype=dtype, requires_grad=True) for _ in range(n)]
def stepped(make, ps):
    opt = make(ps)
    sum((p * torch.arange(1., 3., dtype=p.dtype)).sum() for p in ps).backward(); opt.step(); opt.zero_grad()
    return opt

def test_another_number_of_parameters_is_refused_as_torch_does():
    sd_t = stepped(partial(torch.optim.Adam, lr=0.1), params(2)).state_dict()
    sd_s = stepped(partial(Adam, lr=0.1), params(2)).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        torch.optim.Adam(params(3), lr=0.1).load_state_dict(sd_t)
    with pytest.raises(ValueError, match='optimizer of 2 parameters, but this optimizer has 3 parameters'):
        Adam(params(3), lr=0.1).load_state_dict(sd_s)

def test_state_is_cast_to_the_parameters_dtype_but_not_step_as_torch_does():
    sd_t = stepped(partial(torch.optim.Adam, lr=0.1), params(1)).state_dict()
    sd_s = stepped(partial(Adam, lr=0.1), params(1)).state_dict()
    pt, ps = params(1, torch.float64), params(1, torch.float64)
    ot, os_ = torch.optim.Adam(pt, lr=0.1), Adam(ps, lr=0.1)
    ot.load_state_dict(sd_t); os_.load_state_dict(sd_s)
    st, ss = ot.state[pt[0]], os_.state[ps[0]]
    assert st['exp_avg'].dtype == ss['grad_avg'].dtype == ss['sqr_avg'].dtype == torch.float64
    assert st['step'].dtype == torch.float32 and ss['step'] == 1  # the step count is kept as it was saved
    assert torch.equal(ss['grad_avg'], sd_s['state'][0]['grad_avg'].double())
    for p in pt + ps: p.sum().backward()
    ot.step(); os_.step()
    assert torch.equal(pt[0], ps[0])  # and the next step is torch's, in float64

def test_a_state_saved_without_n_params_still_loads():
    sd = stepped(partial(SGD, lr=0.1, mom=0.9), params(2)).state_dict()
    del sd['n_params']  # saved before the count was kept: still loads when it fits
    opt = SGD(params(2), lr=0.5, mom=0.9); opt.load_state_dict(sd)
    assert opt.lr == 0.1 and torch.equal(opt.state[opt.params[1]]['grad_avg'], torch.tensor([1., 2.]))

@pytest.mark.parametrize('bad', [{'state': [1], 'hypers': {'lr': 0.1}}, {'state': {0: 3}, 'hypers': {'lr': 0.1}},
                                 {'state': {}, 'hypers': None}, {'state': {}, 'hypers': {'lr': .1}, 'n_params': '2'}])
def test_a_corrupt_state_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match='the state_dict is corrupt'): SGD(params(1), lr=0.1).load_state_dict(bad)

def test_a_torch_state_dict_is_named():
    sd = torch.optim.SGD(params(1), lr=0.1).state_dict()
    with pytest.raises(ValueError, match="torch.optim optimizer's state_dict"): SGD(params(1), lr=0.1).load_state_dict(sd)
