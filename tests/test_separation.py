"Separation: the icff separate / separate-eval / separate-finetune commands, the stem cache, bad input, real songs."
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from icff_kit.audio import save_audio
from icff_kit.cli import main

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'
MUSDB = SHARED / 'musdb18_7' / 'train'
needs_musdb = pytest.mark.skipif(not MUSDB.exists(), reason='../shared/data/musdb18_7 not present')
SR = 22050

@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    "Every test gets its own stem cache."
    monkeypatch.setenv('ICFF_CACHE', str(tmp_path / 'cache'))
    monkeypatch.setenv('ICFF_PROGRESS', '0')
    return tmp_path / 'cache'

def _signals(seconds=4, seed=0):
    "A repeating accompaniment loop and a non-repeating tune, each at RMS 0.1."
    rng = np.random.RandomState(seed); n = SR * seconds; t = np.arange(n) / SR
    rms = lambda x: (x / np.sqrt(np.mean(x ** 2)) * 0.1).astype(np.float32)
    acc = rms(np.tile(rng.randn(SR // 2) * np.exp(-np.arange(SR // 2) / 800) + np.sin(2 * np.pi * 110 * t[:SR // 2]), 2 * seconds))
    f0 = np.repeat(rng.uniform(250, 700, 5 * seconds), n // (5 * seconds))
    voc = rms(sum(np.sin(2 * np.pi * k * np.cumsum(f0) / SR) / k for k in (1, 2, 3)))
    return voc, acc

def _triples(root, n=2, mix_name='mixture.flac'):
    for i in range(n):
        voc, acc = _signals(seed=i); d = root / f"song {i}'s"
        save_audio(d / 'vocals.wav', voc, SR); save_audio(d / 'accompaniment.wav', acc, SR); save_audio(d / mix_name, voc + acc, SR)
    return root

def _link_musdb(dst, names):
    dst.mkdir()
    for n in names: (dst / n).symlink_to(MUSDB / n, target_is_directory=True)
    return dst

def test_separate_files_cache_and_bad_file(tmp_path, capsys):
    voc, acc = _signals()
    save_audio(tmp_path / 'a.wav', voc + acc, SR); save_audio(tmp_path / 'stereo.flac', np.stack([voc + acc, acc], 1), 44100)
    (tmp_path / 'bad.wav').write_text('not audio')
    files = [str(tmp_path / f) for f in ('a.wav', 'bad.wav', 'stereo.flac')]
    assert main(['separate', *files, '--backend', 'repet', '--json', str(tmp_path / 'r.json')]) == 1   # one file failed: exit 1, the rest done
    r = json.loads((tmp_path / 'r.json').read_text())
    assert (r['backend'], r['n_separated'], r['n_failed'], r['n_cached']) == ('repet', 2, 1, 0)
    assert 'bad.wav' in r['tracks'][files[1]]['error']
    import soundfile as sf
    i = sf.info(r['tracks'][files[2]]['accompaniment'])
    assert (i.samplerate, i.channels) == (44100, 2)               # stems keep the input's rate and channels
    out = capsys.readouterr(); assert '1 failed' in out.out and '1 of 3 tracks failed' in out.err
    assert main(['separate', *files, '--backend', 'repet', '--json', str(tmp_path / 'r2.json')]) == 1
    r2 = json.loads((tmp_path / 'r2.json').read_text())
    assert (r2['n_separated'], r2['n_cached']) == (0, 2) and r2['tracks'][files[0]] == r['tracks'][files[0]]

def test_folder_argument_and_errors(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    assert main(['separate', str(tmp_path / 'empty')]) == 1
    assert 'no audio files' in capsys.readouterr().err
    assert main(['separate']) == 1
    assert 'either FILE... or --dataset' in capsys.readouterr().err
    assert main(['separate-eval', str(tmp_path / 'empty'), '--backend', 'repet']) == 1
    assert 'no <track>/' in capsys.readouterr().err

def test_spleeter_refuses_a_folder_without_checkpoint(tmp_path, capsys):
    voc, acc = _signals(); save_audio(tmp_path / 'a.wav', voc + acc, SR)
    (tmp_path / 'nomodel').mkdir()
    assert main(['separate', str(tmp_path / 'a.wav'), '--model', str(tmp_path / 'nomodel')]) == 1
    err = capsys.readouterr().err
    assert 'nomodel' in err and 'icff models convert' in err            # PyTorch: the converted weights are missing
    assert main(['separate', str(tmp_path / 'a.wav'), '--model', str(tmp_path / 'nomodel'), '--backend', 'spleeter-tf']) == 1
    err = capsys.readouterr().err
    assert 'nomodel' in err and 'make setup' in err

def test_fallback_to_repet_is_named(tmp_path, monkeypatch, capsys):
    voc, acc = _signals(); save_audio(tmp_path / 'a.wav', voc + acc, SR)
    monkeypatch.setenv('ICFF_SPLEETER_PYTHON', str(tmp_path / 'no-venv' / 'python'))
    assert main(['separate', str(tmp_path / 'a.wav'), '--backend', 'spleeter-tf', '--json', str(tmp_path / 'r.json')]) == 0
    r = json.loads((tmp_path / 'r.json').read_text())
    assert r['backend'] == 'repet' and 'spleeter-tf unavailable' in r['fallback']
    assert 'FALLBACK' in capsys.readouterr().out
    assert main(['separate', str(tmp_path / 'a.wav'), '--backend', 'spleeter-tf', '--no-fallback']) == 1
    assert 'Spleeter environment not found' in capsys.readouterr().err
    monkeypatch.setenv('ICFF_MODELS', str(tmp_path / 'no-models'))    # PyTorch Spleeter needs no .venv-spleeter, only converted weights
    assert main(['separate', str(tmp_path / 'a.wav'), '--json', str(tmp_path / 'r2.json')]) == 0
    r = json.loads((tmp_path / 'r2.json').read_text())
    assert r['backend'] == 'repet' and 'converted PyTorch Spleeter weights not found' in r['fallback']

def test_eval_json_keys_and_mix_name(tmp_path):
    root = _triples(tmp_path / 'tri', 2, 'mix.wav')
    (root / 'incomplete').mkdir(); save_audio(root / 'incomplete' / 'mix.wav', np.zeros(SR, np.float32), SR)
    assert main(['separate-eval', str(root), '--backend', 'repet', '--json', str(tmp_path / 'e.json')]) == 0
    e = json.loads((tmp_path / 'e.json').read_text())
    assert {'backend', 'model', 'tracks', 'median'} <= set(e)
    assert set(e['tracks']) == {"song 0's", "song 1's"} and 'incomplete' in e['errors']
    for k in ('vocals', 'accompaniment'):
        assert set(e['median'][k]) == {'sdr', 'sdr_mixture'}
        assert e['median'][k]['sdr'] > e['median'][k]['sdr_mixture'] + 3     # the mixture scores 0 dB here

def test_eval_rejects_mismatched_rates(tmp_path):
    root = _triples(tmp_path / 'tri', 1)
    voc, _ = _signals(); save_audio(root / "song 0's" / 'vocals.wav', voc, 16000)
    assert main(['separate-eval', str(root), '--backend', 'repet']) == 1

def test_finetune_refuses_existing_output(tmp_path, capsys):
    root = _triples(tmp_path / 'tri', 1)
    (tmp_path / 'out').mkdir(); (tmp_path / 'out' / 'x').write_text('keep me')
    assert main(['separate-finetune', str(root), '--out', str(tmp_path / 'out'), '--steps', '2']) == 1
    assert 'already exists' in capsys.readouterr().err
    assert (tmp_path / 'out' / 'x').read_text() == 'keep me'

def test_console_script(tmp_path):
    voc, acc = _signals(); save_audio(tmp_path / 'a.wav', voc + acc, SR)
    icff = Path(sys.executable).with_name('icff')
    r = subprocess.run([str(icff), 'separate', str(tmp_path / 'a.wav'), '--backend', 'repet'], capture_output=True, text=True,
                       env=dict(os.environ))
    assert r.returncode == 0 and '1 separated' in r.stdout, r.stderr

@needs_musdb
def test_repet_on_real_songs(tmp_path):
    root = _link_musdb(tmp_path / 'musdb', sorted(os.listdir(MUSDB))[:3])
    assert main(['separate-eval', str(root), '--backend', 'repet', '--json', str(tmp_path / 'e.json')]) == 0
    e = json.loads((tmp_path / 'e.json').read_text())
    assert e['n_tracks'] == 3 and e['median']['vocals']['sdr'] > e['median']['vocals']['sdr_mixture']

@needs_musdb
@pytest.mark.slow
def test_spleeter_on_real_songs(tmp_path):
    root = _link_musdb(tmp_path / 'musdb', sorted(os.listdir(MUSDB))[:6])
    assert main(['separate-eval', str(root), '--json', str(tmp_path / 'e.json')]) == 0
    e = json.loads((tmp_path / 'e.json').read_text())
    assert e['backend'] == 'spleeter' and e['fallback'] is None and e['n_tracks'] == 6
    for k in ('vocals', 'accompaniment'): assert e['median'][k]['sdr'] > e['median'][k]['sdr_mixture'] + 3

@needs_musdb
@pytest.mark.slow
def test_spleeter_survives_a_dying_worker(tmp_path):
    from icff_kit.separation import Separator, Stems, SeparationError
    paths = [MUSDB / n / 'mixture.flac' for n in sorted(os.listdir(MUSDB))[:4]]
    with Separator('spleeter-tf') as s:
        res = []
        for i, (p, r) in enumerate(s.iter_separate(paths)):
            res.append(r)
            if i == 0: s._w.proc.kill()
    assert isinstance(res[0], Stems) and isinstance(res[1], SeparationError) and 'died' in str(res[1])
    assert all(isinstance(r, Stems) for r in res[2:])

@needs_musdb
@pytest.mark.slow
def test_finetune_end_to_end(tmp_path):
    "Two steps on two real songs (a few minutes on 2 CPU cores): the result loads as --model."
    root = _link_musdb(tmp_path / 'musdb', sorted(os.listdir(MUSDB))[:2])
    out = tmp_path / 'ft'
    assert main(['separate-finetune', str(root), '--out', str(out), '--steps', '2', '--json', str(tmp_path / 'f.json')]) == 0
    f = json.loads((tmp_path / 'f.json').read_text())
    assert f['restored'] and f['kind'] == 'finetuned' and len(f['losses']) == 2 and f['first_loss'] < 1.5
    assert not (tmp_path / 'ft.work').exists()
    from icff_kit.weights import check_spleeter_model
    assert check_spleeter_model(out, full=True)['kind'] == 'finetuned'
    assert main(['separate', str(root / sorted(os.listdir(root))[0] / 'mixture.flac'), '--model', str(out)]) == 0

def test_background_start_hands_over_the_worker_or_its_error(tmp_path, monkeypatch):
    "Separator.start() returns at once; the first separation waits for the worker, or raises the error it failed with."
    import threading
    from icff_kit import separation as S
    gate, made = threading.Event(), []
    class Fake:
        def __init__(self, model, threads):
            gate.wait(10)
            if model == 'broken': raise S.SeparationError('spleeter worker could not load broken: bad checkpoint')
            made.append(self); self.proc = type('P', (), {'poll': lambda self: None, 'kill': lambda self: None})()
        def close(self): self.closed = True
    monkeypatch.setattr(S, '_Worker', Fake)
    sep = S.Separator(S.Backend('spleeter-tf', 'ok', 'f', {}), fallback=False)
    assert sep.start() is sep and sep._w is None and sep._bg[0].is_alive()   # not blocked by the (held) start-up
    gate.set(); w = sep.worker()
    assert w is made[0] and sep.worker() is w and len(made) == 1             # one worker, handed over once
    sep.close(); assert w.closed
    bad = S.Separator(S.Backend('spleeter-tf', 'broken', 'f', {}), fallback=False).start()
    with pytest.raises(S.SeparationError, match='broken'): bad.worker()
    bad.close()                                                               # nothing left to raise
    quiet = S.Separator(S.Backend('spleeter-tf', 'broken', 'f', {}), fallback=False).start()
    quiet.close()                                                             # an unused failed start does not raise on close

def test_models_check_hashes_by_default(tmp_path, capsys):
    "Scrambled weights of the right size: `icff models check` refuses them by default; only --quick (sizes) lets them pass."
    import shutil
    from icff_kit.weights import pretrained_dir
    src = pretrained_dir()
    if not (src / 'checkpoint').exists(): pytest.skip('pretrained weights not installed (make setup)')
    d = tmp_path / '2stems'; shutil.copytree(src, d)
    assert main(['models', 'check', str(d)]) == 0 and 'every file sha256-checked' in capsys.readouterr().out
    f = d / 'model.data-00000-of-00001'; b = bytearray(f.read_bytes()); b[len(b) // 2:len(b) // 2 + 4096] = os.urandom(4096); f.write_bytes(bytes(b))
    assert main(['models', 'check', str(d)]) == 1
    err = capsys.readouterr().err
    assert 'sha256 differs' in err and str(f) in err and len(err.strip().splitlines()) == 1
    assert main(['models', 'check', str(d), '--quick']) == 0 and 'sizes checked only' in capsys.readouterr().out
