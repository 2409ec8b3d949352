"Dataset manifests on ../shared/data (gtzan_mini, gtzan_au), bad files, generated ISMIR2004 and synth roots, the CLI."
import csv, json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from icff_kit.core import IcffError
from icff_kit.cli import main as icff
from icff_kit.datasets import (load_manifest, validate, format_report, read_manifest, write_manifest, manifest_path,
                               ismir_label, DATASETS, GTZAN_GENRES, ISMIR_GENRES, FUSION_SUBSETS, BASE_COLUMNS)

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason='../shared/data not present')
MINI_COUNTS = dict(jazz=53, disco=52, pop=47, hiphop=44, reggae=43, metal=37, country=36, blues=35, rock=28, classical=25)

@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv('ICFF_CACHE', str(tmp_path / 'cache'))
    monkeypatch.setenv('ICFF_PROGRESS', '0')

def tone(path, seconds, sr=8000, f0=220.):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.2 * np.sin(2 * np.pi * f0 * t)).astype(np.float32), sr)
    return path

@needs_shared
def test_gtzan_mini_counts_rates_and_columns():
    df = load_manifest('gtzan', SHARED / 'gtzan_mini')
    rep = validate(df)
    assert rep['n_tracks'] == 400 and rep['n_bad'] == 0 and rep['n_dropped'] == 0
    assert rep['genres'] == {g: MINI_COUNTS[g] for g in GTZAN_GENRES}
    assert set(rep['sample_rates']) == {16000, 22050} and rep['mixed_rates'] and rep['lowest_nyquist'] == 8000
    assert 1.9 < rep['duration']['min'] < 3.1 and 29 < rep['duration']['max'] < 31
    assert rep['short']['n'] > 200                       # the 2-3 s excerpts: kept, reported as shorter than a window
    assert list(df.columns) == BASE_COLUMNS and df.track_id.is_unique
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in df.path)
    r = df.set_index('track_id')
    assert r.loc['blues.00073', 'sr'] == 16000 and r.loc['pop.00047', 'sr'] == 22050
    assert (df.offset == 0).all() and (df.source == 'gtzan').all()
    assert 'blues 35' in format_report(rep)

@needs_shared
def test_gtzan_au_layout():
    df = load_manifest('gtzan', SHARED / 'gtzan_au')
    rep = validate(df)
    assert rep['layout'] == 'genres' and rep['n_tracks'] == 8 and set(rep['missing_genres']) == {'hiphop', 'pop'}
    assert set(df.sr) == {22050} and df.duration.between(29.5, 30.5).all()
    assert df.path.str.endswith('.au').all()

@needs_shared
def test_gtzan_f_subset():
    df = load_manifest('gtzan-f', SHARED / 'gtzan_mini')
    assert df.genre.value_counts().to_dict() == {g: MINI_COUNTS[g] for g in FUSION_SUBSETS['gtzan-f']}
    assert validate(df)['missing_genres'] == []

@needs_shared
def test_bad_files_are_reported_and_skipped(tmp_path):
    src = SHARED / 'gtzan_mini' / 'genres_original'
    root = tmp_path / 'gtzan'
    for g, i in (('blues', '00000'), ('rock', '00000'), ('metal', '00000')):
        (root / 'genres_original' / g).mkdir(parents=True, exist_ok=True)
        (root / 'genres_original' / g / f'{g}.{i}.flac').symlink_to(src / g / f'{g}.{i}.flac')
    b = (src / 'jazz' / 'jazz.00000.flac').read_bytes()
    (root / 'genres_original' / 'jazz').mkdir()
    (root / 'genres_original' / 'jazz' / 'jazz.00000.flac').write_bytes(b[:len(b) // 2])   # truncated
    (root / 'genres_original' / 'pop').mkdir()
    (root / 'genres_original' / 'pop' / 'pop.00054.wav').write_bytes(b'')                   # zero bytes
    (root / 'genres_original' / 'disco' ).mkdir()
    (root / 'genres_original' / 'disco' / 'disco.00001.wav').write_text('this is not audio')  # text named .wav
    df = load_manifest('gtzan', root)
    assert sorted(df.track_id) == ['blues.00000', 'metal.00000', 'rock.00000']
    bad = {Path(b['path']).name: b['reason'] for b in df.attrs['bad']}
    assert set(bad) == {'jazz.00000.flac', 'pop.00054.wav', 'disco.00001.wav'}
    assert 'truncated' in bad['jazz.00000.flac'] and 'jazz.00000.flac' in bad['jazz.00000.flac']
    assert 'pop.00054.wav' in bad['pop.00054.wav'] and 'disco.00001.wav: cannot read audio header' in bad['disco.00001.wav']
    rep = validate(df)
    assert rep['n_bad'] == 3 and 'bad files (skipped): 3' in format_report(rep)
    # header-only scanning does not see the truncation: the tail check is what catches it
    assert 'jazz.00000' in set(load_manifest('gtzan', root, check='header').track_id)

def test_root_errors(tmp_path, monkeypatch):
    with pytest.raises(IcffError, match='nowhere: gtzan root not found'): load_manifest('gtzan', tmp_path / 'nowhere')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(IcffError, match='empty folder; expected GTZAN'): load_manifest('gtzan', tmp_path / 'empty')
    (tmp_path / 'odd' / 'stuff').mkdir(parents=True); (tmp_path / 'odd' / 'x.txt').write_text('x')
    with pytest.raises(IcffError, match='not a GTZAN folder; expected .*genres_original'): load_manifest('gtzan', tmp_path / 'odd')
    with pytest.raises(IcffError, match='not an ISMIR2004 folder'): load_manifest('ismir2004', tmp_path / 'odd')
    with pytest.raises(IcffError, match='not a synth folder; expected ROOT/manifest.csv'): load_manifest('synth', tmp_path / 'odd')
    with pytest.raises(IcffError, match="unknown dataset 'gtzn'"): load_manifest('gtzn', tmp_path)
    monkeypatch.setenv('ICFF_DATA', str(tmp_path))
    with pytest.raises(IcffError, match='ICFF_DATA'): load_manifest('gtzan')
    tone(tmp_path / 'gtzan' / 'genres' / 'rock' / 'rock.00001.au', 1.)
    assert load_manifest('gtzan').track_id.tolist() == ['rock.00001']

def make_ismir(root, parts=('training', 'development'), sr=8000):
    """A small ISMIR2004 root in the Zenodo layout: per part 4 tracks of 31-40 s and 2 under 30 s."""
    spec = [('classical', 31), ('jazz', 33), ('metal', 35), ('rock', 40), ('world', 12), ('electronic', 29.5)]
    for part in parts:
        rows = []
        for i, (g, s) in enumerate(spec):
            if part == 'development':
                rel = f'artist_{i}_album_1_track_{i + 1}.mp3'
                rows.append([f'tracks/{rel}', {'jazz': 'jazz_blues', 'metal': 'metal_punk', 'rock': 'rock_pop'}.get(g, g)])
            else:
                rel = f'{g}/artist_{i}/album_{i}/{i + 1}-song_{i}.mp3'
                rows.append([{'jazz': 'jazz_blues', 'metal': 'metal_punk', 'rock': 'rock_pop'}.get(g, g), f'artist_{i}', f'album_{i}', f'song_{i}', str(i + 1), f'./{rel}'])
            tone(root / 'audio' / part / rel, s, sr, 200 + 30 * i)
        (root / 'metadata' / part).mkdir(parents=True, exist_ok=True)
        name = 'ground_truth.csv' if part == 'development' else 'tracklist.csv'
        with open(root / 'metadata' / part / name, 'w', newline='') as f: csv.writer(f, quoting=csv.QUOTE_ALL).writerows(rows)
    return root

def test_ismir2004_zenodo_layout(tmp_path):
    root = make_ismir(tmp_path / 'ismir', parts=('training', 'development', 'evaluation'))
    df = load_manifest('ismir2004', root)
    assert len(df) == 12 and set(df.genre) <= set(ISMIR_GENRES)
    assert df.split.value_counts().to_dict() == dict(training=4, development=4, evaluation=4)
    assert sorted(set(df.genre)) == ['classical', 'jazz_blues', 'metal_punk', 'rock_pop']
    assert len(df.attrs['dropped']) == 6 and all('shorter than 30 s' in d['reason'] for d in df.attrs['dropped'])
    assert np.allclose(df.offset, (df.duration - 30) / 2, atol=1e-3) and (df.excerpt_seconds == 30).all()
    assert df.track_id.is_unique and df.track_id.str.match(r'^(training|development|evaluation)\.[0-9a-f]{10}$').all()
    assert df[df.split == 'training'].relpath.str.startswith(('classical/', 'jazz/', 'metal/', 'rock/')).all()
    # ids are stable across scans
    assert load_manifest('ismir2004', root).track_id.tolist() == df.track_id.tolist()
    assert (load_manifest('ismir2004', root, excerpt='start').offset == 0).all()
    assert len(load_manifest('ismir2004', root, min_seconds=0)) == 18
    f = load_manifest('ismir2004-f', root)
    assert set(f.genre) == {'classical', 'metal_punk', 'rock_pop'} and len(f) == 9

def test_ismir2004_unlabelled_and_missing(tmp_path):
    root = make_ismir(tmp_path / 'ismir', parts=('training', 'development'))
    tone(root / 'audio' / 'development' / 'stray.mp3', 31)
    (root / 'audio' / 'training' / 'rock' / 'artist_3' / 'album_3' / '4-song_3.mp3').unlink()
    df = load_manifest('ismir2004', root)
    reasons = [b['reason'] for b in df.attrs['bad']]
    assert any('stray.mp3: no class' in r for r in reasons)
    assert any('4-song_3.mp3: listed in' in r and 'but missing' in r for r in reasons)
    assert len(df) == 7

def test_ismir_labels():
    assert [ismir_label(x) for x in ('Jazz & Blues', 'Metal-Punk', 'rock_pop', 'pop', 'electronic', 'folk')] == \
           ['jazz_blues', 'metal_punk', 'rock_pop', 'rock_pop', 'electronic', None]

def make_synth(root, genres=('rock', 'metal', 'disco'), n=2, seconds=1., sr=8000):
    rows = []
    for g in genres:
        for i in range(n):
            tid = f'{g}.{i:05d}'; d = root / g / tid; d.mkdir(parents=True)
            t = np.arange(int(seconds * sr)) / sr
            v = 0.1 * np.sin(2 * np.pi * 330 * t); a = 0.1 * np.sin(2 * np.pi * (110 + 10 * i) * t)
            for name, y in (('vocals', v), ('accompaniment', a), ('mix', v + a)): sf.write(str(d / f'{name}.wav'), y.astype(np.float32), sr)
            rows.append(dict(track_id=tid, genre=g, mix=f'{g}/{tid}/mix.wav', vocals=f'{g}/{tid}/vocals.wav',
                             accompaniment=f'{g}/{tid}/accompaniment.wav', seconds=seconds, sr=sr, seed=100 + i,
                             fusion=0.3, partner={'rock': 'metal', 'metal': 'rock', 'disco': 'hiphop'}[g],
                             style=json.dumps(dict(tempo=100 + i, swing=0.1))))
    pd.DataFrame(rows).to_csv(root / 'manifest.csv', index=False)
    return root

def test_synth_contract(tmp_path):
    root = make_synth(tmp_path / 'synth')
    df = load_manifest('synth', root)
    assert len(df) == 6 and df.attrs['layout'] == 'manifest'
    for c in BASE_COLUMNS + ['vocals', 'accompaniment', 'fusion', 'partner', 'seed', 'style']: assert c in df.columns
    r = df.set_index('track_id').loc['rock.00001']
    assert Path(r.path) == (root / 'rock' / 'rock.00001' / 'mix.wav').resolve()
    assert Path(r.vocals).is_absolute() and Path(r.accompaniment).is_file()
    assert (r.partner, r.seed, r.fusion, json.loads(r['style'])['tempo'], r.sr) == ('metal', 101, 0.3, 101, 8000)
    assert abs(r.duration - 1.0) < 1e-3
    # the stems add up to the mix (the contract's promise, checked on what the loader points at)
    m, _ = sf.read(r.path); v, _ = sf.read(r.vocals); a, _ = sf.read(r.accompaniment)
    assert np.abs(m - v - a).max() < 1e-3
    # a missing stem: reported, skipped
    (root / 'disco' / 'disco.00000' / 'accompaniment.wav').unlink()
    df = load_manifest('synth', root)
    assert len(df) == 5 and 'accompaniment missing for track disco.00000' in df.attrs['bad'][0]['reason']
    # written and read back
    p = write_manifest(df)
    assert p == manifest_path('synth', root) and p.parent.name == 'manifests'
    back = read_manifest(p)
    assert back.track_id.tolist() == df.track_id.tolist() and back['style'].tolist() == df['style'].tolist()

def test_synth_without_manifest_reads_folders(tmp_path):
    root = make_synth(tmp_path / 'synth', genres=('rock',), n=3)
    (root / 'manifest.csv').unlink()
    df = load_manifest('synth', root)
    assert df.track_id.tolist() == ['rock.00000', 'rock.00001', 'rock.00002'] and df.attrs['layout'] == 'folders'
    assert any('manifest.csv: missing' in w for w in df.attrs['warnings'])

def run(*args):
    import io, contextlib
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = icff(list(args))
    return rc, out.getvalue(), err.getvalue()

@needs_shared
def test_cli_manifest_on_gtzan_mini(tmp_path):
    rc, out, err = run('data', 'manifest', 'gtzan', '--root', str(SHARED / 'gtzan_mini'), '--json', str(tmp_path / 'r.json'))
    assert rc == 0, err
    assert 'gtzan: 400 tracks' in out and 'jazz 53' in out and '16000 Hz' in out
    rep = json.loads((tmp_path / 'r.json').read_text())
    assert rep['n_tracks'] == 400 and rep['genres'] == {g: MINI_COUNTS[g] for g in GTZAN_GENRES}
    csv_path = Path(rep['csv'])
    assert csv_path.parent == tmp_path / 'cache' / 'manifests' and len(read_manifest(csv_path)) == 400
    rc, out, err = run('data', 'manifest', 'gtzan', '--root', str(SHARED / 'gtzan_mini'), '--out', str(tmp_path / 'm.csv'))
    assert rc == 0 and len(pd.read_csv(tmp_path / 'm.csv')) == 400
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]

def test_cli_manifest_errors(tmp_path):
    rc, out, err = run('data', 'manifest', 'gtzan', '--root', str(tmp_path / 'missing'))
    assert rc == 1 and 'icff data manifest: error:' in err and 'missing: gtzan root not found' in err
    rc, out, err = run('data', 'manifest', 'mnist', '--root', str(tmp_path))
    assert rc == 1 and "unknown dataset 'mnist'" in err

@needs_shared
def test_console_script_exit_codes(tmp_path):
    exe = Path(sys.executable).parent / 'icff'
    if not exe.exists(): pytest.skip('icff console script not installed')
    env = {**os.environ, 'ICFF_CACHE': str(tmp_path)}
    p = subprocess.run([str(exe), 'data', 'manifest', 'gtzan', '--root', str(SHARED / 'gtzan_au')], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and 'gtzan: 8 tracks' in p.stdout
    p = subprocess.run([str(exe), 'data', 'manifest', 'gtzan', '--root', str(tmp_path / 'nope')], capture_output=True, text=True, env=env)
    assert p.returncode == 1 and 'nope: gtzan root not found' in p.stderr and 'Traceback' not in p.stderr
