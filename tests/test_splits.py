"Track-level splits: fault-filtered lists (shipped), gtzan_mini protocols, random/kfold/official, leakage."
import json
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from icff_kit.core import IcffError, profile
from icff_kit.splits import (fault_lists, split_tracks, check_leakage, split_counts, save_splits, load_splits,
                             split_from_config, SplitError)

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason='../shared/data not present')
GENRES = ('blues', 'classical', 'country', 'disco', 'hiphop', 'jazz', 'metal', 'pop', 'reggae', 'rock')

def toy(n=(20, 20, 20), genres=('blues', 'rock', 'jazz')):
    ids = [f'{g}.{i:05d}' for g, k in zip(genres, n) for i in range(k)]
    return pd.DataFrame(dict(track_id=ids, genre=[t.split('.')[0] for t in ids]))

@pytest.fixture(scope='module')
def mini():
    if not SHARED.exists(): pytest.skip('../shared/data not present')
    from icff_kit.datasets import load_manifest
    return load_manifest('gtzan', SHARED / 'gtzan_mini', check='header')

def test_fault_lists_shipped_in_package():
    fl = fault_lists()
    assert {k: len(v) for k, v in fl.items()} == dict(train=443, valid=197, test=290)
    assert not (set(fl['train']) & set(fl['valid'])) and not (set(fl['train']) & set(fl['test'])) and not (set(fl['valid']) & set(fl['test']))
    assert all(t.split('.')[0] in GENRES and len(t.split('.')[1]) == 5 for t in sum(fl.values(), []))
    import icff_kit
    assert (Path(icff_kit.__file__).parent / 'data' / 'splits' / 'gtzan_fault_filtered' / 'test.txt').is_file()

@needs_shared
def test_fault_lists_match_shared_copy():
    fl = fault_lists()
    for side in ('train', 'valid', 'test'):
        assert fl[side] == (SHARED / 'splits' / 'gtzan_fault_filtered' / f'{side}.txt').read_text().split()

def test_fault_full_dataset_standard_protocol():
    ids = [f'{g}.{i:05d}' for g in GENRES for i in range(100)]
    full = pd.DataFrame(dict(track_id=ids, genre=[t.split('.')[0] for t in ids]))
    s = split_tracks(full, 'fault')
    assert (len(s['train']), len(s['valid']), len(s['test'])) == (443, 197, 290)
    assert len(split_tracks(full, 'fault', outside='train')['train']) == 443 + 70

def test_fault_on_gtzan_mini_protocol(mini, caplog):
    have = {k: len(set(v) & set(mini.track_id)) for k, v in fault_lists().items()}
    assert have == dict(train=244, valid=106, test=0)
    with caplog.at_level('WARNING', logger='icff_kit'):
        s = split_tracks(mini, 'fault', outside='train', val_fraction=0.1)
    assert 'testing on the 106 valid-list ids' in caplog.text
    assert s['test'] == sorted(set(fault_lists()['valid']) & set(mini.track_id))
    assert len(s['train']) + len(s['valid']) == 244 + 50 and 20 <= len(s['valid']) <= 40
    check_leakage(s)
    assert s == split_tracks(mini, 'fault', outside='train', test_list='valid', val_fraction=0.1)
    d = split_tracks(mini, 'fault', val_fraction=0.1)          # ids outside the lists dropped
    assert len(d['train']) + len(d['valid']) == 244 and len(d['test']) == 106
    # every carved validation id comes from the training side, stratified
    c = split_counts(s, mini)
    assert (c.drop('total')['valid'] >= 1).all()

def test_random_is_stratified_seeded_and_by_track(mini):
    s = split_tracks(mini, 'random', seed=0)
    c = split_counts(s, mini).drop('total')
    share = c['test'] / c.sum(axis=1)
    assert share.between(0.15, 0.25).all() and c['test'].sum() == 80
    assert s == split_tracks(mini, 'random', seed=0) and s['test'] != split_tracks(mini, 'random', seed=1)['test']
    assert split_tracks(mini, 'random', seed=0, val_fraction=0.2)['test'] == s['test']
    assert sorted(s['train'] + s['valid'] + s['test']) == sorted(mini.track_id)

def test_kfold_covers_everything_once():
    df = toy((23, 17, 11))
    tests = [split_tracks(df, 'kfold', k=5, fold=f, val_fraction=0.)['test'] for f in range(5)]
    assert sorted(sum(tests, [])) == sorted(df.track_id)
    assert max(map(len, tests)) - min(map(len, tests)) <= 1
    for f in range(5):
        s = split_tracks(df, 'kfold', k=5, fold=f)
        check_leakage(s); assert len(s['train']) + len(s['valid']) + len(s['test']) == len(df)
    with pytest.raises(SplitError, match='kfold needs'): split_tracks(df, 'kfold', k=1)

def test_official_ismir_parts():
    df = toy((30, 30, 30), ('classical', 'rock_pop', 'world'))
    df['split'] = np.array(['training', 'development', 'evaluation'])[np.arange(len(df)) % 3]
    s = split_tracks(df, 'official', val_fraction=0.1)
    assert set(s['test']) == set(df.track_id[df.split == 'development'])
    assert set(s['train'] + s['valid']) == set(df.track_id[df.split == 'training']) and len(s['valid']) == 3
    assert set(split_tracks(df, 'official', official_test='evaluation')['test']) == set(df.track_id[df.split == 'evaluation'])
    assert split_tracks(df, 'auto') == s
    assert split_tracks(df.drop(columns='split'), 'auto')['test'] == split_tracks(df.drop(columns='split'), 'random')['test']
    with pytest.raises(SplitError, match="'split' column"): split_tracks(df.drop(columns='split'), 'official')

def test_leakage_is_loud():
    check_leakage(dict(train=['a.1'], valid=['a.2'], test=['a.3']))
    with pytest.raises(IcffError, match=r'track leakage: 1 track\(s\) on more than one side: a\.2 \(train/valid\)'):
        check_leakage(dict(train=['a.1', 'a.2'], valid=['a.2'], test=[]))
    wins = dict(train=['a.1#0', 'a.1#1', 'a.2@ab#0'], test=['a.1@c#3'])
    with pytest.raises(SplitError, match=r'a\.1 \(test/train\)'):
        check_leakage(wins, track_of=lambda w: w.split('#')[0].split('@')[0])

def test_bad_inputs():
    df = toy()
    with pytest.raises(SplitError, match="unknown split 'fualt'"): split_tracks(df, 'fualt')
    with pytest.raises(SplitError, match='duplicate track ids'): split_tracks(pd.concat([df, df.head(2)]))
    with pytest.raises(SplitError, match='test_fraction'): split_tracks(df, test_fraction=1.0)
    with pytest.raises(SplitError, match='left 0 for training|left .* and 0 for testing'): split_tracks(toy((1, 1, 1)))
    with pytest.raises(SplitError, match="outside must be"): split_tracks(df, 'fault', outside='test')

def test_save_load_and_config(tmp_path):
    df = toy()
    s = split_tracks(df, 'random', seed=3)
    save_splits(s, tmp_path / 's.json', kind='random', seed=3)
    assert load_splits(tmp_path / 's.json') == s
    assert json.loads((tmp_path / 's.json').read_text())['meta'] == dict(kind='random', seed=3)
    (tmp_path / 'leak.json').write_text(json.dumps(dict(train=['x'], valid=['x'], test=[])))
    with pytest.raises(SplitError, match='x'): load_splits(tmp_path / 'leak.json')
    with pytest.raises(SplitError, match='split file not found'): load_splits(tmp_path / 'none.json')
    assert split_from_config(df, profile('smoke', seed=3)) == s
