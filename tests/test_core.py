"Scaffold: the console script, import cost, profiles and the shipped layout."
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
ICFF = [sys.executable, '-m', 'icff_kit.cli']

def icff(*args, **kw):
    return subprocess.run([sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))', *args],
                          capture_output=True, text=True, cwd=kw.get('cwd', ROOT), env={**os.environ, **kw.get('env', {})})

def test_help_lists_commands():
    r = icff('--help')
    assert r.returncode == 0
    for c in ('data manifest', 'data synth', 'separate', 'train', 'evaluate', 'predict', 'reproduce'): assert c in r.stdout

def test_unknown_command_fails_clearly():
    r = icff('frobnicate')
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr

def test_console_script_installed():
    exe = Path(sys.executable).parent / 'icff'
    assert exe.exists(), 'the icff console script is not installed (pip install -e .)'
    r = subprocess.run([str(exe), '--version'], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith('icff_kit ')

def test_import_is_light():
    "Importing the package (and core/cli) must not pull in torch, librosa, tensorflow or matplotlib."
    code = ('import sys, icff_kit, icff_kit.core, icff_kit.cli; '
            'print([m for m in ("torch", "librosa", "tensorflow", "matplotlib", "lightning") if m in sys.modules])')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'

def test_profiles_round_trip_and_hash(tmp_path):
    from icff_kit.core import profile, save_config, load_config, config_hash
    for name in ('smoke', 'cpu', 'paper'):
        c = profile(name, seed=7)
        save_config(c, tmp_path / f'{name}.json')
        c2 = load_config(tmp_path / f'{name}.json')
        assert c2 == c and config_hash(c2) == config_hash(c)
    assert len({config_hash(profile(n)) for n in ('smoke', 'cpu', 'paper')}) == 3

def test_models_check_on_empty_folder(tmp_path):
    r = icff('models', 'check', str(tmp_path))
    assert r.returncode == 1 and 'missing `checkpoint` file' in r.stderr and 'make setup' in r.stderr

def test_pretrained_weights_installed():
    "make setup installs the sha256-pinned 2-stems checkpoint."
    from icff_kit.weights import check_spleeter_model, pretrained_dir
    if not pretrained_dir().exists(): pytest.skip('weights not installed (run make setup)')
    assert check_spleeter_model(full=True)['kind'] == 'pretrained'

def test_layout():
    for p in ('nbs', 'icff_kit', 'settings.ini', 'setup.py', 'README.md', 'data/README.md', 'tests', 'bench', 'Makefile', '.ci/run'):
        assert (ROOT / p).exists(), p
    ini = (ROOT / 'settings.ini').read_text()
    assert 'allowed_cell_metadata_keys = tags' in ini and 'tst_flags = slow' in ini

def _imports(path):
    "(top-level kit imports, [(function-level import statement, root module)]) of one module."
    import ast
    t = ast.parse(path.read_text()); top, inner = set(), []
    def kit(node):
        if isinstance(node, ast.ImportFrom):
            if node.level: return [node.module or n.name for n in node.names] if node.module is None else [node.module]
            if node.module and node.module.startswith('icff_kit'): return [node.module.split('.', 1)[1] if '.' in node.module else n.name for n in node.names]
        if isinstance(node, ast.Import): return [n.name.split('.', 1)[1] for n in node.names if n.name.startswith('icff_kit.')]
        return []
    for s in t.body:
        if isinstance(s, (ast.Import, ast.ImportFrom)): top.update(kit(s))
    for f in ast.walk(t):
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for s in ast.walk(f):
                if isinstance(s, ast.Import): inner += [(ast.unparse(s), n.name) for n in s.names]
                elif isinstance(s, ast.ImportFrom): inner.append((ast.unparse(s), ('icff_kit.' if s.level else '') + (s.module or '')))
    return top, inner

MODULES = sorted(p for p in (ROOT/'icff_kit').glob('*.py') if not p.name.startswith('_'))

def test_no_import_cycle():
    "The kit's modules import each other top-down: the module-level import graph has no cycle."
    graph = {p.stem: _imports(p)[0] & {q.stem for q in MODULES} for p in MODULES}
    done, path = set(), []
    def visit(m):
        if m in path: raise AssertionError('import cycle: ' + ' -> '.join(path[path.index(m):] + [m]))
        if m in done: return
        path.append(m); [visit(n) for n in sorted(graph[m])]; path.pop(); done.add(m)
    for m in graph: visit(m)

# What a module may import inside a function, and only with a comment at its top saying so: packages that are heavy
# to import (or absent from .venv), and the kit modules that import them.
HEAVY = ('torch', 'safetensors', 'lightning', 'tensorflow', 'spleeter', 'musicnn', 'matplotlib', 'seaborn', 'plotly', 'ray',
         'ipywidgets', 'IPython', 'papermill', 'fluidsynth', 'scipy', 'sklearn',
         'icff_kit.train', 'icff_kit.evaluate', 'icff_kit.infer', 'icff_kit.model', 'icff_kit.musicnn',
         'icff_kit.spleeter_torch', 'icff_kit.metrics', 'icff_kit.compare')

# Modules that also run as scripts in .venv-spleeter, where icff_kit is not installed: no kit import at their top.
SCRIPTS = ('tf_convert',)

def test_imports_inside_functions_are_heavy_and_said():
    bad = []
    for p in MODULES:
        top, inner = _imports(p)
        if p.stem in SCRIPTS:
            if top: bad.append(f'{p.name}: runs as a script in .venv-spleeter, yet imports {sorted(top)} of the kit at its top')
            inner = [(s, m) for s, m in inner if not m.startswith('icff_kit.')]
        light = [s for s, m in inner if not any(m == h or m.startswith(h + '.') for h in HEAVY)]
        if light: bad.append(f'{p.name}: {light}')
        elif inner and not any(l.startswith('#') and ('Imported inside the functions' in l or 'Imported where used' in l) for l in p.read_text().splitlines()[:60]):
            bad.append(f'{p.name}: imports inside functions without the comment at its top that says why')
    assert not bad, '\n'.join(bad)

def test_light_modules_import_no_framework():
    "The data, separation, report and explorer modules load without torch, Lightning, scikit-learn or TensorFlow."
    mods = ('audio', 'cluster', 'datasets', 'splits', 'features', 'separation', 'weights', 'synth', 'synth_dataset', 'reproduce',
            'figures', 'figure_data', 'bias', 'explore', 'finetune', 'cli')
    code = ('import sys; ' + '; '.join(f'import icff_kit.{m}' for m in mods) +
            '; print([m for m in ("torch", "lightning", "sklearn", "tensorflow", "matplotlib.pyplot", "ray") if m in sys.modules])')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'
