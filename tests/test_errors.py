"""Errors that blame the right thing (issue 20 §5): dtypes, a non-finite validation loss, a metric that raises,
History files that are not a History. Every case runs the real call and checks what the message names, and what
it must not blame."""
import math, traceback
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from sgdlab import Callback, DivergenceError, History, Recorder, fit, linear_data, mse

X, Y = linear_data(20, seed=0)

def message(e: BaseException) -> str: return ' '.join([str(e), *getattr(e, '__notes__', [])])

def fit_error(*args, **kw) -> BaseException:
    with pytest.raises(Exception) as e: fit(*args, **kw)
    return e.value

# --- dtypes: name the tensor that is actually wrong ----------------------------------------------------------

def test_embedding_with_int32_labels_is_told_to_convert_y():
    "The inputs of an nn.Embedding are integers by design; the int32 class labels are what cross_entropy refuses"
    torch.manual_seed(0)
    x, y = torch.randint(0, 10, (20,)), torch.randint(0, 3, (20,), dtype=torch.int32)
    e = fit_error(nn.Embedding(10, 3), x, y, lr=0.1, loss_func=F.cross_entropy)
    assert isinstance(e, TypeError) and 'y.long()' in str(e) and 'torch.int32' in str(e)
    assert 'convert x' not in str(e) and 'x.float()' not in str(e)

def test_a_float64_model_fed_float32_data():
    "The data is already float: the advice is to match the dtypes, not to call .float() on it"
    e = fit_error(nn.Linear(2, 1).double(), X, Y[:, None], lr=0.1)
    assert isinstance(e, TypeError)
    assert 'x.double()' in str(e) and 'model.float()' in str(e) and 'x.float()' not in str(e)

def test_a_float32_model_fed_float64_data():
    e = fit_error(nn.Linear(2, 1), X.double(), Y[:, None], lr=0.1)
    assert isinstance(e, TypeError) and 'x.float()' in str(e) and 'model.double()' in str(e)

def test_integer_inputs_to_a_linear_model():
    e = fit_error(nn.Linear(2, 1), X.long(), Y[:, None], lr=0.1)
    assert isinstance(e, TypeError) and 'x holds integers (torch.int64)' in str(e) and 'x.float()' in str(e)

def test_float_indices_into_an_embedding():
    e = fit_error(nn.Embedding(10, 3), torch.arange(20.) % 10, torch.arange(20) % 3, lr=0.1, loss_func=F.cross_entropy)
    assert isinstance(e, TypeError) and 'x.long()' in str(e) and 'indices' in str(e)

def test_integer_targets_for_a_float_loss():
    "binary_cross_entropy_with_logits cannot write into y's int64: y is named, with the predictions' dtype"
    model = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    e = fit_error(model, X, (Y > 0).long(), lr=0.1, loss_func=F.binary_cross_entropy_with_logits)
    assert isinstance(e, TypeError) and 'y is torch.int64' in str(e) and 'y.float()' in str(e)
    assert 'convert x' not in str(e)

class Raises(Callback):
    "A callback whose own error mentions a dtype; it is not fit's arguments' fault"
    def after_loss(self, learn): raise RuntimeError('my callback wants target dtype Float')

def test_a_dtype_message_from_elsewhere_is_left_alone():
    "Only a diagnosed error is rewritten: one from a callback reaches the user as it was"
    torch.manual_seed(0)
    e = fit_error(nn.Embedding(10, 1), torch.arange(20) % 10, torch.zeros(20, 1), lr=0.1, cbs=[Raises()])
    assert type(e) is RuntimeError and str(e) == 'my callback wants target dtype Float'

# --- a non-finite validation loss is not the lr's fault --------------------------------------------------------

def test_a_nan_validation_loss_with_finite_training_does_not_blame_the_lr():
    xv = X.clone(); xv[3, 0] = 1e30   # finite, but the prediction's square overflows
    e = fit_error(nn.Linear(2, 1), X, Y[:, None], lr=0.1, valid=(xv, Y[:, None]))
    assert isinstance(e, DivergenceError) and 'validation loss after epoch 0' in str(e)
    assert 'not to blame' in str(e) and 'validation rows' in str(e)
    assert 'smaller learning rate' not in str(e) and 'overshot' not in str(e)
    assert all(math.isfinite(v) for v in e.hist.loss)

def test_a_diverging_training_loss_still_blames_the_lr():
    e = fit_error(nn.Linear(2, 1), X * 100, Y[:, None], lr=10., epochs=30)
    assert isinstance(e, DivergenceError) and 'smaller learning rate' in str(e)

# --- a metric that raises keeps its exception --------------------------------------------------------------------

def my_metric(preds, targs): return 1 / 0

def test_a_metric_that_raises_keeps_its_type_and_traceback():
    e = fit_error(nn.Linear(2, 1), X, Y[:, None], lr=0.1, valid=(X, Y[:, None]), metrics=[my_metric])
    assert isinstance(e, ZeroDivisionError)
    assert "metric 'my_metric'" in message(e)
    frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
    if e.__cause__ is not None: frames += [f.name for f in traceback.extract_tb(e.__cause__.__traceback__)]
    assert 'my_metric' in frames

def test_a_metric_error_with_required_arguments():
    "An exception class whose constructor needs several arguments keeps its type too"
    def decode(preds, targs): return b'\xff'.decode('utf-8')
    e = fit_error(nn.Linear(2, 1), X, Y[:, None], lr=0.1, valid=(X, Y[:, None]), metrics=[decode])
    assert isinstance(e, (UnicodeDecodeError, RuntimeError)) and "metric 'decode'" in message(e)

# --- History files ---------------------------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    a = nn.Parameter(torch.zeros(2))
    h = fit(lambda x: x@a, X, Y, params=[a], lr=0.1, epochs=3, valid=(X, Y))
    return h, h.save(tmp_path/'h.pt')

def test_load_a_state_dict(tmp_path):
    torch.save(nn.Linear(2, 1).state_dict(), tmp_path/'m.pt')
    with pytest.raises(ValueError) as e: History.load(tmp_path/'m.pt')
    for w in ('is not a History', "['weight', 'bias']", 'load_state_dict', 'hist.save(path)'): assert w in str(e.value)

@pytest.mark.parametrize('content', [b'hello', b'', bytes(range(256)) * 10])
def test_load_a_file_torch_cannot_read(tmp_path, content):
    (tmp_path/'f').write_bytes(content)
    with pytest.raises(ValueError) as e: History.load(tmp_path/'f')
    assert 'is not a History' in str(e.value) and 'hist.save(path)' in str(e.value)

def test_load_a_pickled_history(tmp_path, saved):
    h, _ = saved
    torch.save(h, tmp_path/'p.pt')
    with pytest.raises(ValueError) as e: History.load(tmp_path/'p.pt')
    assert 'torch.save(hist)' in str(e.value) and 'weights_only=False).save(path)' in str(e.value)
    torch.load(tmp_path/'p.pt', weights_only=False).save(tmp_path/'p.pt')   # the conversion the message gives
    assert History.load(tmp_path/'p.pt').loss == h.loss

def test_load_a_newer_history(tmp_path, saved):
    _, path = saved
    torch.save({**torch.load(path), 'grad_norms': [1., 2., 3.]}, tmp_path/'n.pt')
    with pytest.raises(ValueError) as e: History.load(tmp_path/'n.pt')
    assert "['grad_norms']" in str(e.value) and 'newer sgdlab' in str(e.value)

@pytest.mark.parametrize('obj, words', [({}, "without the 'loss'"), ([1., 2.], 'a list'), (torch.ones(3), 'shape (3,)'),
                                        ({'loss': torch.ones(3)}, 'not a list'), ({'loss': [1.], 'params': 3}, 'not a valid')])
def test_load_other_things(tmp_path, obj, words):
    torch.save(obj, tmp_path/'o.pt')
    with pytest.raises(ValueError, match='History.load') as e: History.load(tmp_path/'o.pt')
    assert words in str(e.value)

def test_load_an_older_history_without_a_newer_field(tmp_path, saved):
    h, path = saved
    d = torch.load(path); del d['lrs'], d['stopped']
    torch.save(d, tmp_path/'old.pt')
    h2 = History.load(tmp_path/'old.pt')
    assert h2.loss == h.loss and h2.valid_loss == h.valid_loss and h2.lrs == [] and h2.stopped is None

def test_load_a_missing_file_is_the_os_error(tmp_path):
    with pytest.raises(FileNotFoundError): History.load(tmp_path/'nope.pt')

@pytest.mark.parametrize('i, err, words', [(5, IndexError, 'i=5 is out of range: this History records 2 parameters, so i is 0 to 1'),
                                          (-3, IndexError, 'i=-3'), (1.0, TypeError, 'i=1.0'), ('0', TypeError, "i='0'"),
                                          (True, TypeError, 'i=True')])
def test_path_of_a_parameter_that_is_not_there(i, err, words):
    a, b = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(1))
    h = fit(lambda x: x@a + b, X, Y, params=[a, b], lr=0.1, epochs=2)
    with pytest.raises(err) as e: h.path(i)
    assert words in str(e.value)
    assert torch.equal(h.path(-1), h.path(1)) and h.path(1).shape == (2, 1)

def test_a_thinned_history_survives_save_and_load(tmp_path):
    "Snapshots thinned to every 4th step: the steps they belong to come back with them, not renumbered 0, 1, 2"
    a = nn.Parameter(torch.zeros(2))
    h = fit(lambda x: x@a, X, Y, params=[a], lr=0.1, bs=5, seed=0, epochs=4, cbs=[Recorder(None, max_snapshots=4)])
    assert h.param_steps == [0, 4, 8, 12] and len(h.loss) == 16
    h2 = History.load(h.save(tmp_path/'t.pt'))
    assert h2.param_steps == [0, 4, 8, 12] and h2.loss == h.loss and h2.steps_per_epoch == 4 and h2.bs == 5
    assert torch.equal(h2.path(0), h.path(0)) and torch.equal(h2.final_params[0], a.detach())
    assert h2.epoch_loss == h.epoch_loss

@pytest.mark.parametrize('path', [None, 3, ['h.pt']])
def test_save_and_load_need_a_file_name(path):
    with pytest.raises(TypeError, match=r"History.save: path=.* must be a file name"): History(loss=[1.]).save(path)
    with pytest.raises(TypeError, match=r"History.load: path=.* must be a file name"): History.load(path)

# --- devices: the model or the loss, whichever holds the stray tensor (the meta device stands in for a GPU) -----

def test_a_stray_tensor_in_the_model():
    a, b = nn.Parameter(torch.zeros(2)), torch.zeros(1, device='meta')
    e = fit_error(lambda x: x@a + b, X, Y, params=[a], lr=0.1)
    assert isinstance(e, RuntimeError) and str(e).startswith('fit: model(x) mixes devices') and "to('cpu')" in str(e)

def test_a_stray_tensor_in_the_loss_is_not_blamed_on_the_model():
    w = torch.ones(1, device='meta')
    def weighted(preds, targs): return ((preds - targs)**2 * w).mean()
    e = fit_error(nn.Linear(2, 1), X, Y[:, None], lr=0.1, loss_func=weighted)
    assert isinstance(e, RuntimeError) and str(e).startswith("fit: loss_func 'weighted' mixes devices")
    assert 'model(x)' not in str(e) and 'the loss uses a tensor on another device' in str(e)

class StrayDevice(Callback):
    def after_loss(self, learn): learn.xb + torch.ones_like(learn.xb, device='meta')

def test_a_device_error_from_a_callback_is_left_alone():
    e = fit_error(nn.Linear(2, 1), X, Y[:, None], lr=0.1, cbs=[StrayDevice()])
    assert type(e) is RuntimeError and not str(e).startswith('fit:')

# --- non-finite data: the message names the row, and the column only where there is one ---------------------------

def test_fit_names_the_row_of_a_nan_in_y():
    y = Y.clone(); y[1] = math.nan
    with pytest.raises(ValueError) as e: fit(nn.Linear(2, 1), X, y, lr=0.1)
    assert str(e.value) == "fit: y holds a non-finite value (nan) at row 1; remove or fix those rows before training"

def test_fit_names_the_row_and_column_of_an_inf_in_x():
    x = X.clone(); x[3, 1] = -math.inf
    with pytest.raises(ValueError, match=r"x holds a non-finite value \(-inf\) at row 3, column 1;"):
        fit(nn.Linear(2, 1), x, Y[:, None], lr=0.1)

# --- errors of the model's or the loss's own, which merely mention a dtype or a device, are left as they are ------

def raiser(msg):
    def f(*args): raise RuntimeError(msg)
    return f

@pytest.mark.parametrize('model, x, loss, msg', [
    ('raises', X.double(), mse, 'my model has a dtype Float problem'),        # names the parameters' dtype only
    ('raises', X, mse, 'my model has a target dtype Float problem'),          # 'target' and y's dtype, in the model
    ('casts', X.double(), 'raises', 'my loss wants dtype Float, not Double'),  # x's and the parameters' dtypes, in the loss
    ('raises', X, mse, 'my model device is busy'),                            # 'device', but no mix-up of devices
])
def test_a_models_or_losss_own_dtype_or_device_message_is_left_alone(model, x, loss, msg):
    a = nn.Parameter(torch.zeros(2))
    model = raiser(msg) if model == 'raises' else (lambda x: x.float() @ a)
    e = fit_error(model, x, Y, params=[a], lr=0.1, loss_func=raiser(msg) if loss == 'raises' else loss)
    assert type(e) is RuntimeError and str(e) == msg

@pytest.mark.parametrize('valid, n', [([X, Y, Y, Y], 4), (X, 1), (5, 1), ((X,), 1), ((X, Y, Y), 3)])
def test_fit_counts_the_items_of_a_valid_that_is_not_a_pair(valid, n):
    with pytest.raises(ValueError, match=rf"valid= must be a pair \(x_valid, y_valid\); got {n} items?$"):
        fit(nn.Linear(2, 1), X, Y[:, None], lr=0.1, valid=valid)

def test_load_names_at_most_five_keys_and_tells_a_state_dict_from_other_dicts(tmp_path):
    torch.save({k: torch.ones(1) for k in 'abcdef'}, tmp_path/'six.pt')
    with pytest.raises(ValueError, match=r"a dict of 6 tensors with keys \['a', 'b', 'c', 'd', 'e'\]: a model's state_dict"):
        History.load(tmp_path/'six.pt')
    torch.save({'w': torch.ones(1), 'epoch': 3}, tmp_path/'mixed.pt')
    with pytest.raises(ValueError, match=r"a dict with keys \['w', 'epoch'\], without the 'loss'") as e:
        History.load(tmp_path/'mixed.pt')
    assert 'state_dict' not in str(e.value)
