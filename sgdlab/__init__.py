__version__ = "0.0.1"

# nbdev-export keeps `__version__` and the package docstring up to date; these re-exports are
# the one hand-kept part (as in nbdev's own __init__). tests/test_api.py fails if a module's
# `__all__` is not importable from `sgdlab`.
from .data import *
from .files import *
from .losses import *
from .optim import *
from .dataloader import *
from .ranks import *
from .history import *
from .checks import *
from .callback import *
from .default_callbacks import *
from .learner import *
from .callbacks import *
from .checkpoint import *
from .schedule import *
from .mnist import *
from .exercises import *
from .exercises_lesson1 import *
from .exercises_lesson2 import *
from .exercises_lesson3 import *
from .exercises_lesson4 import *
from .exercises_lesson5 import *
# imported last, and always: importing it registers DataParallel among the callbacks every Learner starts with
from .distributed import *
from .explore import *
from .noise_scale import *
from .zero import *
from .accumulate import *

# Plots and animations import matplotlib, which takes longer to load than the rest of sgdlab, so `import sgdlab` does
# not import `sgdlab.viz` or `sgdlab.anim`: their names load on first use (PEP 562). tests/test_viz.py checks this list
# against the two modules' __all__.
_LAZY = {**{name: 'viz' for name in ('to_np', 'plot_function', 'plot_fit', 'loss_surface')},
         **{name: 'anim' for name in ('ANIM_FORMATS', 'check_anim_path', 'FitAnimation', 'animate_fit', 'animate_loss',
                                      'save_anim')}}

def __getattr__(name: str):
    "Import the module that defines a lazy name on first use, then keep the name here"
    if name not in _LAZY: raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module
    obj = globals()[name] = getattr(import_module(f'.{_LAZY[name]}', __name__), name)
    return obj

def __dir__() -> list[str]: return sorted(set(globals()) | set(_LAZY))

# `from sgdlab import *` gives every module's public names (loading the lazy ones), not the submodules themselves
from types import ModuleType as _ModuleType
__all__ = [n for n, o in list(globals().items())
           if not n.startswith('_') and not isinstance(o, _ModuleType)] + list(_LAZY)
