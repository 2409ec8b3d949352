"The three augmentations (noise, 1.5 s shift, SoundTouch stretch) on 30 s clips and real audio from ../shared/data."
import os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from icff_kit.core import IcffError
from icff_kit.audio import AudioError, load_audio, resample
from icff_kit import augment as A

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason='../shared/data not present')
SR = 22050

def _music(sr=SR, secs=30., seed=0):
    "A 30 s test signal: a few tones under a little noise."
    t = np.arange(int(secs * sr)) / sr; rng = np.random.default_rng(seed)
    y = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (220, 330, 523.25)) + 0.01 * rng.standard_normal(len(t))
    return y.astype(np.float32)

def _events(sr, secs=30., at=(5, 15, 25), dur=1.):
    "Silence with 440 Hz tone bursts starting at `at` seconds."
    y = np.zeros(int(secs * sr), np.float32); t = np.arange(int(dur * sr)) / sr
    for s in at: y[int(s * sr):int(s * sr) + len(t)] = 0.5 * np.sin(2 * np.pi * 440 * t)
    return y

def _starts(y, sr, thr=0.1):
    "Start times (s) of the bursts, from a 5 ms envelope."
    m = sr // 200; env = np.abs(y[:len(y) // m * m]).reshape(-1, m).max(1) > thr
    return np.flatnonzero(np.diff(env.astype(int)) == 1) * m / sr + m / sr

def _peak_hz(y, sr):
    return np.abs(np.fft.rfft(y * np.hanning(len(y)))).argmax() * sr / len(y)

# --- (c) time stretch ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', ['lib', 'cli'])
@pytest.mark.parametrize('rate', [0.9, 1.1])
def test_stretch_length_raw_and_fitted(backend, rate):
    y = _music()
    raw = (A._stretch_lib if backend == 'lib' else A._stretch_cli)(y, SR, rate, False)
    assert abs(len(raw) / SR - 30 / rate) < 0.005          # SoundTouch itself: 30/rate s within 5 ms
    z = A.time_stretch(y, SR, rate, backend=backend)
    assert z.dtype == np.float32 and len(z) == round(30 * SR / rate)

@pytest.mark.parametrize('backend', ['lib', 'cli'])
@pytest.mark.parametrize('rate', [0.9, 1.1])
def test_stretch_moves_content_and_keeps_pitch(backend, rate):
    y = _events(SR)
    z = A.time_stretch(y, SR, rate, backend=backend)
    np.testing.assert_allclose(_starts(z, SR), np.array([5, 15, 25]) / rate, atol=0.02)
    for s in (5, 15, 25):                                   # 1 s FFT: 1 Hz bins; resampling would give 396 / 484 Hz
        i = int((s / rate + 0.05) * SR); seg = z[i:i + int(0.85 * SR)]
        assert abs(_peak_hz(seg, SR) - 440) <= 2 * SR / len(seg)

def test_stretch_keeps_chord():
    y = _music(secs=10.)
    z = A.time_stretch(y, SR, 0.9)
    f = np.abs(np.fft.rfft(z[:SR * 8] * np.hanning(SR * 8))); hz = np.fft.rfftfreq(SR * 8, 1 / SR)
    for f0 in (220, 330, 523.25):          # within 2 Hz (two bins of a 1 s FFT); resampling by 0.9 moves them 10 %
        band = np.abs(hz - f0) < 30
        assert abs(hz[band][f[band].argmax()] - f0) <= 2 and f[band].max() > 100 * np.median(f)

def test_stretch_stereo_and_quick():
    y = np.stack([_music(secs=5.), _music(secs=5., seed=1)], 1)
    z = A.time_stretch(y, SR, 1.1, quick=True)
    assert z.shape == (round(5 * SR / 1.1), 2)
    zc = A.time_stretch(y, SR, 1.1, backend='cli')
    assert zc.shape == z.shape

def test_stretch_backends_agree_in_kind():
    y = _events(SR, secs=10., at=(2, 6))
    zl, zc = (A.time_stretch(y, SR, 0.9, backend=b) for b in ('lib', 'cli'))
    np.testing.assert_allclose(_starts(zl, SR), _starts(zc, SR), atol=0.02)
    assert abs(np.abs(zl).max() - np.abs(zc).max()) < 0.05

def test_stretch_bad_input():
    y = _music(secs=1.)
    with pytest.raises(IcffError, match='outside SoundTouch'): A.time_stretch(y, SR, 0.)
    with pytest.raises(AudioError, match='positive integer'): A.time_stretch(y, -1, 0.9)
    with pytest.raises(AudioError, match='17 channels'): A.time_stretch(np.zeros((100, 17), np.float32), SR, 0.9)
    with pytest.raises(AudioError, match='NaN'): A.time_stretch(np.full(100, np.nan, np.float32), SR, 0.9)
    with pytest.raises(AudioError, match='int16'): A.time_stretch(np.zeros(100, np.int16), SR, 0.9)

def test_no_soundtouch_names_what_to_install(monkeypatch):
    monkeypatch.setenv('ICFF_SOUNDTOUCH_LIB', 'none'); monkeypatch.setenv('ICFF_SOUNDSTRETCH', 'none')
    with pytest.raises(IcffError) as e: A.time_stretch(_music(secs=1.), SR, 0.9)
    msg = str(e.value)
    assert 'apt-get install libsoundtouch1' in msg and 'apt-get install soundstretch' in msg
    assert 'libSoundTouchDll' in msg and 'soundstretch' in msg
    with pytest.raises(IcffError, match='needs SoundTouch'): A.apply(_music(secs=1.), SR, 'c', seed=0)
    # a, b and o need no SoundTouch
    assert len(A.augmented_variants(_music(secs=3.), SR, 'ab', seed=0)) == 3

def test_library_missing_falls_back_to_tool(monkeypatch):
    monkeypatch.setenv('ICFF_SOUNDTOUCH_LIB', '/nowhere/libSoundTouchDll.so.1')
    assert A.soundtouch_backend() == 'cli'
    z = A.time_stretch(_events(SR, secs=4., at=(1,)), SR, 0.9)
    np.testing.assert_allclose(_starts(z, SR), [1 / 0.9], atol=0.02)
    monkeypatch.setenv('ICFF_SOUNDSTRETCH', '/nowhere/soundstretch')
    with pytest.raises(IcffError, match='/nowhere/libSoundTouchDll.so.1 cannot be loaded'): A.soundtouch_backend('lib')
    with pytest.raises(IcffError, match='soundstretch. tool is not on PATH'): A.soundtouch_backend('cli')

def test_tool_failure_is_reported(monkeypatch, tmp_path):
    fake = tmp_path / 'soundstretch'; fake.write_text('#!/bin/sh\necho "cannot open stdin" >&2\nexit 3\n'); fake.chmod(0o755)
    monkeypatch.setenv('ICFF_SOUNDSTRETCH', str(fake))
    with pytest.raises(IcffError, match='soundstretch failed .exit 3.: cannot open stdin'):
        A.time_stretch(_music(secs=1.), SR, 0.9, backend='cli')

# --- (b) time shift -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('sr', [22050, 44100, 16000])
def test_shift_exact(sr):
    y = np.random.default_rng(0).uniform(0.1, 1, 30 * sr).astype(np.float32)    # never 0
    z = A.time_shift(y, sr); k = int(1.5 * sr)
    assert z.shape == y.shape and z.dtype == np.float32
    np.testing.assert_array_equal(z[:-k], y[k:])                 # content moved left by exactly 1.5 s
    assert not z[-k:].any() and z[-k - 1] != 0                   # exactly 1.5 s of silence at the end
    w = A.shift_windows(z, sr)
    assert w.shape == (9, 3 * sr) and np.all(np.abs(w).min(1) > 0)   # nine windows, none touching the silence
    np.testing.assert_array_equal(w.reshape(-1), y[k:k + 27 * sr])

def test_shift_short_clips():
    assert A.shift_windows(A.time_shift(np.ones(int(5 * SR), np.float32), SR), SR).shape == (1, 3 * SR)
    with pytest.raises(AudioError, match='cannot be shifted'): A.time_shift(np.ones(SR, np.float32), SR)
    with pytest.raises(AudioError, match='no full 3.0 s window'): A.shift_windows(np.ones(4 * SR, np.float32), SR)

# --- (a) noise ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('seed', [0, 1, 2, 12345, A.track_seed('rock.00001')])
def test_noise_within_documented_range(seed):
    y = _music(secs=10.)
    z, p = A.add_noise(y, seed, return_params=True)
    lo, hi = A.NOISE_REL_AMP; glo, ghi = A.NOISE_GAIN
    assert lo <= p['rel_amp'] <= hi and glo <= p['gain'] <= ghi
    peak = np.abs(y).max(); noise = z - p['gain'] * y
    assert np.abs(noise).max() <= hi * peak * (1 + 1e-4)
    assert np.abs(noise).max() <= p['amp'] * (1 + 1e-4) and np.abs(noise).max() > 0.999 * p['amp']
    h, _ = np.histogram(noise, bins=10, range=(-p['amp'], p['amp']))   # flat: uniform, not Gaussian
    assert h.min() > 0.9 * len(noise) / 10 and h.max() < 1.1 * len(noise) / 10
    assert abs(np.corrcoef(noise, y)[0, 1]) < 0.02

def test_noise_scales_with_clip():
    y = _music(secs=5.)
    for s in (0.01, 1.):   # the same relative level, whatever the recording's loudness
        z, p = A.add_noise(y * s, 3, return_params=True)
        np.testing.assert_allclose(p['amp'], p['rel_amp'] * np.abs(y * s).max(), rtol=1e-6)

# --- seeds and combinations ---------------------------------------------------------------------------------

@pytest.mark.parametrize('kind', ['a', 'b', 'c'])
def test_same_seed_same_output(kind):
    y = _music(secs=6.)
    np.testing.assert_array_equal(A.apply(y, SR, kind, 11), A.apply(y, SR, kind, 11))

def test_different_seeds_differ():
    y = _music(secs=6.)
    assert not np.array_equal(A.apply(y, SR, 'a', 1), A.apply(y, SR, 'a', 2))
    seeds = [A.track_seed(f'disco.{i:05d}', 0) for i in range(60)]
    rates = [A.stretch_rate(s) for s in seeds]
    assert set(rates) == {0.9, 1.1} and 15 <= rates.count(0.9) <= 45
    assert len({round(A.noise_params(s)['gain'], 6) for s in seeds}) == 60
    lens = {len(A.apply(y, SR, 'c', s)) for s in seeds[:8]}
    assert lens <= {round(len(y) / 0.9), round(len(y) / 1.1)}

def test_track_seed_is_stable_across_processes():
    code = "from icff_kit.augment import track_seed; print(track_seed('jazz.00054', 7))"
    outs = {subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                           env={**os.environ, 'PYTHONHASHSEED': h}).stdout.strip() for h in ('1', '2')}
    assert outs == {str(A.track_seed('jazz.00054', 7))}
    assert A.track_seed('jazz.00054', 7) != A.track_seed('jazz.00054', 8) != A.track_seed('jazz.00055', 7)

@pytest.mark.parametrize('combo,kinds', [('o', 'o'), ('a', 'oa'), ('b', 'ob'), ('c', 'oc'), ('ab', 'oab'),
                                         ('ac', 'oac'), ('bc', 'obc'), ('abc', 'oabc')])
def test_combinations(combo, kinds):
    y = _music(secs=6.)
    v = A.augmented_variants(y, SR, combo, seed=4)
    assert list(v) == list(kinds) and A.copies(combo) == list(kinds)
    full = A.augmented_variants(y, SR, 'abc', seed=4)
    for k in v: np.testing.assert_array_equal(v[k], full[k])   # a copy is the same in every combination
    np.testing.assert_array_equal(v['o'], y)

@pytest.mark.parametrize('bad', ['', 'd', 'ba', 'abcd', 'ABC', 'oa', None])
def test_bad_combination_lists_valid_ones(bad):
    with pytest.raises(IcffError, match='valid names are o, a, b, c, ab, ac, bc, abc'): A.copies(bad)

def test_bad_seed_and_kind():
    with pytest.raises(IcffError, match='non-negative integer'): A.apply(_music(secs=3.), SR, 'a', -3)
    with pytest.raises(IcffError, match='valid kinds are o, a, b, c'): A.apply(_music(secs=3.), SR, 'ab', 0)

def test_windows_of_30s_copies():
    y = _music()
    v = A.augmented_variants(y, SR, 'abc', seed=0)
    n = {k: len(A.variant_windows(x, SR, k)) for k, x in v.items()}
    assert n['o'] == n['a'] == 10 and n['b'] == 9
    assert n['c'] == (11 if A.stretch_rate(0) == 0.9 else 9)
    assert A.variant_windows(v['c'], SR, 'c', max_windows=10).shape[0] <= 10

# --- real audio ---------------------------------------------------------------------------------------------

def _ltas(y, n=4096):
    k = len(y) // n
    return np.log(np.abs(np.fft.rfft(y[:k * n].reshape(k, n) * np.hanning(n), axis=1)).mean(0)[20:1200] + 1e-6)

@needs_shared
@pytest.mark.parametrize('track', ["Actions - Devil's Words", 'ANiMAL - Rockshow'])
def test_real_accompaniment_keeps_its_spectrum(track):
    acc, sr = load_audio(SHARED / 'musdb18_7' / 'train' / track / 'accompaniment.flac')
    ref = _ltas(acc)
    for rate in (0.9, 1.1):
        z = A.time_stretch(acc, sr, rate)
        naive = resample(acc, sr, int(sr * rate))     # the same length change by resampling: pitch moves
        kept, moved = np.corrcoef(ref, _ltas(z))[0, 1], np.corrcoef(ref, _ltas(naive))[0, 1]
        assert kept > 0.95 and kept > moved + 0.05, (rate, kept, moved)

@needs_shared
def test_real_30s_clip_all_variants():
    y, sr = load_audio(SHARED / 'gtzan_au' / 'genres' / 'rock' / 'rock.00000.au')
    y = y[:30 * sr]
    seed = A.track_seed('rock.00000', 0)
    v = A.augmented_variants(y, sr, 'abc', seed)
    rate = A.stretch_rate(seed)
    assert {k: len(x) for k, x in v.items()} == {'o': len(y), 'a': len(y), 'b': len(y), 'c': round(len(y) / rate)}
    assert A.variant_windows(v['b'], sr, 'b').shape == (9, 3 * sr)
    assert all(np.isfinite(x).all() and x.dtype == np.float32 for x in v.values())
