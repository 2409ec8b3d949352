"""Spleeter 2-stems in PyTorch against Spleeter's own TF graph (the `spleeter-tf` worker in .venv-spleeter): the same input gives
stems at least 60 dB apart (SNR of the PyTorch stem against the TF one), on mono 22.05 kHz GTZAN clips, stereo 44.1 kHz MUSDB18
songs, a 2 s clip and a 45 s excerpt that crosses three 512-frame segment boundaries."""
import os, shutil
from pathlib import Path
import numpy as np
import pytest
from icff_kit.audio import load_audio, save_audio

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'

def _ready():
    from icff_kit.core import IcffError
    from icff_kit.spleeter_torch import check_torch_weights
    from icff_kit.weights import spleeter_python
    try: check_torch_weights(); spleeter_python(); return True
    except IcffError: return False

pytestmark = [pytest.mark.skipif(not SHARED.exists(), reason='../shared/data not present'),
              pytest.mark.skipif(not _ready(), reason='converted weights or .venv-spleeter missing (make setup)')]

def snr(ref, x): return 10 * np.log10((ref ** 2).sum() / max(((ref - x) ** 2).sum(), 1e-30))

def _both(files, spans=None):
    from icff_kit.separation import Separator
    with Separator('spleeter', fallback=False) as pt, Separator('spleeter-tf', fallback=False) as tf:
        a, b = pt.separate(files, spans), tf.separate(files, spans)
    for f in files:
        assert not isinstance(a[f], Exception) and not isinstance(b[f], Exception), (a[f], b[f])
    return a, b

def _clips(tmp_path):
    g = SHARED / 'gtzan_mini' / 'genres_original'
    mono = [g / 'rock' / sorted(os.listdir(g / 'rock'))[0], g / 'pop' / sorted(os.listdir(g / 'pop'))[0]]
    musdb = sorted((SHARED / 'musdb18_7' / 'train').iterdir())[0] / 'mixture.flac'
    y, _ = load_audio(musdb, sr=44100); y = np.resize(y, 44100 * 45 + 13230)   # the copies here are mono (and may be short): two different channels
    save_audio(tmp_path / 'stereo44_45s.wav', np.stack([y[:44100 * 45], 0.7 * y[13230:13230 + 44100 * 45]], 1), 44100)
    save_audio(tmp_path / 'short2s.wav', load_audio(mono[0], duration=2.)[0], 22050)
    return [*mono, tmp_path / 'stereo44_45s.wav', tmp_path / 'short2s.wav']

def test_pytorch_stems_equal_tensorflow_stems(tmp_path):
    files = _clips(tmp_path)
    a, b = _both(files)
    for f in files:
        for k in ('vocals', 'accompaniment'):
            x, ref = a[f].__dict__[k], b[f].__dict__[k]
            assert x.shape == ref.shape, (f, k, x.shape, ref.shape)
            print(f"{f.name} {k}: {snr(ref, x):.1f} dB"); assert snr(ref, x) >= 60, (f.name, k, snr(ref, x))

@pytest.mark.slow
def test_five_musdb_songs(tmp_path):
    songs = [d / 'mixture.flac' for d in sorted((SHARED / 'musdb18_7' / 'train').iterdir())[:5]]
    a, b = _both(songs)
    worst = min(snr(b[f].__dict__[k], a[f].__dict__[k]) for f in songs for k in ('vocals', 'accompaniment'))
    print(f'worst SNR over 5 MUSDB18-7 songs x 2 stems: {worst:.1f} dB')
    assert worst >= 60

def test_conversion_refuses_an_altered_checkpoint(tmp_path):
    from icff_kit.core import IcffError
    from icff_kit.spleeter_torch import convert
    from icff_kit.weights import pretrained_dir
    d = tmp_path / '2stems'; shutil.copytree(pretrained_dir(), d)
    f = d / 'model.data-00000-of-00001'; b = bytearray(f.read_bytes()); b[1000:1004] = b'\0\1\2\3'; f.write_bytes(bytes(b))
    with pytest.raises(IcffError, match='sha256 differs'): convert(d)
    assert not (d / 'spleeter_2stems.safetensors').exists() or (d / 'spleeter_2stems.safetensors').read_bytes() == (pretrained_dir() / 'spleeter_2stems.safetensors').read_bytes()

@pytest.mark.slow
def test_all_musdb_songs_same_median_sdr(tmp_path, monkeypatch):
    "All 94 MUSDB18-7 train songs through both backends: median SDRs of each stem within 0.05 dB of each other."
    from icff_kit.separation import evaluate_separation
    monkeypatch.setenv('ICFF_CACHE', str(tmp_path / 'cache'))
    root = SHARED / 'musdb18_7' / 'train'
    pt, tf = evaluate_separation(root, 'spleeter', fallback=False), evaluate_separation(root, 'spleeter-tf', fallback=False)
    assert pt['n_tracks'] == tf['n_tracks'] == 94 and not pt['errors'] and not tf['errors']
    for k in ('vocals', 'accompaniment'):
        a, b = pt['median'][k]['sdr'], tf['median'][k]['sdr']
        print(f'{k}: median SDR PyTorch {a:.3f} dB, TF {b:.3f} dB, difference {a - b:+.4f} dB')
        assert abs(a - b) <= 0.05
