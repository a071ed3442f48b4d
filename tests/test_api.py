"The public API: everything each module exports is importable from `sgdlab`, and the library holds no global state."
import importlib, pkgutil, subprocess, sys
import torch
import sgdlab

MODULES = [m.name for m in pkgutil.iter_modules(sgdlab.__path__) if not m.name.startswith('_')]

def test_every_module_is_reexported():
    for name in MODULES:
        if name == 'cli': continue  # the console script's module, not part of the import-star API
        mod = importlib.import_module(f'sgdlab.{name}')
        missing = [o for o in mod.__all__ if getattr(sgdlab, o, None) is not getattr(mod, o)]
        assert not missing, f"sgdlab.{name} exports {missing}, which `from sgdlab import *` lacks: add `from .{name} import *` to sgdlab/__init__.py"

def test_core_names():
    for o in ['linear_data', 'quadratic_data', 'least_squares', 'mse', 'mae', 'rmse', 'sgd_step', 'SGD',
              'Optimizer', 'DataLoader', 'fit', 'History', 'DivergenceError']:
        assert hasattr(sgdlab, o), o

def test_import_leaves_global_rng_alone():
    code = "import torch; s = torch.get_rng_state(); import sgdlab; assert torch.equal(s, torch.get_rng_state())"
    subprocess.run([sys.executable, '-c', code], check=True)

def test_library_calls_leave_global_rng_alone():
    s = torch.get_rng_state()
    x, y = sgdlab.linear_data(50, seed=None)
    a = torch.zeros(2, requires_grad=True)
    sgdlab.fit(lambda x: x@a, x, y, params=[a], lr=0.1, epochs=3, bs=8)
    assert torch.equal(s, torch.get_rng_state())

def test_no_duplicate_definitions_across_modules():
    seen = {}
    for name in MODULES:
        for o in importlib.import_module(f'sgdlab.{name}').__all__:
            assert o not in seen, f"{o} is defined in both sgdlab.{seen[o]} and sgdlab.{name}"
            seen[o] = name

# A stepper's first three parameters are the stepper protocol's, documented once in `Optimizer`'s docstring
# (tests/test_optim.py checks that it documents them and that no stepper repeats them); a stepper comments only its own.
STEPPER_PROTOCOL = ('p', 'g', 'state')

def _undocumented(o):
    "Parameters of callable `o` (a class: its `__init__`, or its fields for a dataclass) that have no docment"
    import dataclasses, inspect
    from fastcore.docments import docments
    if inspect.isclass(o):
        init = o.__init__
        if not dataclasses.is_dataclass(o) and not hasattr(init, '__code__'): return []  # inherited from a builtin such as Exception
    try: sig = inspect.signature(o)
    except (ValueError, TypeError): return []
    ps = [k for k, v in sig.parameters.items()
          if k not in ('self', 'return') and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)]
    if ps[:3] == list(STEPPER_PROTOCOL): ps = ps[3:]  # a stepper: the protocol's arguments are documented once
    if not ps: return []
    d = docments(o)
    return [k for k in ps if not d.get(k)]

def test_every_public_parameter_has_a_docment():
    "Issue 17 §7: each argument of each public callable carries an inline comment, `def f(x, # what x is`"
    missing = {}
    for name in MODULES:
        mod = importlib.import_module(f'sgdlab.{name}')
        for o in mod.__all__:
            obj = getattr(mod, o)
            if not callable(obj): continue
            if (ps := _undocumented(obj)): missing[f'{name}.{o}'] = ps
    assert not missing, f"parameters without a docment (add `# what it is` after each, in the notebook): {missing}"
