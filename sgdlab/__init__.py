__version__ = "0.0.1"

# nbdev-export keeps `__version__` and the package docstring up to date; these re-exports are
# the one hand-kept part (as in nbdev's own __init__). tests/test_api.py fails if a module's
# `__all__` is not importable from `sgdlab`.
from .data import *
from .files import *
from .losses import *
from .optim import *
from .dataloader import *
from .learner import *
from .callbacks import *
from .mnist import *
from .viz import *
