"""The explorer as a person sees it: JupyterLab started on a free localhost port with a token, driven by Playwright
through Debian's Chromium. `make test-browser` installs both and runs this file; screenshots go to reports/out/.

Marked `browser` (left out of the plain `pytest` run). Without JupyterLab, Playwright or Chromium the test skips,
unless ICFF_BROWSER_REQUIRED=1 (set by `make test-browser`, so CI fails instead of skipping)."""
import contextlib, json, os, shutil, signal, secrets, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from icff_kit.testing import free_port

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT/'reports'/'out'
CHROMIUM = next((shutil.which(n) for n in ('chromium', 'chromium-browser') if shutil.which(n)), None)
WAIT = 90_000   # ms: the longest any single step may take (a first kernel start on a busy machine)

def _missing():
    why = []
    try: import playwright.sync_api  # noqa: F401
    except ImportError: why.append('playwright (pip)')
    if not shutil.which('jupyter-lab', path=str(Path(sys.executable).parent)): why.append('jupyterlab (requirements-lab.txt)')
    if CHROMIUM is None: why.append('chromium (apt)')
    return why

def _notebook(path:Path, code:str):
    nb = dict(cells=[dict(cell_type='code', execution_count=None, id='explore', metadata={}, outputs=[], source=code)],
              metadata=dict(kernelspec=dict(display_name='Python 3 (ipykernel)', language='python', name='python3')), nbformat=4, nbformat_minor=5)
    path.write_text(json.dumps(nb))

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A cpu-profile run on 30 s tone tracks whose test stems are cached, a notebook that opens the explorer on it, and JupyterLab serving it."
    if (why := _missing()):
        if os.environ.get('ICFF_BROWSER_REQUIRED') == '1': pytest.fail(f"browser test needs {', '.join(why)}: run `make test-browser`")
        pytest.skip(f"needs {', '.join(why)} (make test-browser installs them)")
    d = tmp_path_factory.mktemp('explorer')
    env = dict(os.environ, ICFF_CACHE=str(d/'cache'), ICFF_PROGRESS='0', JUPYTER_CONFIG_DIR=str(d/'jupyter-config'),
               JUPYTER_RUNTIME_DIR=str(d/'jupyter-runtime'), PYTHONPATH=str(ROOT))
    prep = f"""
import os, json
from icff_kit.core import profile
from icff_kit.testing import tone_dataset
from icff_kit.train import run_experiment
from icff_kit.separation import separate_many
root = tone_dataset({str(d/'tones')!r}, genres=('blues', 'rock', 'jazz'), n_per_genre=4, seconds=30.)
run = run_experiment(profile('cpu', dataset='synth', separation__backend='reference', train__epochs=1), root, progress_bar=False)['run_dir']
test = json.load(open(run/'splits.json'))['test']
paths = [root/t.split('.')[0]/t/'mix.wav' for t in test]
separate_many(paths, backend='spleeter')     # the explorer's backend for this run: its test tracks' stems cached
print(json.dumps(dict(run=str(run), root=str(root), test=test)))
"""
    r = subprocess.run([sys.executable, '-c', prep], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    info = json.loads(r.stdout.strip().splitlines()[-1])
    _notebook(d/'explore.ipynb', f"from icff_kit.explore import explore\nex = explore({info['run']!r})\nex")
    news = d/'jupyter-config'/'lab'/'user-settings'/'@jupyterlab'/'apputils-extension'
    news.mkdir(parents=True); (news/'notification.jupyterlab-settings').write_text(json.dumps(dict(fetchNews='false', checkForUpdates=False)))
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}', f'--IdentityProvider.token={token}',
           f'--ServerApp.root_dir={d}'] + (['--allow-root'] if os.geteuid() == 0 else [])
    log = open(d/'jupyterlab.log', 'w')
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(240):
            if proc.poll() is not None: pytest.fail(f'JupyterLab exited ({proc.returncode}): ' + (d/'jupyterlab.log').read_text()[-2000:])
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=2); break
            time.sleep(0.5)
        else: pytest.fail('JupyterLab did not answer within 2 minutes: ' + (d/'jupyterlab.log').read_text()[-2000:])
        yield dict(info, url=f'http://127.0.0.1:{port}/lab/tree/explore.ipynb?token={token}', dir=d)
    finally:                                   # JupyterLab, its kernels and anything they started: stopped whatever happened
        with contextlib.suppress(ProcessLookupError): os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError): os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()

SONG_FIG = """tid => [...document.querySelectorAll('.js-plotly-plot')].find(e => e._fullLayout && ((e._fullLayout.title || {}).text || '').startsWith(tid))"""

def _song_figure(page, tid:str)->dict:
    "Axis ranges, drawn sizes and the heatmap's columns of the song figure titled `tid` (read from the figure and the DOM)."
    return page.evaluate(f"""tid => {{ const e = ({SONG_FIG})(tid), L = e._fullLayout, img = e.querySelector('.imagelayer image, g.im image');
        const hm = e.calcdata.find(c => c[0].trace.type === 'heatmap')[0];   // as drawn (e.data may hold packed arrays)
        return {{title: L.title.text, x: L.xaxis.range, x2: L.xaxis2.range, y: L.yaxis.range, xlen: L.xaxis._length, ylen: L.yaxis._length,
                 img: img ? [img.getBoundingClientRect().width, img.getBoundingClientRect().height] : null, cols: hm.z[0].length,
                 scaleanchor: L.yaxis.scaleanchor === undefined ? null : L.yaxis.scaleanchor}}; }}""", tid)

def _pick(page, index:int)->tuple[str, float]:
    "Choose the dropdown's `index`-th test track; (its id, seconds until its song figure is drawn)."
    label = page.eval_on_selector('.widget-dropdown select', f'e => e.options[{index}].textContent').replace('\xa0', ' ')
    tid = label.split(' (')[0]
    t0 = time.perf_counter(); page.select_option('.widget-dropdown select', index=index)
    page.wait_for_function(f'tid => !!({SONG_FIG})(tid)', arg=tid, timeout=WAIT)
    return tid, time.perf_counter() - t0

def test_explorer_in_a_browser(lab, capsys):
    from playwright.sync_api import sync_playwright
    OUT.mkdir(parents=True, exist_ok=True)
    errors, t_start = [], time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-dev-shm-usage'])
        try:
            page = browser.new_page(viewport=dict(width=1400, height=1100))
            page.on('console', lambda m: m.type == 'error' and errors.append(f'console: {m.text}'))
            page.on('pageerror', lambda e: errors.append(f'page error: {e}'))
            page.goto(lab['url'])
            page.wait_for_selector('#jp-main-statusbar >> text=Idle', timeout=WAIT)
            page.get_by_role('menuitem', name='Run', exact=True).click()
            page.get_by_role('menuitem', name='Run All Cells', exact=True).click()
            page.wait_for_selector('.widget-dropdown select', timeout=WAIT)

            # before any song: the panel, no log lines around it, no slider
            test_ids = [o.replace('\xa0', ' ').split(' (')[0] for o in page.eval_on_selector_all('.widget-dropdown select option', 'os => os.map(o => o.textContent)')[1:]]
            assert sorted(test_ids) == sorted(lab['test']), test_ids
            assert page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0, 'log output in the notebook'
            assert not page.locator('.widget-slider').is_visible(), 'the window slider shows before a song is loaded'

            # the run tab: loss curves with whole epochs, the confusion matrix
            page.get_by_role('tab', name='run', exact=True).click()
            page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].filter(e => e.offsetParent && e._fullLayout).length >= 2", timeout=WAIT)
            hist = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(e => e._fullLayout).find(L => (L.title.text || '').includes('loss per epoch'))")
            assert hist['xaxis']['dtick'] == 1, hist['xaxis']
            page.screenshot(path=str(OUT/'explorer-run.png'))
            page.get_by_role('tab', name='song', exact=True).click()

            # a test track: the song figure fills its width, on a time axis in seconds
            tid, first = _pick(page, 1)
            f = _song_figure(page, tid)
            assert f['title'] == tid, f
            assert abs(f['x'][0]) < 1e-6 and abs(f['x'][1] - 30) < 1e-6 and f['x2'] == f['x'], f    # 10 windows of 3 s
            assert f['cols'] == 10 and f['scaleanchor'] is False, f
            assert f['img'] and f['img'][0] >= 0.95 * f['xlen'] and f['img'][1] >= 0.9 * f['ylen'], f   # not a sliver
            page.wait_for_function("() => { const a = [...document.querySelectorAll('audio')]; return a.length === 2 && a.every(x => x.readyState >= 1); }", timeout=WAIT)
            durations = page.evaluate("() => [...document.querySelectorAll('audio')].map(a => a.duration)")
            assert all(abs(x - 3) < 0.05 for x in durations), durations
            assert page.locator('.widget-slider').is_visible()
            page.screenshot(path=str(OUT/'explorer-song.png'), full_page=True)

            # the slider: the next window's audio, top genres and attention maps
            page.locator('.widget-slider .noUi-handle').first.focus(); page.keyboard.press('ArrowRight')
            page.wait_for_selector('text=window 1 (3-6 s of the song)', timeout=WAIT)
            page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(e => ((e._fullLayout || {}).title || {}).text && e._fullLayout.title.text.startsWith('attention, window 1 '))", timeout=WAIT)
            page.screenshot(path=str(OUT/'explorer-window.png'), full_page=True)

            # another track, then a typed file: the view follows, named by the track
            tid2, second = _pick(page, 2)
            assert _song_figure(page, tid2)['title'] == tid2
            other = next(f'{g}.{k:05d}' for g in ('jazz', 'rock', 'blues') for k in range(4) if f'{g}.{k:05d}' not in lab['test'])
            song = Path(lab['root'])/other.split('.')[0]/other/'mix.wav'      # a training track: not in the list
            page.get_by_placeholder('or any audio file').fill(str(song)); page.get_by_role('button', name='analyse').click()
            page.wait_for_function(f'tid => !!({SONG_FIG})(tid)', arg=f'{other}/mix.wav', timeout=WAIT)
            assert page.eval_on_selector('.widget-dropdown select', 'e => e.selectedIndex') == 0, 'the list still names the previous track'
            page.screenshot(path=str(OUT/'explorer-file.png'), full_page=True)
        finally: browser.close()
    assert not errors, errors
    with capsys.disabled():
        print(f"\nexplorer in Chromium: song figure drawn {first:.2f} s after picking a test track, {second:.2f} s for the next "
              f"(cpu profile, stems cached); whole check {time.perf_counter() - t_start:.0f} s; screenshots in {OUT}")
