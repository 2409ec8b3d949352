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
