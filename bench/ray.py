"""Separation on Ray: tracks per second for the local path, Ray with one raylet and Ray with two raylets, on the same
files (generated 30 s tracks; backend `spleeter`, PyTorch), each from an empty stem cache.

    .venv/bin/python bench/ray.py [--n 96] [--cpus 2]

Local: `separate_many` in this process (torch on every core). Ray, one raylet: `ray start --head --num-cpus CPUS`,
then `separate_many(..., ray='auto')`: an actor per CPU slot, each with the model once. Ray, two raylets: a head and
a second raylet of CPUS/2 each on this machine. Each time includes connecting to the cluster and starting the actors
(not `ray start`). Target (issue 17): Ray on one node at most 15% slower than the local path. Needs Ray
(`make setup-ray`). Measured on 2 idle cores: 96 tracks, local 107.0 s (0.90 tracks/s), one raylet 106.6 s (-0.4%),
two raylets 111.6 s (+4.3%); 48 tracks, local 54.6 s, one raylet 64.6 s (+18.3%), two raylets 64.5 s (+18.1%): Ray
costs about 10 s to start (connecting, actors importing torch and loading the model), then separates a little
faster than one process (an actor per core, one torch thread each).
"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = dict(RAY_USAGE_STATS_ENABLED='0', RAY_AUTH_MODE='disabled')

def ray_cli(*args):
    r = subprocess.run([str(BIN/'ray'), *args], capture_output=True, text=True, env=dict(os.environ, **ENV))
    if r.returncode: raise SystemExit(f"ray {' '.join(args)} failed: {(r.stderr or r.stdout)[-800:]}")

def timed(paths, cache:Path, ray=None)->float:
    "Seconds to separate `paths` into an empty cache, in a fresh process."
    code = ('import sys, time; from icff_kit.separation import separate_many\n'
            'paths = [l.strip() for l in sys.stdin]; t = time.perf_counter()\n'
            f'out = separate_many(paths, "spleeter", progress=False, ray={ray!r})\n'
            'assert all(isinstance(v, dict) for v in out.values()), [v for v in out.values() if not isinstance(v, dict)][:2]\n'
            'print(time.perf_counter() - t)')
    r = subprocess.run([sys.executable, '-c', code], input='\n'.join(map(str, paths)), capture_output=True, text=True,
                       env=dict(os.environ, ICFF_CACHE=str(cache), ICFF_PROGRESS='0', PYTHONPATH=str(ROOT), **ENV))
    if r.returncode: raise SystemExit(r.stderr[-2000:])
    return float(r.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=96, help='tracks (default 96)'); ap.add_argument('--cpus', type=int, default=os.cpu_count())
    a = ap.parse_args()
    try: import ray  # noqa: F401
    except ImportError: print('skipped: Ray is not installed (make setup-ray)'); raise SystemExit(3)
    from icff_kit.testing import tone_dataset
    with tempfile.TemporaryDirectory() as td:
        td = Path(td); g = ('blues', 'rock', 'jazz', 'pop')
        root = tone_dataset(td/'tones', genres=g, n_per_genre=-(-a.n // len(g)), seconds=30., sr=22050)
        paths = sorted(root.glob('*/*/mix.wav'))[:a.n]
        print(f'{len(paths)} tracks of 30 s, backend spleeter (PyTorch), {a.cpus} CPUs')
        res = {'local': timed(paths, td/'c-local')}
        try:
            ray_cli('start', '--head', '--node-ip-address', '127.0.0.1', '--num-cpus', str(a.cpus), '--include-dashboard=false', '--disable-usage-stats')
            res['ray, one raylet'] = timed(paths, td/'c-ray1', 'auto')
        finally: ray_cli('stop', '--force')
        try:
            h = max(1, a.cpus // 2)
            ray_cli('start', '--head', '--node-ip-address', '127.0.0.1', '--port', '6391', '--num-cpus', str(h), '--include-dashboard=false', '--disable-usage-stats')
            ray_cli('start', '--address', '127.0.0.1:6391', '--node-ip-address', '127.0.0.1', '--num-cpus', str(max(1, a.cpus - h)), '--disable-usage-stats')
            res['ray, two raylets'] = timed(paths, td/'c-ray2', 'auto')
        finally: ray_cli('stop', '--force')
    print(f"{'':20}{'seconds':>10}{'tracks/s':>10}{'vs local':>10}")
    for k, s in res.items(): print(f'{k:20}{s:10.1f}{len(paths) / s:10.2f}{s / res["local"] - 1:+10.1%}')
    over = res['ray, one raylet'] / res['local'] - 1
    print(f"Ray's overhead on one node: {over:+.1%} (target at most +15%: {'met' if over <= 0.15 else 'NOT met'})")

if __name__ == '__main__': main()
