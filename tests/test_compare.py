"`icff compare` end to end on the smoke profile: 2 variants x 2 seeds x 2 folds, finite numbers, a figure, answered from the cache the second time."
import json, os, subprocess, sys, time
import numpy as np
import pytest

ICFF = [sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))']

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    from icff_kit.testing import tone_dataset
    d = tmp_path_factory.mktemp('compare')
    root = tone_dataset(d / 'tones', genres=('blues', 'rock', 'jazz'), n_per_genre=6)
    other = tone_dataset(d / 'tones2', genres=('blues', 'rock', 'pop'), n_per_genre=2, sr=11025)
    return dict(d=d, root=root, other=other, env={**os.environ, 'ICFF_CACHE': str(d / 'cache'), 'ICFF_PROGRESS': '0'})

def icff(env, *args):
    return subprocess.run([*ICFF, *map(str, args)], capture_output=True, text=True, env=env['env'])

ARGS = ['compare', '--dataset', 'synth', '--profile', 'smoke', '--backend', 'reference', '--epochs', '2', '--variants', 'mfcc-lr,2d',
        '--seeds', '0,1', '--protocol', 'kfold:2', '--boot', '300']

def test_compare_grid_end_to_end(env):
    j = env['d'] / 'c.json'
    r = icff(env, *ARGS, '--root', env['root'], '--test-root', env['other'], '--json', j)
    assert r.returncode == 0, r.stderr
    assert '2d - mfcc-lr' in r.stdout and 'second root' in r.stdout, r.stdout
    c = json.loads(j.read_text())
    assert c['n_runs'] == 8 and c['n_folds'] == 2 and len(c['runs']) == 8
    for part in ('test', 'test_root'):
        s = c[part]
        for v in ('mfcc-lr', '2d'):
            d = s['variants'][v]; assert d['runs'] == 4
            for m in ('accuracy', 'macro_f1'):
                assert np.isfinite([d[m]['mean'], *d[m]['ci95']]).all() and d[m]['ci95'][0] <= d[m]['mean'] <= d[m]['ci95'][1]
        p = s['pairs'][0]; assert (p['a'], p['b'], p['runs']) == ('2d', 'mfcc-lr', 4)
        assert p['accuracy']['wins'] + p['accuracy']['losses'] + p['accuracy']['ties'] == 4
        assert np.isfinite(p['accuracy']['ci95']).all()
    assert c['test']['n_tracks'] == 18                                          # k-fold: every track is tested (once per seed)
    assert c['test_root']['n_tracks'] == 4                                      # pop is not a genre of the runs
    out = c['out']
    assert os.path.getsize(os.path.join(out, 'compare.png')) > 5000 and os.path.getsize(os.path.join(out, 'compare.html')) > 5000
    assert len(os.listdir(os.path.join(out, 'folds'))) == 4
    t0 = time.perf_counter()
    r2 = icff(env, *ARGS, '--root', env['root'], '--test-root', env['other'], '--json', env['d'] / 'c2.json', '--no-figure')
    assert r2.returncode == 0, r2.stderr
    c2 = json.loads((env['d'] / 'c2.json').read_text())
    assert c2['n_cached'] == 8 and c2['test'] == c['test'] and c2['test_root'] == c['test_root']
    assert time.perf_counter() - t0 < 60                                        # from the cache (generous: a busy CI machine)

def test_compare_bad_arguments(env):
    for args, msg in ((['--variants', '2d,resnet'], "unknown variant(s) ['resnet']"), (['--protocol', 'kfold:x'], 'must be an integer'),
                      (['--seeds', 'a'], '--seeds'), (['--epochs', '0'], '--epochs must be at least 1')):
        r = icff(env, 'compare', '--dataset', 'synth', '--root', env['root'], '--profile', 'smoke', *args)
        assert r.returncode == 1 and msg in r.stderr and 'Traceback' not in r.stderr, (args, r.stderr)
