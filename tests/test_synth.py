"The synthetic fusion dataset: stems, voice, determinism, fusion, layout, resume, CLI errors."
import json
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from icff_kit.core import IcffError
from icff_kit.cli import main
from icff_kit.synth import GENRES, PARTNERS, RECIPES, render_track, sample_style
from icff_kit.synth_dataset import MANIFEST_COLUMNS, generate_dataset, cli_synth, track_seed
from icff_kit.voice import espeak_bin

SR = 22050
ENGINES = ['formant'] + (['espeak'] if espeak_bin() else [])


def _note_mask(tr, n, pad=0.):
    m = np.zeros(n, bool)
    for a, b, _ in tr['params']['vocal_notes']: m[max(int((a - pad) * SR), 0):int((b + pad) * SR)] = True
    return m


@pytest.mark.parametrize('engine', ENGINES)
def test_stems_add_up_and_voice_sings_on_the_notes(engine):
    tr = render_track('country', 3, fusion=.3, seconds=6., vocals=engine)
    v, a, m = tr['vocals'], tr['accompaniment'], tr['mix']
    assert v.dtype == a.dtype == m.dtype == np.float32 and len(m) == 6 * SR
    np.testing.assert_array_equal(m, v + a)
    assert np.abs(m).max() <= .95 + 1e-6 and np.abs(a).max() > .05
    assert tr['params']['vocals'] == engine
    inside = _note_mask(tr, len(v)); far = ~_note_mask(tr, len(v), pad=.25)
    rms_in = np.sqrt(np.mean(v[inside] ** 2))
    assert rms_in > .02                                                 # not silent
    if far.any(): assert rms_in > 4 * np.sqrt(np.mean(v[far] ** 2))      # energy where the notes are


def test_formant_fallback_when_espeak_is_missing(monkeypatch):
    monkeypatch.setenv('ICFF_ESPEAK', 'none')
    assert espeak_bin() is None
    assert render_track('pop', 1, seconds=3.)['params']['vocals'] == 'formant'
    with pytest.raises(IcffError, match='espeak-ng is not installed'): render_track('pop', 1, seconds=3., vocals='espeak')


def test_deterministic_and_seed_dependent():
    a, b = render_track('reggae', 9, .4, 4.), render_track('reggae', 9, .4, 4.)
    for k in ('mix', 'vocals', 'accompaniment'): np.testing.assert_array_equal(a[k], b[k])
    assert a['params'] == b['params']
    c = render_track('reggae', 10, .4, 4.)
    assert not np.array_equal(a['mix'], c['mix'])


def test_genres_differ():
    styles = {g: sample_style(g, 0, 0.) for g in GENRES}
    assert len({(s['drums'], s['comp_prog'], s['bass']) for s in styles.values()}) == len(GENRES)
    metal, classical = render_track('metal', 0, 0., 4.), render_track('classical', 0, 0., 4.)
    def hi(y):
        s = np.abs(np.fft.rfft(y)) ** 2; f = np.fft.rfftfreq(len(y), 1 / SR)
        return s[f > 2000].sum() / s.sum()
    assert hi(metal['accompaniment']) > 3 * hi(classical['accompaniment'])


def test_fusion_moves_parameters_towards_the_partner():
    for g in GENRES:
        pure = sample_style(g, 5, 0.)
        assert pure['borrowed'] == [] and pure['partner'] in PARTNERS[g]
        for k, spec in RECIPES[g].items():
            if isinstance(spec, list): assert pure[k] in spec, (g, k)
    metal = [sample_style('metal', s, 1.) for s in range(30)]
    assert all(s['partner'] == 'rock' for s in metal)
    assert np.mean([len(s['borrowed']) for s in metal]) > 3
    # tempo: pure metal within its range; at fusion 1 it also takes values between metal and rock
    pure_t = [sample_style('metal', s, 0.)['tempo'] for s in range(30)]
    fused_t = [s['tempo'] for s in metal]
    assert min(pure_t) >= RECIPES['metal']['tempo'][0] and pure_t != fused_t
    assert render_track('rock', 2, 0., 2.)['params']['style'] != render_track('rock', 2, .9, 2.)['params']['style']


def test_cli_writes_the_layout_in_parallel(tmp_path, capsys):
    out = tmp_path / 'syn'
    rc = main(['data', 'synth', '--out', str(out), '--n-per-genre', '2', '--seconds', '2', '--seed', '3',
               '--fusion', '0.5', '--workers', '2', '--genres', 'rock,hiphop', '--json', str(tmp_path / 'r.json')])
    assert rc == 0 and '4 tracks (2 genres x 2, 2 s, fusion 0.5)' in capsys.readouterr().out
    df = pd.read_csv(out / 'manifest.csv')
    assert list(df.columns) == MANIFEST_COLUMNS
    assert df.track_id.tolist() == ['hiphop.00000', 'hiphop.00001', 'rock.00000', 'rock.00001']
    for r in df.itertuples():
        assert r.mix == f'{r.genre}/{r.track_id}/mix.wav' and r.seed == track_seed(3, r.genre, int(r.track_id[-5:]))
        assert r.fusion == .5 and r.sr == SR and r.partner in PARTNERS[r.genre] and json.loads(r.style)['genre'] == r.genre
        m, v, a = (sf.read(str(out / getattr(r, k)), dtype='float32')[0] for k in ('mix', 'vocals', 'accompaniment'))
        assert len(m) == 2 * SR and sf.info(str(out / r.mix)).samplerate == SR
        np.testing.assert_array_equal(m, v + a)
    # a worker process renders exactly what this process renders for the manifest's seed
    r = df.iloc[3]
    tr = render_track(r.genre, int(r.seed), r.fusion, r.seconds, int(r.sr))
    np.testing.assert_allclose(sf.read(str(out / r.accompaniment), dtype='float32')[0], tr['accompaniment'], atol=.51 / 32768)
    res = json.loads((tmp_path / 'r.json').read_text())
    assert res['n_tracks'] == 4 and res['per_genre'] == {'hiphop': 2, 'rock': 2}


def test_resume_skips_finished_tracks(tmp_path):
    out = tmp_path / 'syn'
    kw = dict(n_per_genre=2, seconds=2., seed=1, workers=1, genres=('jazz',))
    df = generate_dataset(out, **kw)
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob('*.wav')}
    (out / 'jazz/jazz.00001/track.json').unlink()                       # as if the run died before this track
    (out / 'manifest.csv').unlink()
    df2 = generate_dataset(out, **kw)
    assert df2.equals(df) and pd.read_csv(out / 'manifest.csv').track_id.tolist() == df.track_id.tolist()
    for p, t in stamp.items():
        assert (p.stat().st_mtime_ns == t) == ('jazz.00000' in str(p)), p
    generate_dataset(out, **{**kw, 'n_per_genre': 3})                   # more tracks: only the new one renders
    assert all(p.stat().st_mtime_ns == t for p, t in stamp.items() if 'jazz.00000' in str(p))
    df4 = generate_dataset(out, **{**kw, 'n_per_genre': 1, 'fusion': .9})  # other parameters: re-rendered
    assert df4.fusion.tolist() == [.9]


@pytest.mark.parametrize('args,msg', [(['--fusion', '1.5'], 'fusion must be a number in [0, 1], got 1.5'),
                                      (['--n-per-genre', '0'], 'n_per_genre must be a positive integer, got 0'),
                                      (['--seconds', '0.1'], 'seconds must be between 1 and 600'),
                                      (['--workers', '0'], 'workers must be a positive integer'),
                                      (['--genres', 'rock,polka'], "unknown genre 'polka'")])
def test_bad_arguments_are_clear_errors(tmp_path, capsys, args, msg):
    assert main(['data', 'synth', '--out', str(tmp_path / 'x'), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith('icff data synth: error: ') and msg in err
    assert not (tmp_path / 'x' / 'manifest.csv').exists()
    with pytest.raises(IcffError, match='exists and is not a folder'):
        (tmp_path / 'f').write_text('x'); cli_synth(['--out', str(tmp_path / 'f')])


def test_a_dead_worker_is_reported_and_replaced(tmp_path):
    from icff_kit.synth_dataset import _Workers
    w = _Workers(1)
    try:
        w.procs[0].kill(); w.procs[0].wait()
        job = dict(genre='rock', track_id='rock.00000', seed=1, fusion=.3, seconds=1., sr=22050, vocals='formant', subtype='PCM_16')
        tid, row, err = w.run((str(tmp_path), job))
        assert tid == 'rock.00000' and row is None and 'worker process died' in err
        tid, row, err = w.run((str(tmp_path), job))
        assert err is None and row['mix'] == 'rock/rock.00000/mix.wav' and (tmp_path / row['mix']).is_file()
    finally: w.close()
