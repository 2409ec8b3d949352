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
