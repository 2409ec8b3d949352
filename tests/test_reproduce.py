"""`icff reproduce`: the whole papermill reproduction on a tiny synthetic dataset, and the report notebooks' shape."""
import contextlib, io, json, math, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT/'reports'
ARTEFACTS = ['T1_datasets', 'F4_separation', 'F5_loss_curves', 'T2_comparison', 'T3_augmentation_ablation', 'T4_confusion', 'F6_fusion_bias', 'T5_pretrained']


def icff(*args):
    from icff_kit.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def _strict(text):
    "Parse JSON refusing NaN and infinities."
    def bad(c): raise ValueError(f'non-finite number {c} in results.json')
    return json.loads(text, parse_constant=bad)


def _numbers(o):
    if isinstance(o, bool): return
    if isinstance(o, (int, float)): yield o
    elif isinstance(o, dict):
        for v in o.values(): yield from _numbers(v)
    elif isinstance(o, list):
        for v in o: yield from _numbers(v)


def test_report_notebooks_have_typed_parameters():
    import papermill as pm
    assert sorted(p.stem for p in REPORTS.glob('*.ipynb')) == sorted(ARTEFACTS)
    for name in ARTEFACTS:
        nb = json.loads((REPORTS/f'{name}.ipynb').read_text())
        first = next(c for c in nb['cells'] if c['cell_type'] == 'code')
        assert first['metadata'].get('tags') == ['parameters'], name
        assert not any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code'), f'{name} is not clean'
        ps = pm.inspect_notebook(str(REPORTS/f'{name}.ipynb'))
        assert {'DATASET', 'PROFILE', 'SEED', 'ROOT', 'OUT_DIR'} <= set(ps), name
        for k, v in ps.items():
            assert k.isupper() and v['inferred_type_name'] in ('str', 'int', 'float') and v['help'], (name, k, v)


def test_nbdev_clean_keeps_parameters_tag(tmp_path):
    src = REPORTS/'T2_comparison.ipynb'; dst = tmp_path/'T2_comparison.ipynb'
    nb = json.loads(src.read_text())
    for c in nb['cells']:   # make it dirty, as after running it in Jupyter
        if c['cell_type'] == 'code':
            c['execution_count'] = 3; c['outputs'] = [dict(output_type='stream', name='stdout', text=['x\n'])]
            c['metadata']['collapsed'] = False
    dst.write_text(json.dumps(nb))
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(dst)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(dst.read_text())
    code = [c for c in out['cells'] if c['cell_type'] == 'code']
    assert code[0]['metadata'] == {'tags': ['parameters']}
    assert all(c['execution_count'] is None for c in code)                  # cleaned ...
    assert all(c['metadata'] == {} for c in code[1:])                       # ... other metadata dropped, the tag kept


def test_reproduce_smoke_synth(tmp_path, monkeypatch):
    "The whole reproduction (smoke profile, tiny synth at two fusion levels); then a re-render and a failing report."
    monkeypatch.setenv('ICFF_DATA', str(tmp_path/'data')); monkeypatch.setenv('ICFF_CACHE', str(tmp_path/'cache'))
    monkeypatch.setenv('ICFF_PROGRESS', '0')
    out = tmp_path/'out'
    common = ['--dataset', 'synth', '--profile', 'smoke', '--out', str(out), '--n-per-genre', '3', '--seconds', '6', '--epochs', '1',
              '--fusion', '0.8', '--fusion-levels', '0,0.8', '--backend', 'reference']
    rc, so, se = icff('reproduce', *common, '--json', str(tmp_path/'summary.json'))
    assert rc == 0, so + se
    base = out/'smoke'/'synth'
    for name in ARTEFACTS:
        d = base/name
        assert (d/f'{name}.ipynb').is_file(), name
        nb = json.loads((d/f'{name}.ipynb').read_text())
        assert any('injected-parameters' in c['metadata'].get('tags', []) for c in nb['cells']), name
        doc = _strict((d/'results.json').read_text())
        from icff_kit.reproduce import check_results
        assert check_results(doc) == [], (name, check_results(doc))
        assert all(math.isfinite(x) for x in _numbers(doc))
        assert doc['headline'] and all(h['source'] in ('measured', 'reported') for h in doc['headline']), name
        assert any(h['source'] == 'measured' for h in doc['headline']), name
        for f in doc['figures']: assert (d/f).is_file() and (d/f).stat().st_size > 0, (name, f)
        assert any(f.endswith('.png') for f in doc['figures']) and any(f.endswith('.html') for f in doc['figures']), name
    for name in ('T2_comparison', 'T3_augmentation_ablation', 'T4_confusion'):
        assert _strict((base/name/'results.json').read_text())['reported'], name      # the paper's numbers are there
    f6 = _strict((base/'F6_fusion_bias'/'results.json').read_text())
    assert sorted({r['fusion'] for r in f6['measured']['pooled']}) == [0, 0.8]
    assert {r['variant'] for r in f6['measured']['pooled']} == {'2d', '1d', 'ic'}
    md = (base/'index.md').read_text(); html = (base/'index.html').read_text()
    for name in ARTEFACTS: assert f'({name}/{name}.ipynb)' in md and f'href="{name}/results.json"' in html
    assert not list(base.rglob('*.tmp')) and not list(base.glob('.*'))
    assert [a['status'] for a in _strict((tmp_path/'summary.json').read_text())['artefacts']] == ['ok'] * 8

    # a second run only re-renders: no new experiment, no new synth
    runs = sorted(p.name for p in (tmp_path/'cache'/'runs').iterdir())
    man = {p: p.stat().st_mtime_ns for p in (tmp_path/'data'/'synth').glob('*/manifest.csv')}
    assert len(man) == 2 and len(runs) == 16 + 2 + 3 + 2  # T3, F5's 2d and 1d, F6 at the other level, T5's 2d-musicnn and ic-musicnn
    rc, so, se = icff('reproduce', *common, '--only', 'T4,F6')
    assert rc == 0, so + se
    assert sorted(p.name for p in (tmp_path/'cache'/'runs').iterdir()) == runs
    assert {p: p.stat().st_mtime_ns for p in man} == man

    # a failing report: the others still run, the exit code says so, the old results stay
    old = (base/'F4_separation'/'results.json').read_text()
    (tmp_path/'empty').mkdir()
    rc, so, se = icff('reproduce', *common, '--only', 'T1,F4', '--sep-dir', str(tmp_path/'empty'))
    assert rc == 1 and 'F4' in se and 'report(s) failed' in se, so + se
    assert (base/'F4_separation'/'results.json').read_text() == old
    assert (base/'F4_separation.failed.ipynb').is_file()
    idx = _strict((base/'index.json').read_text())['artefacts']
    assert [a['key'] for a in idx] == ['T1', 'F4', 'F5', 'T2', 'T3', 'T4', 'F6', 'T5']
    assert [a['status'] for a in idx] == ['ok', 'failed', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']


def test_reproduce_bad_input(tmp_path):
    rc, so, se = icff('reproduce', '--only', 'T1,X9')
    assert rc == 1 and "unknown artefact 'X9'" in se
    rc, so, se = icff('reproduce', '--dataset', 'gtzan', '--root', str(tmp_path/'missing'))
    assert rc == 1 and 'missing: dataset root not found' in se
    rc, so, se = icff('reproduce', '--fusion-levels', '0,1.5')
    assert rc == 1 and 'fusion levels must lie in [0, 1]' in se
