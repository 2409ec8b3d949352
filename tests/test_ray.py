"""The data stage on a real two-node Ray cluster on this machine (two raylets of one CPU each): `icff separate --ray auto`
gives the stems a local run gives, and a worker killed mid-run still ends in a complete, correct cache.

Marked `ray` (left out of the plain `pytest` run); `make test-ray` installs Ray (requirements-ray.txt) and runs it.
Without Ray the tests skip, unless ICFF_RAY_REQUIRED=1 (set by `make test-ray`). The cluster is stopped
(`ray stop`) whatever happens."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from icff_kit.testing import free_port
import soundfile as sf

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).parent/'ray'
# A throwaway cluster on 127.0.0.1: no usage statistics, no token (every process here is the test's own).
ENV = dict(RAY_USAGE_STATS_ENABLED='0', RAY_AUTH_MODE='disabled')

def _ray(*args, check=True):
    r = subprocess.run([str(RAY), *args], capture_output=True, text=True, timeout=180, env=dict(os.environ, **ENV))
    if check and r.returncode: pytest.fail(f"ray {' '.join(args)} failed: {(r.stderr or r.stdout)[-1500:]}")
    return r

@pytest.fixture(scope='module')
def cluster():
    "A head and a second raylet, one CPU each; `ray stop` at the end whatever happens."
    try: import ray  # noqa: F401
    except ImportError:
        if os.environ.get('ICFF_RAY_REQUIRED') == '1': pytest.fail('Ray is not installed: run `make test-ray`')
        pytest.skip('needs Ray (make test-ray installs it)')
    port = free_port()
    try:
        _ray('start', '--head', '--node-ip-address', '127.0.0.1', '--num-cpus', '1', '--port', str(port), '--include-dashboard=false', '--disable-usage-stats')
        _ray('start', '--address', f'127.0.0.1:{port}', '--node-ip-address', '127.0.0.1', '--num-cpus', '1', '--disable-usage-stats')
        yield f'127.0.0.1:{port}'
    finally: _ray('stop', '--force', check=False)

@pytest.fixture(scope='module')
def tracks(tmp_path_factory):
    from icff_kit.testing import tone_dataset
    root = tone_dataset(tmp_path_factory.mktemp('tones'), genres=('blues', 'rock', 'jazz'), n_per_genre=4, seconds=12., sr=22050)
    return sorted(root.glob('*/*/mix.wav'))

def _local_stems(paths, cache:Path)->dict:
    "The stems of a local run (one torch thread, as a Ray worker with one CPU has)."
    code = ('import json, sys; from icff_kit.separation import separate_many\n'
            'out = separate_many([l.strip() for l in sys.stdin], "spleeter", progress=False)\n'
            'print(json.dumps({p: {k: str(v) for k, v in r.items()} for p, r in out.items()}))')
    r = subprocess.run([sys.executable, '-c', code], input='\n'.join(map(str, paths)), capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, ICFF_CACHE=str(cache), ICFF_PROGRESS='0', OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def _icff(*args, cache:Path, **kw):
    return subprocess.Popen([sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))', *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, ICFF_CACHE=str(cache), ICFF_PROGRESS='0', PYTHONPATH=str(ROOT), **ENV), **kw)

def _same_stems(local:dict, cache:Path):
    "Every file's stems in `cache` equal the local run's, sample for sample; no temporary file left anywhere."
    for p, stems in local.items():
        for k, f in stems.items():
            g = cache/Path(f).relative_to(Path(f).parents[3])
            assert g.is_file(), f'{p}: no {k} stem in the Ray run'
            np.testing.assert_array_equal(sf.read(g)[0], sf.read(f)[0], err_msg=f'{p} {k}')
    left = [q for q in (cache/'stems').rglob('*') if q.is_file() and q.suffix not in ('.flac', '.json')]
    assert not left, left

def test_separate_on_two_raylets_equals_local(cluster, tracks, tmp_path):
    local = _local_stems(tracks, tmp_path/'local')
    p = _icff('separate', *map(str, tracks), '--backend', 'spleeter', '--ray', 'auto', cache=tmp_path/'ray')
    out, _ = p.communicate(timeout=600)
    assert p.returncode == 0, out[-3000:]
    assert f'{len(tracks)} tracks: {len(tracks)} separated, 0 cached, 0 failed' in out, out[-2000:]
    assert 'on ray: 2 nodes, 2 CPUs, 2 actors' in out, out[-2000:]
    _same_stems(local, tmp_path/'ray')
    p = _icff('separate', *map(str, tracks), '--backend', 'spleeter', '--ray', 'auto', cache=tmp_path/'ray')   # again: nothing to do
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0 and f'0 separated, {len(tracks)} cached' in out, out[-2000:]

def _actor_pids()->list[int]:
    r = subprocess.run(['ps', '-eo', 'pid=,args='], capture_output=True, text=True)
    return [int(l.split(None, 1)[0]) for l in r.stdout.splitlines() if 'SeparateActor' in l and 'ray::' in l]

def test_a_killed_worker_still_completes_the_cache(cluster, tracks, tmp_path):
    cache = tmp_path/'ray'
    p = _icff('separate', *map(str, tracks), '--backend', 'spleeter', '--ray', 'auto', cache=cache)
    killed, t0 = [], time.time()
    try:
        while not killed and time.time() - t0 < 300 and p.poll() is None:     # once a first track is written, kill a busy actor
            done = [d for d in (cache/'stems').glob('*/*') if (d/'accompaniment.flac').exists()] if (cache/'stems').exists() else []
            pids = _actor_pids()
            if done and pids:
                os.kill(pids[0], signal.SIGKILL); killed.append(pids[0])
            time.sleep(0.2)
        out, _ = p.communicate(timeout=600)
    finally:
        if p.poll() is None: p.kill()
    assert killed, 'no Ray actor to kill was found while the run was going'
    assert p.returncode == 0, out[-3000:]
    assert f'{len(tracks)} tracks:' in out and '0 failed' in out, out[-2000:]
    _same_stems(_local_stems(tracks, tmp_path/'local'), cache)

def _run_features(root:Path, cache:Path, *extra, threads=None)->str:
    p = subprocess.run([sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))',
                        'features', '--dataset', 'synth', '--root', str(root), '--profile', 'smoke', '--backend', 'spleeter', '--aug', 'ab', *extra],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, ICFF_CACHE=str(cache), ICFF_PROGRESS='0', PYTHONPATH=str(ROOT), **ENV, **({'OMP_NUM_THREADS': threads} if threads else {})))
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    return p.stdout + p.stderr

def test_features_on_ray_equal_local(cluster, tracks, tmp_path):
    "`icff features --ray auto`: the separation pipeline, then a task per track; the cached features are a local run's, array for array."
    root = tracks[0].parents[2]
    _run_features(root, tmp_path/'local', threads='1')
    out = _run_features(root, tmp_path/'ray', '--ray', 'auto')
    assert 'on ray: 2 nodes, 2 CPUs' in out and f'2D crops:  {len(tracks)} computed' in out, out[-2000:]
    a, b = (sorted((c/'features').rglob('*.npy')) for c in (tmp_path/'local', tmp_path/'ray'))
    assert len(a) == len(b) == len(tracks) * 4, (len(a), len(b))          # 2D crops and three 1D copies (o, a, b) per track
    def key(f, c): return (str(f.parent.relative_to(c)), f.name.split('.')[0] + '.' + f.name.split('.')[1])   # a 1D name also hashes its stem's path
    a, b = ({key(f, c): f for f in fs} for fs, c in ((a, tmp_path/'local'), (b, tmp_path/'ray')))
    assert sorted(a) == sorted(b)
    for k in a: np.testing.assert_array_equal(np.load(a[k]), np.load(b[k]), err_msg=str(k))

def _compare(root:Path, cache:Path, *extra, threads=None)->dict:
    out = cache/'r.json'
    p = subprocess.run([sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))',
                        'compare', '--dataset', 'synth', '--root', str(root), '--variants', 'mfcc-lr,2d', '--seeds', '0,1', '--protocol', 'kfold:2',
                        '--profile', 'smoke', '--backend', 'reference', '--epochs', '2', '--boot', '200', '--no-figure', '--json', str(out), *extra],
                       capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, ICFF_CACHE=str(cache), ICFF_PROGRESS='0', PYTHONPATH=str(ROOT), **ENV, **({'OMP_NUM_THREADS': threads} if threads else {})))
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    return dict(json.loads(out.read_text()), log=p.stdout + p.stderr)

def test_compare_grid_as_ray_tasks(cluster, tracks, tmp_path):
    "`icff compare --ray auto`: every network run a Ray task on the two raylets; the same runs and scores as a local grid, then all cached."
    root = tracks[0].parents[2]
    local = _compare(root, tmp_path/'local', threads='1')
    ray = _compare(root, tmp_path/'ray', '--ray', 'auto')
    assert ray['n_cached'] == 0 and ray['n_runs'] == local['n_runs'] == 8
    def scores(r): return [(u['variant'], u['seed'], u['fold'], u['test']['accuracy']) for u in r['runs']]
    assert scores(ray) == scores(local)
    assert {Path(u['run_dir']).name for u in ray['runs'] if u['run_dir']} == {Path(u['run_dir']).name for u in local['runs'] if u['run_dir']}
    again = _compare(root, tmp_path/'ray', '--ray', 'auto')
    assert again['n_cached'] == 8, again['log'][-2000:]
