"""The shape of the library (issue 24): modules import each other in one direction only, and every method is defined
where its class is. Both checks read the source with `ast`, so they see imports inside functions too."""
import ast, sys
from pathlib import Path
import pytest

PKG = Path(__file__).resolve().parents[1]/'sgdlab'

# The layering, bottom to top (tests/README.md, "The modules"). A module may import only modules of LOWER layers;
# the bottom layer imports no sgdlab module at all. A new module must be given a layer here.
LAYERS = [
    ['_modidx', 'data', 'files', 'losses', 'optim', 'ranks', 'callback',   # the base: no sgdlab imports
     'noise_scale'],
    ['dataloader', 'history', 'mnist', 'zero', 'accumulate'],
    ['checks'],                 # fit's input checks and error explanations
    ['default_callbacks'],      # the callbacks every Learner starts with
    ['learner'],                # the loop, and fit
    ['callbacks', 'schedule', 'viz', 'distributed', 'exercises', 'explore'],
    ['anim',                    # replays a History with viz's drawing helpers
     'checkpoint',              # saves and restores a fit; reuses callbacks' weight helpers
     'exercises_lesson1', 'exercises_lesson2', 'exercises_lesson3', 'exercises_lesson4',  # register with exercises
     'exercises_lesson5'],
    ['cli'],
    ['__init__'],               # the package: imports everything; nothing may import it
]
LAYER = {m: i for i, ms in enumerate(LAYERS) for m in ms}

def _modules() -> list[str]: return sorted(p.stem for p in PKG.glob('*.py'))

def _imports(name: str) -> set[str]:
    "The sgdlab modules that module `name` imports, anywhere in it (the package itself is '__init__')"
    mods, out = set(_modules()), set()
    for node in ast.walk(ast.parse((PKG/f'{name}.py').read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: base = node.module            # from .x import y, or from . import x
            elif node.level == 0 and node.module and node.module.split('.')[0] == 'sgdlab':
                base = node.module[len('sgdlab.'):] or None
            else: continue
            if base is None:                                   # from . import x / from sgdlab import x
                out.add('__init__')
                out |= {a.name for a in node.names if a.name in mods}
            else: out.add(base.split('.')[0])
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split('.')
                if parts[0] == 'sgdlab': out.add(parts[1] if len(parts) > 1 else '__init__')
    return out - {name}

def _graph() -> dict[str, set[str]]: return {m: _imports(m) for m in _modules()}

def _cycle(graph: dict[str, set[str]]) -> list[str]|None:
    "One import cycle of `graph` as a list of modules (the first repeated at the end), or None"
    state, stack = {}, []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 'open': return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)): return c
        state[m] = 'done'; stack.pop()
        return None
    for m in sorted(graph):
        if m not in state and (c := visit(m)): return c
    return None

def test_cycle_finder_finds_cycles():
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert _cycle({'a': {'b'}, 'b': set(), 'c': {'a', 'b'}}) is None

def test_import_walker_sees_every_kind_of_import(tmp_path, monkeypatch):
    src = ("from .a import x\nfrom sgdlab.b import y\nimport sgdlab.c\nfrom . import d\n"
           "def f():\n    from sgdlab import e\n    import sgdlab\n")
    for n in 'abcde': (tmp_path/f'{n}.py').write_text('')
    (tmp_path/'m.py').write_text(src)
    monkeypatch.setattr(sys.modules[__name__], 'PKG', tmp_path)
    assert _imports('m') == {'a', 'b', 'c', 'd', 'e', '__init__'}

def test_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, f"sgdlab's modules import each other in a circle: {' -> '.join(cycle)}"

def test_every_module_has_a_layer():
    assert not (missing := sorted(set(_modules()) - set(LAYER))), \
        f"give {missing} a layer in LAYERS (tests/test_structure.py): the lowest one above everything it imports"
    assert len(LAYER) == sum(map(len, LAYERS)), "a module is listed in two layers"

@pytest.mark.parametrize('name', _modules())
def test_imports_go_down_the_layers(name):
    if name not in LAYER: pytest.skip('no layer (test_every_module_has_a_layer fails)')
    up = sorted(m for m in _imports(name) if LAYER.get(m, -1) >= LAYER[name])
    assert not up, (f"sgdlab.{name} (layer {LAYER[name]}) imports {up}, which are not below it: move what it needs "
                    "down a layer, or let the lower module offer a hook (as `default_cbs` lets distributed register)")

def test_base_modules_import_no_sgdlab_module():
    for name in LAYERS[0]: assert not _imports(name), (name, _imports(name))

def test_the_learner_never_imports_distributed_code():
    "Issue 24 §2: data-parallel training registers itself in default_cbs; the learner does not know about it"
    for name in ('learner', 'callback', 'default_callbacks', 'callbacks'):
        reached, todo = set(), [name]
        while todo:
            for n in _imports(todo.pop()) - reached: reached.add(n); todo.append(n)
        assert 'distributed' not in reached, f"sgdlab.{name} imports sgdlab.distributed, directly or not"

# --- methods are defined in their class -------------------------------------------------------------------

# Exceptions to the rule, each with its reason (none today); test_known_assignments_still_exist keeps them honest.
KNOWN: dict[tuple[str, str], set[str]] = {}

def _classes() -> set[str]:
    "Names of the classes that sgdlab's modules define at their top level"
    trees = [ast.parse((PKG/f'{m}.py').read_text()) for m in _modules()]
    return {n.name for t in trees for n in t.body if isinstance(n, ast.ClassDef)}

def _is_function(node, defs: set[str]) -> bool:
    "Whether the value `node` is a function: a lambda, a def of this module, or staticmethod/classmethod/property(...)"
    if isinstance(node, ast.Lambda): return True
    if isinstance(node, ast.Name): return node.id in defs
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in ('staticmethod', 'classmethod', 'property') or node.func.id in defs
    if isinstance(node, (ast.Tuple, ast.List)): return any(_is_function(e, defs) for e in node.elts)
    return False

def _attached(name: str) -> list[tuple[str, str, int]]:
    "(class, attribute, line) for each function that module `name` attaches to an sgdlab class after its definition"
    tree, classes = ast.parse((PKG/f'{name}.py').read_text()), _classes()
    defs = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign): pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            pairs = [(node.target, node.value)]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'setattr'
              and len(node.args) == 3 and isinstance(node.args[1], ast.Constant)):
            t = ast.Attribute(value=node.args[0], attr=node.args[1].value)
            pairs = [(t, node.args[2])]
            ast.copy_location(t, node)
        else: continue
        for target, value in pairs:
            targets = target.elts if isinstance(target, ast.Tuple) else [target]
            same = isinstance(value, ast.Tuple) and len(value.elts) == len(targets)
            values = value.elts if same else [value] * len(targets)
            for t, v in zip(targets, values):
                if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in classes
                        and _is_function(v, defs)):
                    found.append((t.value.id, t.attr, node.lineno))
    return found

def test_attachment_finder_finds_attachments(tmp_path, monkeypatch):
    (tmp_path/'m.py').write_text("class A:\n    def f(self): pass\n\ndef _g(self): pass\ndef _h(x): pass\n"
                                 "A.g, A.h = _g, staticmethod(_h)\nA.k = lambda self: 1\nA.n = 3\n"
                                 "setattr(A, 'j', _g)\nf = _g\n")
    monkeypatch.setattr(sys.modules[__name__], 'PKG', tmp_path)
    assert sorted((c, a) for c, a, _ in _attached('m')) == [('A', 'g'), ('A', 'h'), ('A', 'j'), ('A', 'k')]

@pytest.mark.parametrize('name', _modules())
def test_no_method_attached_after_its_class(name):
    "Issue 24 §3: `Learner.fit = _fit` hides `fit` from a reader of the class; define it in the class body"
    bad = [(c, a, l) for c, a, l in _attached(name) if a not in KNOWN.get((name, c), set())]
    assert not bad, (f"sgdlab/{name}.py attaches functions to classes after defining them: "
                     + ', '.join(f'{c}.{a} (line {l})' for c, a, l in bad) + "; define them in the class body")

def test_known_assignments_still_exist():
    "An entry in KNOWN that no longer matches anything must go, so that the exception cannot quietly outlive its cause"
    for (name, cls), attrs in KNOWN.items():
        found = {a for c, a, _ in _attached(name) if c == cls}
        assert attrs <= found, f"{name}.{cls}: {sorted(attrs - found)} are no longer attached; remove them from KNOWN"

# ------------------------------------------------------------------------------------------ line length (issue 24 §4)
MAX_LINE = 120
NBS = PKG.parent/'nbs'

def _long(lines, where: str) -> list[str]:
    "The lines longer than MAX_LINE, as 'where:line: length', skipping the one-line `__all__` nbdev-export writes"
    return [f'{where}:{i}: {len(l)} chars' for i, l in enumerate(lines, 1)
            if len(l) > MAX_LINE and not l.startswith('__all__ = [')]

def test_library_lines_fit_in_120_characters():
    "Every line of sgdlab/ (but the generated index _modidx.py) fits the site's code width and a side-by-side diff."
    bad = [b for p in sorted(PKG.glob('*.py')) if p.name != '_modidx.py'
           for b in _long(p.read_text().splitlines(), p.name)]
    assert not bad, 'lines over 120 characters; move long messages into a named constant or wrap them:\n' + '\n'.join(bad)

def test_notebook_code_lines_fit_in_120_characters():
    "Every code cell of every notebook: what a learner reads first, and what exports to sgdlab/."
    import json
    bad = []
    for p in sorted(NBS.glob('*.ipynb')):
        for k, c in enumerate(json.loads(p.read_text())['cells']):
            if c['cell_type'] == 'code': bad += _long(''.join(c['source']).splitlines(), f'{p.name} cell {k}')
    assert not bad, 'code lines over 120 characters:\n' + '\n'.join(bad)

def test_the_line_check_can_fail():
    "The checker flags a 121-character line and lets nbdev's `__all__` line through."
    assert _long(['x' * 121, 'y' * 120, '__all__ = [' + 'z' * 200], 'f') == ['f:1: 121 chars']
