"""Separation speed: the kit's PyTorch Spleeter (backend `spleeter`, in process), its TF worker (`spleeter-tf`) and
`spleeter separate` (the CLI) on the same files and weights, in one run; the cost of a cached re-run; REPET-SIM; the
wall time of a fresh `icff predict` of a 30 s song; then the augmentation bench (bench/augment.py) when present.

    .venv/bin/python bench/separation.py [--n 8] [--skip-cli] [--skip-augment] [--skip-predict]

Files: the first N full-length (30 s) clips of ../shared/data/gtzan_mini, one genre after another. Targets: the TF
worker at least 1.3x the CLI's throughput (issue 4); PyTorch at least 8x the CLI's and 2x the TF worker's, a fresh
`icff predict` at most 4 s (issue 14); a cached re-run under 5% of the first run's time.
"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / 'shared' / 'data'

def pick_files(n:int)->list:
    import soundfile as sf
    g = SHARED / 'gtzan_mini' / 'genres_original'
    if not g.exists(): print(f'skipped: {g} not found (this bench measures on ../shared/data)'); raise SystemExit(3)
    by_genre = [sorted(f for f in d.glob('*.flac') if sf.info(str(f)).duration >= 29.9) for d in sorted(g.iterdir()) if d.is_dir()]
    out = []
    while len(out) < n and any(by_genre):
        for fs in by_genre:
            if fs and len(out) < n: out.append(fs.pop(0))
    return out

def row(name, secs, audio_s, n):
    print(f'{name:34} {secs:8.1f} s {audio_s / secs:9.1f} s/s {secs / n * 30 / (audio_s / n):10.2f} s')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=8, help='number of 30 s clips')
    ap.add_argument('--skip-cli', action='store_true'); ap.add_argument('--skip-augment', action='store_true'); ap.add_argument('--skip-predict', action='store_true')
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix='icff-bench-sep-'))
    os.environ['ICFF_CACHE'] = str(tmp / 'cache'); os.environ.setdefault('ICFF_PROGRESS', '0')
    import soundfile as sf
    from icff_kit.separation import separate_many, Separator
    from icff_kit.weights import spleeter_python, spleeter_model_root, check_spleeter_model
    files = pick_files(a.n); audio = sum(sf.info(str(f)).duration for f in files)
    info = check_spleeter_model()
    print(f'{len(files)} GTZAN clips, {audio:.0f} s of audio; weights {info["dir"]} ({info["kind"]}, {info["fingerprint"]}); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}')

    t = time.perf_counter(); s = Separator('spleeter', fallback=False); s.torch_model(); t_load = time.perf_counter() - t; s.close()
    t = time.perf_counter(); out_pt = separate_many(files, 'spleeter', progress=False, fallback=False); t_pt = time.perf_counter() - t
    t = time.perf_counter(); s = Separator('spleeter-tf', fallback=False); s.worker(); t_start = time.perf_counter() - t; s.close()
    t = time.perf_counter(); out = separate_many(files, 'spleeter-tf', progress=False, fallback=False); t_kit = time.perf_counter() - t
    bad = [v for v in out.values() if isinstance(v, str)]
    if bad: sys.exit(f'kit failed on {len(bad)} files: {bad[0]}')
    import icff_kit.separation as S
    S._hashes.clear()                                         # re-hash every file, as a new process would
    t = time.perf_counter(); out2 = separate_many(files, 'spleeter-tf', progress=False); t_cached = time.perf_counter() - t
    assert out2 == out
    t = time.perf_counter()
    r = subprocess.run([str(Path(sys.executable).with_name('icff')), 'separate', '--backend', 'spleeter-tf', *map(str, files)], capture_output=True, text=True)
    t_cached_cli = time.perf_counter() - t
    if r.returncode or f'{len(files)} cached' not in r.stdout: sys.exit(f'cached `icff separate` did not hit the cache: {r.stdout} {r.stderr[-500:]}')
    t_cli = None
    if not a.skip_cli:
        env = dict(os.environ, MODEL_PATH=str(spleeter_model_root()), TF_CPP_MIN_LOG_LEVEL='2')
        cli = Path(spleeter_python()).with_name('spleeter')
        t = time.perf_counter()
        r = subprocess.run([str(cli), 'separate', '-p', 'spleeter:2stems', '-o', str(tmp / 'cli'), *map(str, files)], env=env,
                           capture_output=True, text=True)
        t_cli = time.perf_counter() - t
        if r.returncode: sys.exit(f'spleeter separate failed: {r.stderr[-2000:]}')
        n_out = len(list((tmp / 'cli').rglob('accompaniment.wav')))
        if n_out != len(files): sys.exit(f'spleeter separate wrote {n_out} stems for {len(files)} files')
    t = time.perf_counter(); separate_many(files[:2], 'repet', progress=False); t_repet = time.perf_counter() - t
    audio2 = sum(sf.info(str(f)).duration for f in files[:2])

    t_pred = None
    if not a.skip_predict:
        from icff_kit.testing import tone_dataset
        root = tone_dataset(tmp / 'tones', genres=('blues', 'rock'), n_per_genre=4)
        r = subprocess.run([str(Path(sys.executable).with_name('icff')), 'train', '--dataset', 'synth', '--root', str(root), '--profile', 'cpu',
                            '--backend', 'reference', '--variant', 'ic', '--epochs', '1', '--out', str(tmp / 'run')], capture_output=True, text=True)
        if r.returncode: sys.exit(f'could not train the run for the predict timing: {r.stderr[-800:]}')
        t = time.perf_counter()
        r = subprocess.run([str(Path(sys.executable).with_name('icff')), 'predict', str(files[-1]), '--run', str(tmp / 'run')], capture_output=True, text=True)
        t_pred = time.perf_counter() - t
        if r.returncode: sys.exit(f'icff predict failed: {r.stderr[-800:]}')

    print(f'\n{"":34} {"wall":>10} {"throughput":>13} {"per 30 s track":>14}')
    row('kit, spleeter (PyTorch, cold)', t_pt, audio, len(files))
    row('kit, spleeter-tf worker (cold)', t_kit, audio, len(files))
    if t_cli: row('spleeter separate (CLI)', t_cli, audio, len(files))
    row('kit, repet (2 clips)', t_repet, audio2, 2)
    print(f'\nkit worker start (TF import + graph + restore): {t_start:.1f} s, included in the cold run above')
    print(f'kit, per track after start-up: {(t_kit - t_start) / len(files):.2f} s per 30 s track')
    print(f'PyTorch model load (safetensors, sha256 checked): {t_load:.1f} s; per track: {t_pt / len(files):.2f} s per 30 s track')
    if t_cli: print(f'speed-up, TF worker vs CLI throughput: {t_cli / t_kit:.2f}x (target >= 1.3x)')
    if t_cli: print(f'speed-up, PyTorch vs CLI throughput: {t_cli / t_pt:.2f}x (target >= 8x)')
    print(f'speed-up, PyTorch vs TF worker throughput: {t_kit / t_pt:.2f}x (target >= 2x)')
    if t_pred: print(f'fresh `icff predict` of a 30 s song (ic, cpu-profile run: 10 windows; backend spleeter): {t_pred:.1f} s wall (target <= 4 s)')
    print(f'cached re-run: {t_cached * 1000:.0f} ms = {100 * t_cached / t_kit:.2f}% of the first run (target < 5%); '
          f'as a new `icff separate` process: {t_cached_cli:.2f} s = {100 * t_cached_cli / t_kit:.1f}%')

    aug = ROOT / 'bench' / 'augment.py'
    if not a.skip_augment:
        if aug.exists():
            print(f'\n--- {aug.relative_to(ROOT)} ---', flush=True)
            subprocess.run([sys.executable, str(aug)], cwd=ROOT)
        else: print(f'\n({aug.relative_to(ROOT)} not found: no augmentation figures)')
    import shutil; shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
