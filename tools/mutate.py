"""Mutation testing: plant one-line bugs, one at a time, and count how many the tests catch (`make mutate`).

    python tools/mutate.py [--modules data losses ...] [--max-mutants 12] [--max-minutes 30] [--list]

Each mutant changes one line of an exported module, `sgdlab/<module>.py`, AND the same line in the notebook cell
it came from, because the notebook tests run the notebook's own definitions. The operators are the bugs people
write: a flipped sign or comparison, an off-by-one constant, a boundary moved (`<` to `<=`), swapped arguments,
a mixed-up index, `min`/`max`, `and`/`or`, and a deleted statement (the forgotten `zero_()`). A mutant is killed
when the module's unit tests (`pytest -x`, a fast subset) or its notebook (nbdev's `test_nb`) fail, or time out.

It works in a scratch copy of the tracked files (a temporary folder), never in the working tree. It is slow
(tens of seconds per mutant), so it is not part of CI: run it, niced, before calling a test-heavy change done.
The mutants are sampled with a fixed seed, so two runs on the same code plant the same bugs."""
from __future__ import annotations
import argparse, io, json, os, random, re, shutil, subprocess, sys, tempfile, time, tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module -> (notebook, pytest arguments: the unit tests that cover it)
_LEARN = ['tests/test_core.py', 'tests/test_values.py', 'tests/test_bad_inputs.py', 'tests/test_learner.py']
MODULES = {
    'data': ('00_data', ['tests/test_core.py', 'tests/test_bad_inputs.py',
                         '-k', 'linear_data or least_squares or quadratic or generator']),
    'losses': ('01_losses', ['tests/test_core.py', 'tests/test_bad_inputs.py',
                             '-k', 'loss or mse or mae or rmse or check_same_shape']),
    'files': ('01a_files', ['tests/test_bad_inputs.py', 'tests/test_files.py',
                            '-k', 'writable or atomic or save or files']),
    'optim': ('02_optim', ['tests/test_core.py', 'tests/test_values.py', 'tests/test_bad_inputs.py',
                           'tests/test_optim.py', '-k', 'sgd or SGD or optim or Optimizer or as_params or hypers or step']),
    'dataloader': ('03_dataloader', ['tests/test_core.py', 'tests/test_bad_inputs.py', 'tests/test_dataloader.py',
                                     '-k', 'dataloader or index or item_datasets or collate or minibatch']),
    # issue 24 split the learner into the five modules below and learner.py; each is tested through fit
    'ranks': ('03a_ranks', ['tests/test_bad_inputs.py', '-k', 'world or distributed']),
    'history': ('03b_history', [*_LEARN, 'tests/test_errors.py',
                                '-k', 'history or History or epoch_loss or save or diverg or load or path']),
    'checks': ('03c_checks', [*_LEARN, 'tests/test_errors.py', '-k', 'fit or learner or Learner or dtype or device '
                              'or metric or model or loss or integer or indices or targets or stray or validation']),
    'callback': ('03d_callback', [*_LEARN, '-k', 'callback or Callback or cancel or Cancel or learner']),
    'default_callbacks': ('03e_default_callbacks', [*_LEARN, 'tests/test_contracts.py',
                                                    '-k', 'fit or record or callback or learner or valid or mode']),
    'learner': ('04_learner', [*_LEARN, 'tests/test_checkpoint.py', 'tests/test_alignment.py', 'tests/test_fits.py',
                               'tests/test_contracts.py', 'tests/test_interop.py',
                               '-k', 'fit or history or epoch_loss or learner or callback or record or diverg or error '
                                     'or rank or resume or span or cancel or training or lr or mode']),
    'callbacks': ('04a_callbacks', ['tests/test_trackers.py', 'tests/test_learner.py', 'tests/test_bad_inputs.py',
                                    '-k', 'track or Track or Stopping or SaveModel or monitor or comp or min_delta or '
                                          'patience or epoch or best']),
    'schedule': ('08_schedule', ['tests/test_schedule_values.py', 'tests/test_interop.py', 'tests/test_alignment.py',
                                 'tests/test_fits.py', 'tests/test_bad_inputs.py',
                                 '-k', 'sched or cycle or lr_find or ParamScheduler or lr']),
    'distributed': ('09_distributed', ['tests/test_distributed.py', 'tests/test_distributed_ranks.py',
                                       'tests/test_bad_inputs.py', '-k', 'distributed or DataParallel or shard or rank']),
    'mnist': ('07_mnist', ['tests/test_mnist.py', 'tests/test_values.py',
                           '-k', 'mnist or accuracy or loss or folder or split or digits']),
}
CORE = ['data', 'losses', 'optim', 'dataloader', 'history', 'checks', 'callback', 'default_callbacks', 'learner']

# --- the operators: each maps one token (outside strings and comments) to its mutated text ---------------
SWAP = {'+': '-', '-': '+', '<': '<=', '<=': '<', '>': '>=', '>=': '>', '==': '!=',
        '!=': '==', '+=': '-=', '-=': '+=', 'and': 'or', 'or': 'and', 'True': 'False', 'False': 'True',
        'min': 'max', 'max': 'min', 'ceil': 'floor', 'floor': 'ceil', 'sub_': 'add_', 'add_': 'sub_', 'any': 'all', 'all': 'any'}
KIND = {'+': 'sign', '-': 'sign', '+=': 'sign', '-=': 'sign',
        '<': 'boundary', '<=': 'boundary', '>': 'boundary', '>=': 'boundary', '==': 'comparison', '!=': 'comparison',
        'and': 'logic', 'or': 'logic', 'True': 'logic', 'False': 'logic', 'any': 'logic', 'all': 'logic',
        'min': 'min/max', 'max': 'min/max', 'ceil': 'rounding', 'floor': 'rounding', 'sub_': 'sign', 'add_': 'sign'}

@dataclass
class Mutant:
    module: str
    lineno: int
    kind: str
    before: str     # the whole original line
    after: str      # the whole mutated line
    def __str__(self): return f"{self.module}.py:{self.lineno} [{self.kind}] {self.before.strip()}  ->  {self.after.strip()}"

def _exported_lines(src: str) -> set[int]:
    "Line numbers (1-based) that are code worth mutating: not imports, `__all__`, decorators, defs or docstrings"
    skip, lines = set(), src.splitlines()
    for i, l in enumerate(lines, 1):
        s = l.strip()
        if not s or s.startswith(('#', 'import ', 'from ', '__all__', '@', 'def ', 'class ', '"', "'", 'raise ')): skip.add(i)
    return set(range(1, len(lines) + 1)) - skip

def _tokens(line: str):
    "Tokens of one physical line; None if it doesn't tokenize alone (part of a bracketed multi-line expression is fine)"
    try: return [t for t in tokenize.generate_tokens(io.StringIO(line.strip() + '\n').readline)]
    except (tokenize.TokenError, IndentationError, SyntaxError): return None

def _line_mutants(module: str, lineno: int, line: str) -> list[Mutant]:
    indent = line[:len(line) - len(line.lstrip())]
    body = line.strip()
    toks = _tokens(body)
    if toks is None: return []
    out = []
    code_end = next((t.start[1] for t in toks if t.type == tokenize.COMMENT), len(body))  # a docment is not code
    def put(start, end, new, kind):
        out.append(Mutant(module, lineno, kind, line, indent + body[:start] + new + body[end:]))
    prev = None
    for t in toks:
        (_, c0), (_, c1) = t.start, t.end
        if t.type == tokenize.OP and t.string in SWAP:
            unary = t.string in '+-' and (prev is None or (prev.type == tokenize.OP and prev.string not in ')]}') or prev.string in ('return', 'in', 'and', 'or', 'not', 'if', 'else'))
            if not unary: put(c0, c1, f' {SWAP[t.string]} ' if t.string in ('and', 'or') else SWAP[t.string], KIND[t.string])
        elif t.type == tokenize.NAME and t.string in SWAP: put(c0, c1, SWAP[t.string], KIND[t.string])
        elif t.type == tokenize.NUMBER and re.fullmatch(r'\d+', t.string) and prev is not None and prev.string != '**':
            put(c0, c1, str(int(t.string) + 1), 'off-by-one')
            if t.string != '0': put(c0, c1, str(int(t.string) - 1), 'off-by-one')
        elif t.type == tokenize.NUMBER and re.fullmatch(r'\d+', t.string) and prev is not None and prev.string == '[':
            put(c0, c1, str(int(t.string) + 1), 'index')
        prev = t
    # index mix-ups: [0] <-> [1], [:, 0] <-> [:, 1], [-1] -> [0]
    for m in re.finditer(r'\[(:, )?(-1|0|1)\]', body[:code_end]):
        new = {'0': '1', '1': '0', '-1': '0'}[m[2]]
        out.append(Mutant(module, lineno, 'index', line, indent + body[:m.start(2)] + new + body[m.end(2):]))
    # swapped arguments of a call with two simple arguments
    for m in re.finditer(r'(\w+)\(([\w.]+(?:\[[^\]]*\])?), ([\w.]+(?:\[[^\]]*\])?)\)', body[:code_end]):
        if m[1] not in ('range', 'isinstance', 'getattr', 'hasattr', 'setattr', 'print', 'zip', 'enumerate'):
            out.append(Mutant(module, lineno, 'swapped args', line, indent + body[:m.start(2)] + f'{m[3]}, {m[2]}' + body[m.end(3):]))
    # a forgotten statement: an in-place call on its own line (e.g. `p.grad.zero_()`, `opt.step()`) becomes `pass`
    if re.fullmatch(r'[\w.\[\]]+\.\w+_?\([^=]*\)', body) and not body.startswith(('return', 'yield')):
        out.append(Mutant(module, lineno, 'deleted statement', line, indent + 'pass'))
    return [m for m in out if m.after != m.before and _compiles_alone(m)]

def _compiles(line: str) -> bool:
    "Does this one line compile on its own (inside a function and a loop, with a body if it opens a block)?"
    body = line.strip()
    try: compile(f"def _f():\n for _ in ():\n  {body}{' pass' if body.endswith(':') else ''}\n", '<mutant>', 'exec'); return True
    except SyntaxError: return False

def _compiles_alone(m: Mutant) -> bool: return _compiles(m.before) and _compiles(m.after)

def mutants(module: str, root: Path = ROOT) -> list[Mutant]:
    "Every mutant of `sgdlab/<module>.py` whose line can also be found, once, in its notebook"
    src = (root/'sgdlab'/f'{module}.py').read_text()
    nb = (root/'nbs'/f'{MODULES[module][0]}.ipynb').read_text()
    cells = [''.join(c['source']) for c in json.loads(nb)['cells'] if c['cell_type'] == 'code']
    lines, out = src.splitlines(), []
    for i in sorted(_exported_lines(src)):
        line = lines[i - 1]
        if sum(c.count(line) for c in cells) != 1 or src.count(line + '\n') != 1: continue
        out.extend(_line_mutants(module, i, line))
    return out

def _apply(m: Mutant, work: Path) -> tuple[Path, Path]:
    "Write the mutant into the module and its notebook in `work`; return both paths"
    py, nbp = work/'sgdlab'/f'{m.module}.py', work/'nbs'/f'{MODULES[m.module][0]}.ipynb'
    src = py.read_text()
    py.write_text(src.replace(m.before + '\n', m.after + '\n', 1))
    nb = json.loads(nbp.read_text())
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        text = ''.join(c['source'])
        if m.before in text:
            c['source'] = text.replace(m.before, m.after, 1).splitlines(keepends=True)
            break
    nbp.write_text(json.dumps(nb, indent=1, ensure_ascii=False))
    return py, nbp

RUN_NB = ("import sys; from pathlib import Path; from nbdev.test import test_nb; "
          "ok, _ = test_nb(Path(sys.argv[1]), skip_flags=['slow'], basepath=Path(sys.argv[2])); sys.exit(0 if ok else 1)")

def _killed(m: Mutant, work: Path, timeout: float) -> tuple[bool, str]:
    "Run the module's unit tests, then its notebook, in `work`: (killed?, by what)"
    env = {**os.environ, 'PYTHONPATH': str(work), 'MPLBACKEND': 'Agg', 'IN_TEST': '1', 'PYTHONDONTWRITEBYTECODE': '1'}
    nb, args = MODULES[m.module]
    args = [a for a in args if not a.endswith('.py') or (work/a).exists()]
    steps = [('tests', [sys.executable, '-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider', '-p', 'no:randomly', *args]),
             ('notebook', [sys.executable, '-c', RUN_NB, str(work/'nbs'/f'{nb}.ipynb'), str(work)])]
    for name, cmd in steps:
        try: r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired: return True, f'{name} (timeout)'
        if r.returncode == 5: continue   # no test selected
        if r.returncode != 0: return True, name
    return False, ''

def _scratch() -> Path:
    "A temporary copy of the tracked files (and untracked, unignored ones): mutants never touch the working tree"
    work = Path(tempfile.mkdtemp(prefix='sgdlab-mutate-'))
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT/f).is_file():
            (work/f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT/f, work/f)
    return work

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--modules', nargs='+', default=CORE, choices=sorted(MODULES))
    ap.add_argument('--max-mutants', type=int, default=12, help='per module, sampled with --seed (0: all)')
    ap.add_argument('--max-minutes', type=float, default=40, help='stop planting new mutants after this long')
    ap.add_argument('--timeout', type=float, default=300, help='seconds per test run; a mutant that hangs counts as killed')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--list', action='store_true', help='only list the mutants that would run')
    ap.add_argument('--lines', nargs='+', type=int, help="only the mutants of these line numbers (a survivor's re-run)")
    args = ap.parse_args(argv)
    rng, t0 = random.Random(args.seed), time.time()
    plan = {}
    for mod in args.modules:
        ms = [m for m in mutants(mod) if not args.lines or m.lineno in args.lines]
        plan[mod] = rng.sample(ms, min(len(ms), args.max_mutants)) if args.max_mutants else ms
        print(f"{mod}: {len(ms)} mutants, running {len(plan[mod])}", flush=True)
    if args.list:
        for ms in plan.values(): print(*ms, sep='\n')
        return 0
    work, scores, survivors = _scratch(), {}, []
    try:
        for mod, ms in plan.items():
            killed = tried = 0
            for m in ms:
                if (time.time() - t0) / 60 > args.max_minutes: print(f"-- time is up ({args.max_minutes:g} min)"); break
                py, nbp = work/'sgdlab'/f'{mod}.py', work/'nbs'/f'{MODULES[mod][0]}.ipynb'
                saved = py.read_text(), nbp.read_text()
                _apply(m, work)
                try: k, how = _killed(m, work, args.timeout)
                finally: py.write_text(saved[0]); nbp.write_text(saved[1])
                tried += 1; killed += k
                if not k: survivors.append(m)
                print(f"  {'killed by ' + how if k else 'SURVIVED':<20} {m}", flush=True)
            scores[mod] = (killed, tried)
    finally: shutil.rmtree(work, ignore_errors=True)
    print(f"\nkill score per module ({(time.time() - t0) / 60:.1f} min, seed {args.seed}, at most {args.max_mutants} mutants each):")
    for mod, (k, n) in scores.items(): print(f"  {mod:<11} {k:>3}/{n:<3} {100 * k / max(n, 1):5.1f}%")
    k, n = sum(k for k, _ in scores.values()), sum(n for _, n in scores.values())
    print(f"  {'total':<11} {k:>3}/{n:<3} {100 * k / max(n, 1):5.1f}%")
    if survivors: print('survivors:', *survivors, sep='\n  ')
    return 0

if __name__ == '__main__': sys.exit(main())
