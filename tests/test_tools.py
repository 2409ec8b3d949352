"tools/: the system-packages check when packages are missing and the user is not root (no apt is run)."
import os, subprocess
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / 'tools'

def _shim(d, name, body):
    p = d / name; p.write_text('#!/bin/sh\n' + body + '\n'); p.chmod(0o755)

def test_system_deps_not_root_lists_what_degrades(tmp_path):
    _shim(tmp_path, 'dpkg-query', 'case "$*" in *espeak-ng*|*soundstretch*) exit 1;; *) echo "install ok installed";; esac')
    _shim(tmp_path, 'id', 'echo 1000')
    _shim(tmp_path, 'apt-get', 'echo "apt-get must not run" >&2; exit 9')
    env = {**os.environ, 'PATH': f"{tmp_path}:{os.environ['PATH']}"}
    r = subprocess.run(['bash', str(TOOLS / 'system-deps.sh')], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and 'apt-get must not run' not in r.stderr, r.stderr
    out = r.stdout
    assert 'not root' in out and 'apt-get install soundstretch espeak-ng' in out
    assert '- espeak-ng: voice-like vocal stems' in out and '- soundstretch: time-stretch' in out
    assert 'ffmpeg' not in out.split('not installed:')[1].split('\n')[0]      # present packages are not listed

def test_system_deps_all_present(tmp_path):
    _shim(tmp_path, 'dpkg-query', 'echo "install ok installed"')
    env = {**os.environ, 'PATH': f"{tmp_path}:{os.environ['PATH']}"}
    r = subprocess.run(['bash', str(TOOLS / 'system-deps.sh')], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.startswith('system packages: all present')

def test_system_deps_named_packages_only(tmp_path):
    "`system-deps.sh chromium` (make test-browser) checks that package alone."
    _shim(tmp_path, 'dpkg-query', 'case "$*" in *chromium*) exit 1;; *) echo "install ok installed";; esac')
    _shim(tmp_path, 'id', 'echo 1000')
    env = {**os.environ, 'PATH': f"{tmp_path}:{os.environ['PATH']}"}
    r = subprocess.run(['bash', str(TOOLS / 'system-deps.sh'), 'chromium'], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and 'apt-get install chromium\n' in r.stdout and '- chromium: the browser test' in r.stdout, r.stdout
    r = subprocess.run(['bash', str(TOOLS / 'system-deps.sh')], capture_output=True, text=True, env=env)
    assert r.stdout.startswith('system packages: all present') and 'chromium' not in r.stdout

def test_notebooks_round_trip_through_jupytext():
    "The README's way to edit a notebook as text (jupytext, percent format) gives back the same cells."
    import json, jupytext
    for p in sorted((Path(__file__).resolve().parents[1]/'nbs').glob('*.ipynb')):
        nb = jupytext.read(p); back = jupytext.reads(jupytext.writes(nb, fmt='py:percent'), fmt='py:percent')
        assert [(c.cell_type, c.source) for c in back.cells] == [(c.cell_type, c.source) for c in nb.cells], p.name
