"""The text of every notebook: no control characters in markdown (issue 22 §2). A LaTeX formula written inside an
ordinary Python string loses its backslashes (`\\text` becomes a TAB and `ext`, `\\frac` a form feed and `rac`,
`\\approx` a BEL and `pprox`), and the math silently stops rendering; this catches it in any notebook."""
import base64, io, json, unicodedata
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)


def control_chars(text: str) -> list[tuple[int, str]]:
    "(line number, character name) of each control character in `text` other than the newline"
    found = []
    for i, line in enumerate(text.split('\n'), 1):
        found += [(i, unicodedata.name(ch, f'U+{ord(ch):04X}')) for ch in line if unicodedata.category(ch) == 'Cc']
        if line.startswith('rac{'): found.append((i, 'a line starting `rac{`: the form feed of a `\\frac`, split'))
    return found


def test_control_chars_are_found():
    "The checker itself: the three characters that `\\text`, `\\frac` and `\\approx` turn into, and nothing else"
    eaten = '$$\text{lr} = \frac{2}{3} \approx 0.7$$\nok'          # written without r'': \t, \f and \a
    assert [c for _, c in control_chars(eaten)] == ['U+0009', 'U+000C', 'U+0007']
    assert control_chars('$$\\text{lr} = \\frac{2}{3} \\approx 0.7$$\nline two, with ✔ and κ') == []
    assert len(control_chars('$$x = \nrac{2}{3}$$')) == 1   # how `\frac` looks once the notebook is saved


def test_there_are_notebooks(): assert len(NBS) >= 10


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_markdown_has_no_control_characters(nb):
    cells = json.loads(nb.read_text())['cells']
    bad = {f"cell {i} ({c.get('id')}), line {line}": ch for i, c in enumerate(cells) if c['cell_type'] == 'markdown'
           for line, ch in control_chars(''.join(c['source']))}
    assert not bad, f"{nb.name}: control characters in markdown (a formula written in a Python string?): {bad}"


LESSONS_1_TO_3 = ['10_sgd_from_scratch.ipynb', '11_mnist_basics.ipynb', '12_accelerated_sgd.ipynb']

@pytest.mark.parametrize('name', LESSONS_1_TO_3)
def test_lesson_figures_are_readable(name):
    "Issue 22 §2: every saved figure in lessons 1-3 is at least 320 px wide (lesson 2's mean 3 / mean 7 was 252)"
    from PIL import Image
    cells = json.loads((ROOT/'nbs'/name).read_text())['cells']
    widths = {c['id']: Image.open(io.BytesIO(base64.b64decode(o['data']['image/png']))).size[0]
              for c in cells for o in c.get('outputs', []) if 'image/png' in o.get('data', {})}
    assert widths and not {k: w for k, w in widths.items() if w < 320}, f"{name}: figures under 320 px: {widths}"
