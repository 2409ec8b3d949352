"Decoding real files from ../shared/data, and bad files."
from pathlib import Path
import numpy as np
import pytest
from icff_kit.audio import load_audio, load_clip, audio_info, segment, AudioError, save_audio

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason='../shared/data not present')

@needs_shared
@pytest.mark.parametrize('rel,sr', [('gtzan_mini/genres_original/blues/blues.00073.flac', 16000),
                                    ('gtzan_mini/genres_original/pop/pop.00047.flac', 22050),
                                    ('gtzan_au/genres/metal/metal.00000.au', 22050)])
def test_real_files_decode_and_resample(rel, sr):
    p = SHARED / rel
    assert audio_info(p).sr == sr
    y, r = load_audio(p, sr=22050)
    assert r == 22050 and y.dtype == np.float32 and y.ndim == 1 and np.abs(y).max() > 1e-3
    assert abs(len(y) / 22050 - audio_info(p).duration) < 0.01
    w = segment(y, 22050)
    assert w.shape[1] == 3 * 22050 and len(w) >= 1

@needs_shared
def test_path_with_spaces_and_apostrophe():
    p = SHARED / 'musdb18_7' / 'train' / "Actions - Devil's Words" / 'mixture.flac'
    y, r = load_audio(p)
    assert r == 22050 and 6.5 < len(y) / r < 7.5

def test_bad_files_name_the_file(tmp_path):
    (tmp_path / 'zero.wav').write_bytes(b'')
    (tmp_path / 'text.wav').write_text('hello')
    save_audio(tmp_path / 'ok.flac', np.zeros(22050, np.float32) + 0.1, 22050)
    (tmp_path / 'trunc.flac').write_bytes((tmp_path / 'ok.flac').read_bytes()[:100])
    for name in ('zero.wav', 'text.wav', 'trunc.flac', 'nope.mp3'):
        with pytest.raises(AudioError, match=name): load_audio(tmp_path / name)

def test_short_clip_gives_one_looped_window(tmp_path):
    "A clip shorter than a window fills it by looping, never with silence (no clip-length cue; see tests/test_shortcuts.py)."
    save_audio(tmp_path / 's.wav', np.ones(int(2.2 * 16000), np.float32) * 0.5, 16000)
    y = load_clip(tmp_path / 's.wav', 22050)
    w = segment(y, 22050)
    assert w.shape == (1, 66150) and np.abs(w[0, -1000:] - 0.5).max() < 0.05
    assert segment(y, 22050, fill='zero')[0, -1000:].sum() == 0
