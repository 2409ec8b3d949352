"""The fault matrix of issue 13 on tiny generated data: every fault ends in a one-line error or a recorded, honest result,
never a traceback, a silent wrong result or lost work; a killed run resumes exactly."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
from icff_kit.audio import save_audio

ICFF = [sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))']
BASE = ['--dataset', 'synth', '--profile', 'smoke']
TBASE = [*BASE, '--backend', 'reference']

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    from icff_kit.testing import tone_dataset
    d = tmp_path_factory.mktemp('faults')
    root = tone_dataset(d / 'tones', genres=('blues', 'rock', 'jazz'), n_per_genre=5)
    return dict(d=d, root=root, env={**os.environ, 'ICFF_CACHE': str(d / 'cache'), 'ICFF_PROGRESS': '0'})

def icff(env, *args, extra=None, **kw):
    return subprocess.run([*ICFF, *map(str, args)], capture_output=True, text=True, env={**env['env'], **(extra or {})}, **kw)

def one_line(r, *words):
    "A user error: exit 1, one line on stderr naming what is wrong, no traceback."
    err = [l for l in r.stderr.splitlines() if l.startswith('icff ')]
    assert r.returncode == 1 and 'Traceback' not in r.stderr and len(err) == 1, r.stderr[-2000:]
    for w in words: assert w in err[0], err[0]
    return err[0]

def _state(run):
    return torch.load(run / 'checkpoints' / 'last.ckpt', map_location='cpu', weights_only=True)['state_dict']

def test_killed_run_resumes_exactly(env):
    "kill -9 in the middle of training, then the same command: history and final weights equal an uninterrupted run's."
    args = lambda out: [*ICFF, 'train', *BASE, '--backend', 'reference', '--variant', 'ic', '--root', str(env['root']), '--out', str(out),
                        '--epochs', '6', '--batch-size', '4', '--set', 'train.patience=100; train.mixup=0.2; train.spec_masks=1']
    a, b = env['d'] / 'run_a', env['d'] / 'run_b'
    r = subprocess.run(args(a), capture_output=True, text=True, env=env['env']); assert r.returncode == 0, r.stderr
    p = subprocess.Popen(args(b), env=env['env'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    h, t0 = b / 'history.csv', time.time()
    while p.poll() is None and time.time() - t0 < 120:
        if (b / 'checkpoints' / 'last.ckpt').exists() and h.exists() and len(h.read_text().splitlines()) >= 3: break
        time.sleep(0.05)
    assert p.poll() is None, 'training ended before it could be killed'
    p.send_signal(signal.SIGKILL); p.wait()
    assert not (b / 'metrics.json').exists()
    r = subprocess.run(args(b), capture_output=True, text=True, env=env['env'])
    assert r.returncode == 0 and 'resuming' in r.stderr, r.stderr
    ha, hb = pd.read_csv(a / 'history.csv'), pd.read_csv(b / 'history.csv')
    assert len(ha) == 6
    pd.testing.assert_frame_equal(ha, hb, check_exact=True)
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    pa, pb = np.load(a / 'predictions.npz'), np.load(b / 'predictions.npz')
    assert np.array_equal(pa['logp'], pb['logp'])
    assert not [f for f in b.rglob('*') if '.tmp' in f.name]

def test_bad_checkpoints_are_one_line_errors(env, tmp_path):
    "A truncated or a malicious last.ckpt: resuming refuses it in one line, and the malicious one runs no code."
    run = env['d'] / 'run_a'
    if not (run / 'metrics.json').exists(): pytest.skip('needs test_killed_run_resumes_exactly')
    marker = tmp_path / 'pwned'
    class Payload:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    for kind in ('truncated', 'malicious'):
        bad = tmp_path / kind; shutil.copytree(run, bad); (bad / 'metrics.json').unlink()
        ck = bad / 'checkpoints' / 'last.ckpt'
        if kind == 'truncated': ck.write_bytes(ck.read_bytes()[:5000])
        else: torch.save({'state_dict': {}, 'x': Payload()}, ck)
        cfg = json.loads((bad / 'config.json').read_text())
        r = icff(env, 'train', *BASE, '--backend', 'reference', '--variant', 'ic', '--root', env['root'], '--out', bad, '--epochs', '6', '--batch-size', '4',
                 '--set', 'train.patience=100; train.mixup=0.2; train.spec_masks=1')
        one_line(r, 'last.ckpt', 'not a usable checkpoint')
        assert cfg['model']['variant'] == 'ic'
    assert not marker.exists()

def test_spleeter_fallback_is_recorded_and_keyed(env, monkeypatch):
    "Spleeter unavailable: the run trains on REPET stems, says so in metrics.json and config.json, and is cached as a repet run."
    from icff_kit.core import profile
    from icff_kit.train import run_dir_for
    out = icff(env, 'train', *BASE, '--backend', 'spleeter', '--variant', 'ic', '--root', env['root'], '--epochs', '1',
               '--json', env['d'] / 'fb.json', extra={'ICFF_MODELS': str(env['d'] / 'no-models')})
    assert out.returncode == 0, out.stderr
    assert 'recorded and cached as a repet run' in out.stderr
    m = json.loads((env['d'] / 'fb.json').read_text())
    assert m['separation'] == 'repet' and 'spleeter unavailable' in m['separation_fallback']
    run = Path(out.stdout.split('run: ')[1].splitlines()[0])
    assert json.loads((run / 'config.json').read_text())['separation']['backend'] == 'repet'
    cfg = profile('smoke', dataset='synth', model__variant='ic', separation__backend='spleeter', train__epochs=1)
    monkeypatch.setenv('ICFF_CACHE', env['env']['ICFF_CACHE'])
    from icff_kit.spleeter_torch import TORCH_WEIGHTS
    from icff_kit.weights import pretrained_dir
    if (pretrained_dir() / TORCH_WEIGHTS).exists():
        assert run_dir_for(cfg, env['root']) != run   # Spleeter restored: a Spleeter run is another run, not this one
    monkeypatch.setenv('ICFF_MODELS', str(env['d'] / 'no-models'))
    assert run_dir_for(cfg, env['root']) == run
    repet = profile('smoke', dataset='synth', model__variant='ic', separation__backend='repet', train__epochs=1)
    assert run_dir_for(repet, env['root']) == run    # the same entry as asking for repet

def _songs(d, n=6, seconds=6., sr=8000):
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n): save_audio(d / f'song{i}.wav', (0.1 * rng.standard_normal(int(seconds * sr))).astype(np.float32), sr)
    return d

def test_separate_truncated_wav_and_stale_temp_files(env, tmp_path):
    "A truncated WAV fails by name (exit 1, the others separated); a temp file left by a killed writer is removed by the next run."
    songs = _songs(tmp_path / 'songs', n=2)
    (songs / 'cut.wav').write_bytes((songs / 'song0.wav').read_bytes()[:30000])
    e = dict(env, env={**env['env'], 'ICFF_CACHE': str(tmp_path / 'cache')})
    from icff_kit.separation import stem_dir
    os.environ['ICFF_CACHE'] = str(tmp_path / 'cache')
    try: sd = stem_dir(songs / 'song1.wav', 'repet')
    finally: os.environ['ICFF_CACHE'] = env['env']['ICFF_CACHE']
    dead = subprocess.Popen(['true']); dead.wait()
    from icff_kit.core import _HOST
    sd.mkdir(parents=True); stale = sd / f'.accompaniment.wav.{_HOST}~{dead.pid}.k1ll3d.tmp.wav'; stale.write_bytes(b'half a stem')
    r = icff(e, 'separate', songs, '--backend', 'repet')
    assert r.returncode == 1 and 'cut.wav' in r.stderr + r.stdout and 'truncated' in r.stdout + r.stderr, r.stderr
    assert '3 tracks: 2 separated, 0 cached, 1 failed' in r.stdout, r.stdout
    assert not stale.exists() and [f.name for f in sd.iterdir() if f.name.startswith('accompaniment.')]

@pytest.mark.parametrize('where', ['proc', 'file'])
def test_unusable_cache_folder_is_one_line(env, tmp_path, where):
    "ICFF_CACHE that cannot be a folder (under /proc, or a file in its place): one line naming it, for separate and train."
    songs = _songs(tmp_path / 'songs', n=1)
    cache = '/proc/icff_cache_test' if where == 'proc' else tmp_path / 'afile'
    if where == 'file': Path(cache).write_text('not a folder')
    e = dict(env, env={**env['env'], 'ICFF_CACHE': str(cache)})
    one_line(icff(e, 'separate', songs, '--backend', 'repet'), str(cache))
    one_line(icff(e, 'train', *BASE, '--backend', 'reference', '--variant', '2d', '--root', env['root'], '--epochs', '1'), str(cache))

def test_failed_train_leaves_no_half_run_folder(env):
    out = env['d'] / 'run_failed'
    r = icff(env, 'train', *BASE, '--backend', 'reference', '--variant', 'ic', '--root', env['root'], '--out', out, '--epochs', '1',
             '--init-from', env['d'] / 'nowhere')
    one_line(r, 'nowhere')
    assert not out.exists()

def test_scrambled_spleeter_weights_in_separate(env, tmp_path):
    from icff_kit.weights import pretrained_dir
    src = pretrained_dir()
    if not (src / 'checkpoint').exists(): pytest.skip('pretrained weights not installed (make setup)')
    d = tmp_path / '2stems'; shutil.copytree(src, d)
    songs = _songs(tmp_path / 'songs', n=1)
    for backend, name in (('spleeter', 'spleeter_2stems.safetensors'), ('spleeter-tf', 'model.data-00000-of-00001')):
        f = d / name; b = bytearray(f.read_bytes()); b[len(b) // 2:len(b) // 2 + 4096] = os.urandom(4096); f.write_bytes(bytes(b))
        r = icff(env, 'separate', songs, '--model', d, '--no-fallback', '--backend', backend)
        one_line(r, 'sha256 differs', str(f))

def _mount_tmpfs(d, size):
    d.mkdir(parents=True, exist_ok=True)
    return subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(d)], capture_output=True).returncode == 0

def test_full_disk_stops_cleanly_and_resumes(env, tmp_path):
    "A cache on a full file system: one line naming the file and 'no space', exit 1, finished stems kept; with space again the batch resumes."
    mnt = tmp_path / 'small'
    if not _mount_tmpfs(mnt, '600k'): pytest.skip('cannot mount a small tmpfs here (needs root)')
    try:
        songs = _songs(tmp_path / 'songs', n=8, seconds=6., sr=22050)
        e = dict(env, env={**env['env'], 'ICFF_CACHE': str(mnt / 'cache')})
        r = icff(e, 'separate', songs, '--backend', 'repet')
        line = one_line(r, 'no space left', str(mnt / 'cache'))
        print(line)
        assert 'run the command again' in line
        assert not [f for f in mnt.rglob('*') if '.tmp' in f.name]
        kept = len(list(mnt.rglob('accompaniment.*')))
        assert 0 < kept < 8
        assert subprocess.run(['mount', '-o', 'remount,size=64m', str(mnt)]).returncode == 0
        r = icff(e, 'separate', songs, '--backend', 'repet')
        assert r.returncode == 0, r.stderr
        assert f'8 tracks: {8 - kept} separated, {kept} cached, 0 failed' in r.stdout, r.stdout
    finally: subprocess.run(['umount', '-l', str(mnt)])

# moved here from test_train.py: the rest of the matrix (arguments, checkpoints, predict)
def test_predict_refuses_unfinished_runs_and_warns_on_silence(env, tmp_path):
    "predict: an unfinished run is refused like evaluate does; a folder means its audio files; silence and a 0.5 s clip are flagged."
    run = env['d'] / 'run_pred2d'
    if not (run / 'metrics.json').exists():
        assert icff(env, 'train', *TBASE, '--root', env['root'], '--variant', '2d', '--out', run, '--epochs', '1').returncode == 0
    songs = tmp_path / 'songs'; songs.mkdir()
    save_audio(songs / 'silence.wav', np.zeros(8000 * 4, np.float32), 8000)
    save_audio(songs / 'short.wav', (0.2 * np.sin(np.arange(4000) / 8000 * 2 * np.pi * 440)).astype(np.float32), 8000)
    r = icff(env, 'predict', songs, '--run', run, '--json', tmp_path / 'p.json')
    assert r.returncode == 0, r.stderr
    assert 'the audio is silent' in r.stdout and 'only 0.50 s of audio' in r.stdout, r.stdout
    j = json.loads((tmp_path / 'p.json').read_text())
    assert sorted(Path(p['file']).name for p in j['predictions']) == ['short.wav', 'silence.wav']
    (songs / 'empty').mkdir()
    r = icff(env, 'predict', songs / 'empty', '--run', run)
    assert r.returncode == 1 and 'a folder with no audio files' in r.stderr
    half = tmp_path / 'half'; half.mkdir(); (half / 'config.json').write_bytes((run / 'config.json').read_bytes())
    r = icff(env, 'predict', songs / 'short.wav', '--run', half)
    assert r.returncode == 1 and 'not a finished run' in r.stderr and 'Traceback' not in r.stderr


def test_a_malicious_checkpoint_runs_no_code(env, tmp_path):
    "A checkpoint that would run code when unpickled is refused in one line, and its code never runs."
    import pickle, shutil
    run = env['d'] / 'run_pred2d'
    if not (run / 'metrics.json').exists():
        assert icff(env, 'train', *TBASE, '--root', env['root'], '--variant', '2d', '--out', run, '--epochs', '1').returncode == 0
    evil = tmp_path / 'evil'; shutil.copytree(run, evil)
    marker = tmp_path / 'pwned'
    class Payload:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    import torch
    for n in ('best.ckpt', 'last.ckpt'): torch.save({'state_dict': {}, 'x': Payload()}, evil / 'checkpoints' / n)
    for cmd in (['evaluate', evil, '--dataset', 'synth', '--root', env['root']], ['predict', env['root'] / 'blues' / 'blues.00000' / 'mix.wav', '--run', evil]):
        r = icff(env, *cmd)
        assert r.returncode == 1 and 'not a usable checkpoint' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not marker.exists()


def test_impossible_arguments_are_one_line_errors(env):
    "Issue 13: --epochs 0 or -1, --batch-size 0, --devices foo, --accelerator gpu without a GPU: exit 1, one line, no traceback."
    import torch
    cases = [(['--epochs', '0'], 'train.epochs must be at least 1'), (['--epochs', '-1'], 'train.epochs must be at least 1'),
             (['--batch-size', '0'], 'train.batch_size must be at least 1'), (['--devices', 'foo'], "devices must be 'auto' or a number >= 1, got 'foo'"),
             (['--set', 'train.lr=0'], 'train.lr must be above 0')]
    if not torch.cuda.is_available(): cases.append((['--accelerator', 'gpu'], 'torch sees no GPU here'))
    for extra, msg in cases:
        r = icff(env, 'train', *TBASE, '--root', env['root'], '--variant', '2d', '--out', env['d'] / 'run_badargs', *extra)
        assert r.returncode == 1 and msg in r.stderr and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, (extra, r.stderr)
