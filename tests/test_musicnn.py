"musicnn in PyTorch: converted weights equal musicnn's own TF graph, refusals of missing or altered weights, the musicnn-probe baseline."
import json, os, shutil, subprocess, sys, tempfile, zipfile
from pathlib import Path
import numpy as np
import pytest
from icff_kit.core import IcffError, models_dir

ICFF = [sys.executable, '-c', 'from icff_kit.cli import main; import sys; sys.exit(main(sys.argv[1:]))']
GTZAN = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'gtzan_mini' / 'genres_original'

def _snr(a, b): return 10 * np.log10((b ** 2).sum() / max(((a - b) ** 2).sum(), 1e-30))

@pytest.mark.slow
@pytest.mark.skipif(not GTZAN.is_dir(), reason='needs ../shared/data/gtzan_mini')
@pytest.mark.parametrize('model', ['MSD_musicnn', 'MTT_musicnn'])
def test_torch_port_equals_the_tf_graph(model, tmp_path):
    "Five real clips of five genres (1 to 10 patches each): every output at least 60 dB SNR, the same top-5 tags."
    from icff_kit.audio import load_audio
    from icff_kit.musicnn import Embedder, patches, musicnn_dir, SR, _tf_convert
    e = Embedder(model)
    for g in ('blues', 'classical', 'hiphop', 'metal', 'pop'):
        f = sorted((GTZAN / g).glob('*'))[3]
        p = patches(load_audio(f, sr=SR)[0], SR)
        np.savez(tmp_path / 'in.npz', patches=p)
        _tf_convert('musicnn', musicnn_dir() / 'tf', model, tmp_path / 'in.npz', tmp_path / 'out.npz')
        ref, o = dict(np.load(tmp_path / 'out.npz')), e(p)
        for k in ('mean_pool', 'max_pool', 'penultimate', 'taggram'): assert _snr(o[k], ref[k]) > 60, (f.name, k, _snr(o[k], ref[k]))
        top = lambda t: list(np.argsort(-t.mean(0))[:5])
        assert top(o['taggram']) == top(ref['taggram']), f.name

def _models_copy(tmp_path):
    "A models folder with the real Spleeter weights (linked) and a copy of the converted musicnn ones."
    d = tmp_path / 'models'; d.mkdir()
    (d / 'spleeter').symlink_to(models_dir() / 'spleeter')
    shutil.copytree(models_dir() / 'musicnn', d / 'musicnn', ignore=shutil.ignore_patterns('tf'))
    return d

def test_missing_or_altered_weights_are_refused(tmp_path):
    d = _models_copy(tmp_path)
    env = {**os.environ, 'ICFF_MODELS': str(d)}
    run = lambda *a: subprocess.run([*ICFF, *a], capture_output=True, text=True, env=env)
    r = run('models', 'check'); assert r.returncode == 0 and 'valid MTT_musicnn weights' in r.stdout, r.stderr
    f = d / 'musicnn' / 'MSD_musicnn.safetensors'
    b = bytearray(f.read_bytes()); b[-100:-96] = b'\x00\x01\x02\x03'; f.write_bytes(bytes(b))   # scrambled, same size
    r = run('models', 'check')
    assert r.returncode == 1 and 'MSD_musicnn.safetensors: sha256 differs' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = run('models', 'check', '--quick'); assert r.returncode == 0, r.stderr              # --quick only sees that it is there
    f.unlink()
    r = run('models', 'check')
    assert r.returncode == 1 and 'converted musicnn weights not found' in r.stderr and 'icff models fetch' in r.stderr, r.stderr
    from icff_kit.musicnn import Embedder
    with pytest.raises(IcffError, match='converted musicnn weights not found'): Embedder('MSD_musicnn', dest=d / 'musicnn')
    with pytest.raises(IcffError, match='unknown musicnn model'): Embedder('MSD_vgg', dest=d / 'musicnn')

def _wheel(path, alter=None):
    "A wheel holding the musicnn files `icff models fetch` keeps (as pip downloads them), one of them altered on request."
    from icff_kit.musicnn import WHEEL_SHA256, musicnn_dir
    with zipfile.ZipFile(path, 'w') as z:
        for name in WHEEL_SHA256:
            data = (musicnn_dir() / 'tf' / name).read_bytes()
            z.writestr(name, data + b'#' if name == alter else data)
    return path

def test_convert_is_reproducible_and_refuses_an_altered_wheel(tmp_path):
    from icff_kit.musicnn import convert_wheel, check_musicnn, MODELS
    out = convert_wheel(_wheel(tmp_path / 'musicnn.whl'), tmp_path / 'conv')
    for m in MODELS: check_musicnn(m, out)                                   # the same bytes as the pinned sha256
    assert json.loads((out / 'icff_model.json').read_text())['labels']['MSD_musicnn'][:3] == ['rock', 'pop', 'alternative']
    with pytest.raises(IcffError, match='altered download, nothing installed'):
        convert_wheel(_wheel(tmp_path / 'bad.whl', alter='musicnn/models.py'), tmp_path / 'conv2')
    assert not (tmp_path / 'conv2').exists() and not list(tmp_path.glob('.conv2*'))

def test_musicnn_probe_in_compare(tmp_path, monkeypatch):
    "musicnn-probe beside mfcc-lr in icff compare (smoke profile, tone dataset, 2 folds): finite numbers, a paired row, a figure."
    monkeypatch.setenv('ICFF_CACHE', str(tmp_path / 'cache')); monkeypatch.setenv('ICFF_PROGRESS', '0')
    from icff_kit.testing import tone_dataset
    from icff_kit.compare import compare
    root = tone_dataset(tmp_path / 'tones', genres=('blues', 'rock', 'jazz'), n_per_genre=4)
    r = compare('synth', root, 'mfcc-lr,musicnn-probe', (0,), 'kfold:2', 'smoke', {'separation__backend': 'reference'}, n_boot=100, out=tmp_path / 'out')
    v = r['test']['variants']
    assert set(v) == {'mfcc-lr', 'musicnn-probe'} and v['musicnn-probe']['runs'] == 2
    assert np.isfinite([v['musicnn-probe']['accuracy']['mean'], v['musicnn-probe']['macro_f1']['mean']]).all()
    assert [(p['a'], p['b']) for p in r['test']['pairs']] == [('musicnn-probe', 'mfcc-lr')]
    assert (tmp_path / 'out' / 'compare.png').stat().st_size > 0
    assert len(list((tmp_path / 'cache' / 'baseline').rglob('*.npy'))) == 2 * 12   # each baseline's features, once per track

@pytest.mark.parametrize('variant,finetune', [('2d-musicnn', None), ('ic-musicnn', None), ('2d-musicnn', 'all'), ('ic-musicnn', 'mid')])
def test_pretrained_variants_train_and_evaluate(variant, finetune, tmp_path):
    "2d-musicnn and ic-musicnn: one smoke epoch, icff evaluate agrees with the run, predict runs; frozen, the run keeps only its projection; fine-tuned, the trained layers moved from the pretrained weights (mid: only the mid end is held)."
    import torch
    from icff_kit.testing import tone_dataset
    from icff_kit.musicnn import load_pretrained
    env = {**os.environ, 'ICFF_CACHE': str(tmp_path / 'cache'), 'ICFF_PROGRESS': '0'}
    root = tone_dataset(tmp_path / 'tones', genres=('blues', 'rock', 'jazz'), n_per_genre=4)
    run = tmp_path / 'run'
    run_ = lambda *a: subprocess.run([*ICFF, *map(str, a)], capture_output=True, text=True, env=env)
    r = run_('train', '--dataset', 'synth', '--profile', 'smoke', '--backend', 'reference', '--root', root, '--variant', variant, '--out', run,
             '--epochs', '1', *(['--finetune-encoder', finetune] if finetune else []))
    assert r.returncode == 0, r.stderr
    cfg = json.loads((run / 'config.json').read_text())['model']
    assert cfg['encoder2d'] == 'musicnn' and cfg['variant'] == variant.split('-')[0] and cfg['finetune_encoder'] == bool(finetune)
    if finetune: assert cfg['finetune_layers'] == finetune
    sd = torch.load(run / 'checkpoints' / 'best.ckpt', map_location='cpu', weights_only=True)['state_dict']
    pre = load_pretrained('MSD_musicnn')
    if finetune == 'all': assert not torch.equal(sd['model.enc2d.net.timbral.0.weight'], pre['timbral.0.weight'])   # trained from the pretrained start
    elif finetune == 'mid':   # the mid end trained from the pretrained start; the frozen front end is not in the run (its frames are cached)
        assert not torch.equal(sd['model.enc2d.net.mid.0.weight'], pre['mid.0.weight'])
        assert {k.split('.')[3] for k in sd if k.startswith('model.enc2d.net.')} == {'mid', 'mid_bn'}
    else: assert 'model.enc2d.proj.weight' in sd and not any(k.startswith('model.enc2d.net.') for k in sd)   # frozen: cached tokens, a projection
    r = run_('evaluate', run, '--json', tmp_path / 'e.json', '--boot', '50')
    assert r.returncode == 0, r.stderr
    e, m = json.loads((tmp_path / 'e.json').read_text()), json.loads((run / 'metrics.json').read_text())
    assert e['accuracy'] == m['accuracy'] and np.isfinite(m['test_loss'])
    song = sorted(Path(root).rglob('mix.wav'))[0]
    r = run_('predict', song, '--run', run, '--top', '2', '--json', tmp_path / 'p.json')      # a song: musicnn patches, Spleeter for ic
    assert r.returncode == 0, r.stderr
    p = json.loads((tmp_path / 'p.json').read_text())['predictions'][0]
    assert len(p['top']) == 2 and abs(sum(p['probs'].values()) - 1) < 1e-5 and p['n_windows'] == 2   # smoke: 6 s -> 2 windows

def test_a_run_that_computes_its_inputs_equals_one_that_reads_them(tmp_path):
    "The same run twice on one cache: the first computes the frozen musicnn tokens (loading musicnn), the second reads them; the training histories are identical (the run's random stream starts after its inputs are ready)."
    from icff_kit.testing import tone_dataset
    env = {**os.environ, 'ICFF_CACHE': str(tmp_path / 'cache'), 'ICFF_PROGRESS': '0'}
    root = tone_dataset(tmp_path / 'tones', genres=('blues', 'rock'), n_per_genre=4)
    for out in ('cold', 'warm'):
        r = subprocess.run([*ICFF, 'train', '--dataset', 'synth', '--profile', 'smoke', '--backend', 'reference', '--root', str(root),
                            '--variant', '2d-musicnn', '--epochs', '2', '--out', str(tmp_path / out)], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
    assert (tmp_path / 'cold' / 'history.csv').read_text() == (tmp_path / 'warm' / 'history.csv').read_text()
