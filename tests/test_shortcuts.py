"""No clip-length cue reaches a model: a dataset whose label is only the clip length in training, swapped in test.

Measured when this test was written (smoke profile, 6 epochs, 32 test tracks, chance 0.5): with zero padding the 2D
model reads the length (validation 1.0) and scores 0.0 on the swap; with the clip looped, but the mel image still
normalised to its loudest cell and frames seeing zeros before the clip's start, it still read it (validation 0.83-0.92,
test 0.22-0.28); with both fixed, over four datasets drawn like this one with 1.3 s and with 2.4 s short clips, test
accuracy 0.31-0.56 (mean 0.45, 2d and ic alike). A looped clip repeats itself, which attention could in principle
notice; the mean a little under 0.5 may be that, or noise (sd of one score 0.09)."""
import zlib
import numpy as np
import pandas as pd
import pytest

SHORT, LONG, SR = 2.4, 6., 16000   # most short GTZAN excerpts are 2.3-2.8 s

def _clip(seed:int, seconds:float)->np.ndarray:
    "Random notes (harmonic tones with decays, 0.1-0.4 s each) over soft noise: the same process for every clip."
    rng = np.random.default_rng(seed); n = int(seconds * SR); y = 0.01 * rng.standard_normal(n)
    t0 = 0
    while t0 < n:
        d = int(rng.uniform(0.1, 0.4) * SR); f0 = rng.uniform(150, 1500); t = np.arange(min(d, n - t0)) / SR
        note = sum(a * np.sin(2 * np.pi * k * f0 * t) for k, a in ((1, 1.), (2, .5), (3, .25))) * np.exp(-t * rng.uniform(2, 8))
        y[t0:t0 + len(t)] += rng.uniform(0.1, 0.4) * note; t0 += d
    return y.astype(np.float32)

def length_dataset(root, n_train=14, n_valid=4, n_test=16):
    "Synth layout; 'blues' clips are short and 'rock' clips long in train/valid, the other way round in test."
    from icff_kit.audio import save_audio
    from icff_kit.core import atomic_write_text
    rows, splits = [], {'train': [], 'valid': [], 'test': []}
    for side, n in (('train', n_train), ('valid', n_valid), ('test', n_test)):
        for g in ('blues', 'rock'):
            for k in range(n):
                tid = f'{g}.{side}{k:03d}'; seconds = SHORT if (g == 'blues') == (side != 'test') else LONG
                y = _clip(zlib.crc32(f'{g}/{side}/{k}'.encode()), seconds); d = root / g / tid
                save_audio(d / 'mix.wav', y, SR); save_audio(d / 'accompaniment.wav', y, SR); save_audio(d / 'vocals.wav', 0 * y, SR)
                rows.append(dict(track_id=tid, genre=g, mix=f'{g}/{tid}/mix.wav', vocals=f'{g}/{tid}/vocals.wav',
                                 accompaniment=f'{g}/{tid}/accompaniment.wav', seconds=seconds, sr=SR, seed=k, fusion=0., partner='', style='{}'))
                splits[side].append(tid)
    atomic_write_text(root / 'manifest.csv', pd.DataFrame(rows).to_csv(index=False))
    return root, splits

@pytest.fixture(scope='module')
def lengths(tmp_path_factory):
    return length_dataset(tmp_path_factory.mktemp('lengths') / 'data')

def _score(lengths, monkeypatch, tmp_path, variant, fill):
    monkeypatch.setenv('ICFF_CACHE', str(tmp_path / 'cache')); monkeypatch.setenv('ICFF_PROGRESS', '0')
    from icff_kit.core import profile
    from icff_kit.train import run_experiment
    root, splits = lengths
    cfg = profile('smoke', dataset='synth', model__variant=variant, separation__backend='reference', audio__fill=fill, train__epochs=6)
    r = run_experiment(cfg, root, splits=splits, progress_bar=False)
    return r['metrics']['accuracy'], r['history']['val_acc'].max()

@pytest.mark.parametrize('variant', ['2d', 'ic'])
def test_clip_length_is_no_cue(lengths, monkeypatch, tmp_path, variant):
    "Looped clips: whatever the model learns from lengths in training, it cannot apply it: test accuracy at chance (0.5), not below."
    acc, val = _score(lengths, monkeypatch, tmp_path, variant, 'loop')
    assert acc >= 0.3, (acc, val)

def test_zero_padding_was_a_cue(lengths, monkeypatch, tmp_path):
    "The same data with the old zero padding: the model reads the length (validation near 1) and is below chance on the swap."
    acc, val = _score(lengths, monkeypatch, tmp_path, '2d', 'zero')
    assert val >= 0.9 and acc <= 0.2, (acc, val)
