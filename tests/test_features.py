"Features on real clips from ../shared/data: shapes at every profile, short clips, band limit, cache, CLI."
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from icff_kit.core import profile, input_shapes, IcffError
from icff_kit.audio import load_clip, save_audio, audio_info
from icff_kit.features import (mel_crops, inputs_1d, resolve_fmax, FeatureCache, feature_key, to_model_inputs,
                               n_crops, cli_features, acc_variant)

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason='../shared/data not present')
MINI = SHARED / 'gtzan_mini' / 'genres_original'
AU = SHARED / 'gtzan_au' / 'genres'

def _tone(seconds, sr=22050, f0=440.):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f0 * t) + 0.05 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32)

@pytest.mark.parametrize('prof', ['smoke', 'cpu', 'paper'])
def test_shapes_match_the_model_contract(prof):
    cfg = profile(prof); sr = cfg.audio.sr
    sh = input_shapes(cfg)
    y = _tone(cfg.audio.clip_seconds, sr)
    k = n_crops(len(y), cfg)
    img = mel_crops(y, sr, cfg); xt, xf = inputs_1d(y, sr, cfg)
    assert img.shape == (k,) + sh['img'] and img.dtype == np.uint8
    assert xt.shape == (k,) + sh['x_t1'] and xf.shape == (k,) + sh['x_f1']
    assert k == int(cfg.audio.clip_seconds // cfg.audio.window_seconds)
    b = to_model_inputs(dict(img=img, x_t1=xt, x_f1=xf))
    assert all(str(v.dtype) == 'torch.float32' for v in b.values())
    assert 0 <= float(b['img'].min()) and float(b['img'].max()) <= 1 and float(b['img'].max()) > 0.9
    assert np.isfinite(xf.astype(np.float32)).all() and xf.min() >= 0

@pytest.mark.parametrize('seconds,n', [(2.5, 1), (3.0, 1), (15., 5), (30., 10), (31., 10)])
def test_window_counts_of_short_and_long_clips(seconds, n):
    cfg = profile('cpu')
    y = _tone(seconds)
    assert mel_crops(y, 22050, cfg).shape[0] == n
    xt, _ = inputs_1d(y, 22050, cfg)
    assert xt.shape[0] == n
    if seconds < 3:  # one window, completed by looping the clip: its tail is the clip again, never silence
        tail = xt[0].ravel()[int(seconds * 22050) + 300:].astype(np.float32)
        assert np.abs(tail).max() > 0.1 and np.abs(tail).mean() > 0.05

@needs_shared
@pytest.mark.parametrize('rel', ['blues/blues.00073.flac', 'pop/pop.00047.flac', 'jazz/jazz.00000.flac'])
def test_real_gtzan_mini_clips(rel):
    cfg = profile('cpu'); p = MINI / rel
    y = load_clip(p, 22050, 30.)
    img = mel_crops(y, 22050, cfg, what=str(p)); xt, xf = inputs_1d(y, 22050, cfg)
    assert len(img) == len(xt) == n_crops(len(y), cfg) >= 1
    assert img.std() > 5   # an image, not a flat colour

@needs_shared
def test_band_limit_on_a_real_clip():
    "A 22.05 kHz GTZAN clip and its 16 kHz copy agree once fmax is the lowest Nyquist frequency."
    cfg = profile('cpu', audio__clip_seconds=9.)
    y22 = load_clip(AU / 'metal' / 'metal.00000.au', 22050, 9.)
    from icff_kit.audio import resample
    y16 = resample(y22, 22050, 16000)
    def gap(c):
        a, b = mel_crops(y22, 22050, c).astype(float), mel_crops(y16, 16000, c).astype(float)
        (_, fa), (_, fb) = inputs_1d(y22, 22050, c), inputs_1d(y16, 16000, c)
        return np.abs(a - b).mean() / 255, np.abs(fa.astype(float) - fb).mean() / np.abs(fa.astype(float)).mean()
    raw, res = gap(cfg), gap(resolve_fmax(cfg, [16000, 22050]))
    assert res[0] < raw[0] / 3 and res[0] < 0.02, (raw, res)
    assert res[1] < raw[1] / 3 and res[1] < 0.1, (raw, res)

@needs_shared
def test_resolve_fmax_from_gtzan_mini_rates():
    srs = [audio_info(MINI / r).sr for r in ('blues/blues.00073.flac', 'pop/pop.00047.flac')]
    assert resolve_fmax(profile('cpu'), srs).features.fmax == 8000.

def test_cache_round_trip_no_recompute_and_atomic(tmp_path):
    cfg = profile('smoke')
    save_audio(tmp_path / 'mix.wav', _tone(6.), 22050); save_audio(tmp_path / 'acc.wav', _tone(6., f0=220), 22050)
    fc = FeatureCache(tmp_path / 'c')
    calls = []
    def acc(): calls.append(1); return load_clip(tmp_path / 'acc.wav', 22050, 6.)
    a = fc.crops('x', tmp_path / 'mix.wav', cfg); xt, xf = fc.inputs_1d('x', 'acc:o', cfg, acc, tmp_path / 'acc.wav')
    files = sorted((tmp_path / 'c').rglob('*.npy')); mt = [f.stat().st_mtime_ns for f in files]
    b = fc.crops('x', tmp_path / 'mix.wav', cfg); xt2, xf2 = fc.inputs_1d('x', 'acc:o', cfg, acc, tmp_path / 'acc.wav')
    assert len(calls) == 1 and fc.stats['2d_hit'] == 1 and fc.stats['1d_hit'] == 1
    assert [f.stat().st_mtime_ns for f in files] == mt
    np.testing.assert_array_equal(a, b); np.testing.assert_array_equal(a, mel_crops(load_clip(tmp_path / 'mix.wav', 22050, 6.), 22050, cfg))
    rt, rf = inputs_1d(acc(), 22050, cfg)
    np.testing.assert_array_equal(xt2, rt); np.testing.assert_array_equal(xf2, rf)
    left = [f for f in (tmp_path / 'c').rglob('*') if f.is_file() and (f.name.startswith('.') or f.suffix != '.npy')]
    assert not left and len(files) == 2

def test_cache_key_relevant_and_irrelevant_fields():
    base = profile('cpu')
    same = [profile('cpu', model__cnn2d_widths=(1,) * 9), profile('cpu', train__epochs=1), profile('cpu', model__variant='2d')]
    for c in same:
        assert feature_key('2d', 't', 'mix', base) == feature_key('2d', 't', 'mix', c)
        assert feature_key('1d', 't', 'acc:o', base) == feature_key('1d', 't', 'acc:o', c)
    for ov in [dict(audio__sr=16000), dict(audio__window_seconds=2.), dict(features__n_mels=64), dict(features__fmax=8000.)]:
        assert feature_key('2d', 't', 'mix', base) != feature_key('2d', 't', 'mix', profile('cpu', **ov)), ov
    assert feature_key('1d', 't', 'acc:o', base) != feature_key('1d', 't', 'acc:o', profile('cpu', features__n_fft_1d=512))
    assert feature_key('1d', 't', 'acc:o', base) == feature_key('1d', 't', 'acc:o', profile('cpu', features__n_mels=64))

def test_augmented_variants_are_distinct_items(tmp_path):
    cfg = profile('smoke')
    save_audio(tmp_path / 'acc.wav', _tone(6., f0=220), 22050)
    fc = FeatureCache(tmp_path / 'c')
    out = {}
    for k in 'oab':
        v, src, fn = acc_variant('t', tmp_path / 'acc.wav', cfg, k, seed=0)
        out[k] = fc.inputs_1d('t', v, cfg, fn, src)[0]
    assert fc.stats['1d_miss'] == 3 and len(list((tmp_path / 'c').rglob('*.npy'))) == 3
    assert not np.array_equal(out['o'], out['a'])
    assert len(out['b']) == 1   # 6 s shifted by 1.5 s keeps one whole 3 s window

def _synth(root, n=2, seconds=6., sr=22050):
    for i, (g, f0) in enumerate([('rock', 330), ('jazz', 220), ('metal', 110)][:n]):
        d = root / g / f'{g}_0'; d.mkdir(parents=True)
        v, ac = _tone(seconds, sr, 2 * f0) * .5, _tone(seconds, sr, f0)
        save_audio(d / 'vocals.wav', v, sr); save_audio(d / 'accompaniment.wav', ac, sr); save_audio(d / 'mix.wav', v + ac, sr)

def test_cli_reference_backend_and_resume(tmp_path):
    _synth(tmp_path / 's', 3)
    (tmp_path / 's' / 'metal' / 'metal_0' / 'accompaniment.wav').write_bytes(b'')
    args = ['--dataset', 'synth', '--root', str(tmp_path / 's'), '--profile', 'smoke', '--backend', 'reference', '--cache', str(tmp_path / 'fc')]
    assert cli_features(args + ['--json', str(tmp_path / 'a.json')]) == 0
    r = json.loads((tmp_path / 'a.json').read_text())
    assert (r['n_tracks'], r['n_ok'], r['computed'], r['cached']) == (3, 2, {'2d': 3, '1d': 2}, {'2d': 0, '1d': 0})
    assert r['bad'][0]['track_id'] == 'metal_0' and 'accompaniment.wav' in r['bad'][0]['reason']
    assert cli_features(args + ['--json', str(tmp_path / 'b.json')]) == 0
    r = json.loads((tmp_path / 'b.json').read_text())
    assert r['computed'] == {'2d': 0, '1d': 0} and r['cached'] == {'2d': 3, '1d': 2}

def test_cli_console_script_errors(tmp_path):
    icff = Path(sys.executable).parent / 'icff'
    if not icff.exists(): pytest.skip('icff console script not installed')
    env = {**os.environ, 'ICFF_PROGRESS': '0', 'ICFF_CACHE': str(tmp_path / 'cache')}
    p = subprocess.run([str(icff), 'features', '--dataset', 'synth', '--root', str(tmp_path / 'missing'), '--backend', 'reference'],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 1 and 'icff features: error:' in p.stderr and 'missing' in p.stderr
    if SHARED.exists():
        p = subprocess.run([str(icff), 'features', '--dataset', 'gtzan', '--root', str(SHARED / 'gtzan_au'), '--backend', 'reference'],
                           capture_output=True, text=True, env=env)
        assert p.returncode == 1 and 'no reference accompaniment' in p.stderr

@needs_shared
def test_cli_gtzan_2d_only(tmp_path):
    env_cache = tmp_path / 'fc'
    args = ['--dataset', 'gtzan', '--root', str(SHARED / 'gtzan_au'), '--profile', 'smoke', '--no-1d', '--max-tracks', '2',
            '--cache', str(env_cache), '--json', str(tmp_path / 'r.json')]
    assert cli_features(args) == 0
    r = json.loads((tmp_path / 'r.json').read_text())
    assert r['n_ok'] == 2 and r['computed']['2d'] == 2 and r['fmax'] == 11025.
    assert len(list(env_cache.rglob('*.npy'))) == 2

def test_ismir_excerpts_are_separated_alone(tmp_path, monkeypatch):
    "A full-length song whose manifest row points at an excerpt gets only the excerpt separated, and its 1D input reads that stem from 0."
    monkeypatch.setenv('ICFF_CACHE', str(tmp_path / 'cache')); monkeypatch.setenv('ICFF_PROGRESS', '0')
    sys.path.insert(0, str(Path(__file__).parent))
    from test_datasets import make_ismir
    from icff_kit.datasets import load_manifest
    from icff_kit.features import accompaniment_stems, acc_variant, precompute
    from icff_kit.separation import stem_span
    from icff_kit.audio import load_audio
    df = load_manifest('ismir2004', make_ismir(tmp_path / 'ismir', parts=('training',)))
    assert (df['offset'] > 0).any()                                   # 33-40 s songs: the middle 30 s start after 0
    cfg = resolve_fmax(profile('smoke', dataset='ismir2004', separation__backend='repet'), df['sr'])
    clip = cfg.audio.clip_seconds
    from icff_kit.cli import main
    assert main(['separate', '--dataset', 'ismir2004', '--root', str(tmp_path / 'ismir'), '--backend', 'repet', '--profile', 'smoke']) == 0
    made = set((tmp_path / 'cache' / 'stems').rglob('accompaniment.*'))
    stems, bad = accompaniment_stems(df, 'repet', None, clip)
    assert not bad and len(stems) == len(df)
    assert set(stems.values()) <= made and set((tmp_path / 'cache' / 'stems').rglob('accompaniment.*')) == made  # icff separate made them all
    for r in df.itertuples(index=False):
        s = stems[r.track_id]; info = audio_info(s)
        if r.offset > 0:
            assert stem_span(s) == (r.offset, clip) and abs(info.frames / info.sr - clip) < 0.05   # the excerpt, not the song
        else: assert stem_span(s) is None
        v, src, fn = acc_variant(r.track_id, s, cfg, 'o', 0, r.offset)
        y, want = fn(), load_audio(s, sr=cfg.audio.sr)[0][:int(clip * cfg.audio.sr)]
        assert len(y) == len(want) and np.allclose(y, want)           # read from the stem's start, whole excerpt
    rep = precompute(df, cfg, stems, 'o', FeatureCache(tmp_path / 'feat'))
    assert not rep['bad'] and rep['n_ok'] == len(df)
    again, _ = accompaniment_stems(df, 'repet', None, clip)           # cached: the same files, nothing separated
    assert again == stems
