"Training, evaluation and resume end to end on a tiny tone dataset (smoke profile, reference stems)."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from icff_kit.audio import save_audio

ICFF = [sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))']
KEYS = {'accuracy', 'macro_f1', 'test_loss', 'n_tracks', 'n_windows', 'level', 'per_genre', 'confusion', 'ci95'}

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    from icff_kit.testing import tone_dataset
    d = tmp_path_factory.mktemp('train')
    root = tone_dataset(d / 'tones', genres=('blues', 'rock', 'jazz'), n_per_genre=5)
    other = tone_dataset(d / 'tones2', genres=('blues', 'rock', 'pop'), n_per_genre=2, sr=11025)
    e = {**os.environ, 'ICFF_CACHE': str(d / 'cache'), 'ICFF_PROGRESS': '0'}
    return dict(d=d, root=root, other=other, env=e)

def icff(env, *args, **kw):
    return subprocess.run([*ICFF, *map(str, args)], capture_output=True, text=True, env=env['env'], **kw)

BASE = ['--dataset', 'synth', '--profile', 'smoke', '--backend', 'reference']

@pytest.mark.parametrize('variant', ['2d', '1d', 'concat', 'cross', 'ic'])
def test_every_variant_trains(env, variant, monkeypatch):
    monkeypatch.setenv('ICFF_CACHE', env['env']['ICFF_CACHE']); monkeypatch.setenv('ICFF_PROGRESS', '0')
    from icff_kit.core import profile
    from icff_kit.train import run_experiment
    cfg = profile('smoke', dataset='synth', model__variant=variant, separation__backend='reference', train__epochs=1, train__val_fraction=0.2)
    r = run_experiment(cfg, env['root'], progress_bar=False)
    m = r['metrics']
    assert KEYS <= set(m) and m['variant'] == variant and m['n_tracks'] == 3
    assert np.isfinite([m['accuracy'], m['macro_f1'], m['test_loss']]).all()
    assert len(r['history']) == 1 and np.isfinite(r['history']['test_loss']).all()

def test_smoke_profile_learns_the_tones(env, monkeypatch):
    "With the smoke profile's defaults a short run must already beat chance in eval mode (BatchNorm statistics; see nbs/30_encoders)."
    monkeypatch.setenv('ICFF_CACHE', env['env']['ICFF_CACHE']); monkeypatch.setenv('ICFF_PROGRESS', '0')
    from icff_kit.core import profile
    from icff_kit.train import run_experiment
    from icff_kit.testing import tone_dataset
    root = tone_dataset(env['d'] / 'tones4', genres=('blues', 'rock', 'jazz', 'pop'), n_per_genre=6)
    cfg = profile('smoke', dataset='synth', model__variant='2d', separation__backend='reference')
    r = run_experiment(cfg, root, progress_bar=False)
    h = r['history']
    assert h['val_acc'].max() >= 0.75, h                                     # chance: 0.25
    assert r['metrics']['accuracy'] >= 0.75, r['metrics']['confusion']

def test_train_then_evaluate_cli(env):
    run = env['d'] / 'run_ic'
    r = icff(env, 'train', *BASE, '--root', env['root'], '--out', run, '--epochs', '2', '--aug', 'abc')
    assert r.returncode == 0, r.stderr
    assert 'track level' in r.stdout and 'window level' in r.stdout and '2 epochs; best validation loss at epoch' in r.stdout
    r = icff(env, 'evaluate', run, '--json', env['d'] / 'e.json', '--boot', '100')
    assert r.returncode == 0, r.stderr
    e = json.loads((env['d'] / 'e.json').read_text())
    assert KEYS <= set(e) and set(e['level']) == {'track', 'window'} and e['n_tracks'] == 3
    assert e['accuracy'] == json.loads((run / 'metrics.json').read_text())['accuracy']
    # every track of another root: genres the run does not know (pop) are skipped and named
    r = icff(env, 'evaluate', run, '--dataset', 'synth', '--root', env['other'], '--json', env['d'] / 'e2.json', '--boot', '100')
    assert r.returncode == 0, r.stderr
    e2 = json.loads((env['d'] / 'e2.json').read_text())
    assert e2['n_tracks'] == 4 and e2['skipped_genres'] == ['pop'] and KEYS <= set(e2)

def test_ddp_on_two_cpu_processes(env):
    "The multi-device path (Lightning DDP, per-rank batches, rank 0 owns the run folder) on 2 CPU processes over gloo."
    icff_bin = Path(sys.executable).parent / 'icff'   # Lightning relaunches the command line for rank 1
    run = env['d'] / 'run_ddp'
    args = [str(icff_bin), 'train', *BASE, '--variant', '2d', '--root', str(env['root']), '--out', str(run), '--epochs', '2',
            '--devices', '2', '--accelerator', 'cpu']
    for extra in ([], ['--force']):                   # --force: rank 1 must not wipe the folder rank 0 is writing
        r = subprocess.run(args + extra, capture_output=True, text=True, env=env['env'], timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        assert 'GLOBAL_RANK: 1' in r.stderr and 'Starting with 2 processes' in r.stderr
        h = json.loads((run / 'metrics.json').read_text())
        assert h['epochs_run'] == 2 and h['n_tracks'] == 3 and (run / 'checkpoints' / 'best.ckpt').exists() and (run / 'config.json').exists()

def test_evaluate_errors(env):
    r = icff(env, 'evaluate', env['d'] / 'no-such-run')
    assert r.returncode == 1 and 'no-such-run' in r.stderr and 'icff train' in r.stderr
    r = icff(env, 'train', *BASE, '--root', env['d'] / 'missing-root', '--epochs', '1')
    assert r.returncode == 1 and 'missing-root' in r.stderr

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'

@pytest.mark.skipif(not (SHARED / 'gtzan_au').exists(), reason='../shared/data not present')
@pytest.mark.parametrize('backend', ['repet', 'spleeter'])
def test_predict_any_song(env, backend):
    run = env['d'] / 'run_pred'
    if not (run / 'metrics.json').exists():
        assert icff(env, 'train', *BASE, '--root', env['root'], '--out', run, '--epochs', '1').returncode == 0
    song = SHARED / 'gtzan_au' / 'genres' / 'rock' / 'rock.00000.au'
    bad = env['d'] / 'broken.mp3'; bad.write_bytes(b'ID3 not really an mp3')
    out = env['d'] / f'pred-{backend}.json'
    r = icff(env, 'predict', song, bad, '--run', run, '--top', '2', '--backend', backend, '--json', out)
    assert r.returncode == 1, r.stderr            # one file failed, the other was classified
    assert 'broken.mp3' in r.stderr and 'rock.00000.au:' in r.stdout
    j = json.loads(out.read_text())
    p = j['predictions'][0]
    assert len(p['top']) == 2 and abs(sum(p['probs'].values()) - 1) < 1e-5 and p['n_windows'] == 2  # smoke: 6 s -> 2 windows
    assert j['failed'][0]['file'].endswith('broken.mp3')

def test_predict_imports_neither_lightning_nor_tensorflow(env):
    "A fresh `icff predict` runs on plain PyTorch: Spleeter in process, the model read from its checkpoint without Lightning."
    run = env['d'] / 'run_pred_ic'
    if not (run / 'metrics.json').exists():
        r = icff(env, 'train', *BASE, '--root', env['root'], '--variant', 'ic', '--out', run, '--epochs', '1'); assert r.returncode == 0, r.stderr
    code = ("import sys; from icff_kit.cli import main; rc = main(sys.argv[1:]); "
            "print('IMPORTED', sorted(m for m in ('lightning', 'pytorch_lightning', 'tensorflow') if m in sys.modules)); sys.exit(rc)")
    no_venv = {**env['env'], 'ICFF_SPLEETER_PYTHON': str(env['d'] / 'no-venv' / 'bin' / 'python')}   # converted weights only, no .venv-spleeter
    out = env['d'] / 'pred_nv.json'
    r = subprocess.run([sys.executable, '-c', code, 'predict', env['root'] / 'blues' / 'blues.00000' / 'mix.wav', '--run', run, '--json', out],
                       capture_output=True, text=True, env=no_venv)
    assert r.returncode == 0 and 'IMPORTED []' in r.stdout, (r.stdout, r.stderr[-1500:])
    assert 'blues.00000' in r.stdout and 'windows' in r.stdout
    assert json.loads(out.read_text())['predictions'][0]['separation'] == 'spleeter', r.stderr   # PyTorch Spleeter, not the repet fallback

def test_predict_without_a_run(env, tmp_path):
    r = icff(dict(env, env={**env['env'], 'ICFF_CACHE': str(tmp_path)}), 'predict', 'x.wav')
    assert r.returncode == 1 and 'no trained run found' in r.stderr

def test_init_from_cli(env):
    "icff train --init-from: an ic run starts from a 2d run's encoder; a folder without a checkpoint is a one-line error."
    r2d = env['d'] / 'run_2d_init'
    r = icff(env, 'train', *BASE, '--root', env['root'], '--variant', '2d', '--out', r2d, '--epochs', '1')
    assert r.returncode == 0, r.stderr
    r = icff(env, 'train', *BASE, '--root', env['root'], '--variant', 'ic', '--out', env['d'] / 'run_ic_init', '--epochs', '1', '--init-from', r2d)
    assert r.returncode == 0 and '2D encoder initialised from' in r.stderr, r.stderr
    r = icff(env, 'train', *BASE, '--root', env['root'], '--variant', 'ic', '--out', env['d'] / 'run_ic_bad', '--epochs', '1', '--init-from', env['d'] / 'nowhere')
    assert r.returncode == 1 and 'no checkpoint in' in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_recipe_options_cli(env):
    "--set reaches every recipe option; with train.ema the run, its checkpoint and icff evaluate all predict with the weight average."
    import torch
    run = env['d'] / 'run_recipe'
    r = icff(env, 'train', *BASE, '--root', env['root'], '--variant', 'ic', '--out', run, '--epochs', '2',
             '--set', 'train.ema=0.9; train.aux_loss=0.3; train.modality_dropout=0.3; train.warmup=1')
    assert r.returncode == 0, r.stderr
    cfg = json.loads((run / 'config.json').read_text())['train']
    assert (cfg['ema'], cfg['aux_loss'], cfg['modality_dropout'], cfg['warmup']) == (0.9, 0.3, 0.3, 1)
    sd = torch.load(run / 'checkpoints' / 'best.ckpt', map_location='cpu', weights_only=True)['state_dict']
    assert any(k.startswith('ema.module.') for k in sd) and any(k.startswith('aux.') for k in sd)
    r = icff(env, 'evaluate', run, '--json', env['d'] / 'e_recipe.json', '--boot', '50')
    assert r.returncode == 0, r.stderr
    e, m = json.loads((env['d'] / 'e_recipe.json').read_text()), json.loads((run / 'metrics.json').read_text())
    assert e['accuracy'] == m['accuracy'] and abs(e['test_loss'] - m['test_loss']) < 1e-5
    r = icff(env, 'train', *BASE, '--root', env['root'], '--out', env['d'] / 'run_bad_set', '--set', 'train.nope=1')
    assert r.returncode == 1 and "unknown config field 'nope'" in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = icff(env, 'train', *BASE, '--root', env['root'], '--variant', '2d', '--out', env['d'] / 'run_bad_aux', '--set', 'train.aux_loss=0.5', '--epochs', '1')
    assert r.returncode == 1 and 'need a variant with both branches' in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_window_hops(env):
    "train.train_hop and train.test_hop: more, overlapping windows on their side; the run's test windows are used again on another root."
    run = env['d'] / 'run_hops'
    r = icff(env, 'train', *BASE, '--root', env['root'], '--variant', '2d', '--out', run, '--epochs', '1', '--set', 'train.train_hop=1.5; train.test_hop=1.5')
    assert r.returncode == 0, r.stderr
    p = np.load(run / 'predictions.npz')
    _, n = np.unique(p['track_id'], return_counts=True)
    assert set(n) == {3}, n                                   # smoke: 6 s clips, 3 s windows every 1.5 s
    m = json.loads((run / 'metrics.json').read_text())
    assert m['n_train_samples'] == 3 * m['n_train_tracks']
    r = icff(env, 'evaluate', run, '--dataset', 'synth', '--root', env['other'], '--json', env['d'] / 'e_hops.json', '--boot', '50')
    assert r.returncode == 0, r.stderr
    assert json.loads((env['d'] / 'e_hops.json').read_text())['n_windows'] == 3 * 4


def test_mix_source_reads_the_mixture(env):
    "--backend mix (no separation, the ablation of issue 23): the 1D inputs are the mixture's, the run says so, and predict reads the mixture too."
    run = env['d'] / 'run_mix'
    r = icff(env, 'train', '--dataset', 'synth', '--profile', 'smoke', '--backend', 'mix', '--root', env['root'], '--variant', 'cross',
             '--out', run, '--epochs', '1')
    assert r.returncode == 0, r.stderr
    assert json.loads((run / 'config.json').read_text())['separation']['backend'] == 'mix'
    assert json.loads((run / 'metrics.json').read_text())['separation'] == 'mix'
    out = env['d'] / 'mix_pred.json'
    r = icff(env, 'predict', env['root'] / 'blues' / 'blues.00000' / 'mix.wav', '--run', run, '--json', out)
    assert r.returncode == 0, r.stderr
    p = json.loads(out.read_text())['predictions'][0]
    assert p['separation'] == 'mix' and abs(sum(p['probs'].values()) - 1) < 1e-5
