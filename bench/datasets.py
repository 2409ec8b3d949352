"""Dataset speed: (1) scan + validate ../shared/data/gtzan_mini (target < 20 s), (2) generate 100 synthetic 30 s
tracks with stems through icff_kit.synth_dataset.generate_dataset (target >= 2 tracks/s on 2 cores).

    .venv/bin/python bench/datasets.py [--root DIR] [--check tail] [--n-per-genre 10] [--seconds 30] [--skip-synth]
"""
import argparse, os, shutil, tempfile, time
from pathlib import Path

def bench_scan(root:Path, check:str):
    from icff_kit.datasets import load_manifest, validate
    t0 = time.perf_counter()
    df = load_manifest('gtzan', root, check=check)
    rep = validate(df)
    dt = time.perf_counter() - t0
    print(f"scan + validate gtzan ({root}), check={check}: {rep['n_tracks']} tracks, {rep['n_bad']} bad, "
          f"{dt:.2f} s ({rep['n_tracks'] / dt:.0f} files/s) (target < 20 s)")

def bench_synth(n_per_genre:int, seconds:float):
    try: from icff_kit.synth_dataset import generate_dataset
    except ImportError as e:
        print(f"synth: not available (icff_kit.synth_dataset.generate_dataset cannot be imported: {e})"); return
    out = Path(tempfile.mkdtemp(prefix='icff-bench-synth-'))
    try:
        t0 = time.perf_counter()
        generate_dataset(out / 'synth', n_per_genre=n_per_genre, fusion=0.3, seconds=seconds, seed=0)
        dt = time.perf_counter() - t0
        from icff_kit.datasets import load_manifest
        n = len(load_manifest('synth', out / 'synth', check='header'))
        print(f"synth: {n} tracks of {seconds:g} s with stems in {dt:.1f} s on {os.cpu_count()} cores -> "
              f"{n / dt:.2f} tracks/s (target >= 2)")
    finally: shutil.rmtree(out, ignore_errors=True)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default=str(Path(__file__).resolve().parents[2] / 'shared/data/gtzan_mini'))
    p.add_argument('--check', default='tail', choices=('header', 'tail', 'full'))
    p.add_argument('--n-per-genre', type=int, default=10)
    p.add_argument('--seconds', type=float, default=30.)
    p.add_argument('--skip-synth', action='store_true')
    a = p.parse_args()
    if not Path(a.root).exists(): print(f'skipped: {a.root} not found (this bench measures on ../shared/data)'); raise SystemExit(3)
    os.environ.setdefault('ICFF_PROGRESS', '0')
    import icff_kit.datasets  # imports (pandas, soundfile) are not part of the scan time
    bench_scan(Path(a.root), a.check)
    if not a.skip_synth: bench_synth(a.n_per_genre, a.seconds)

if __name__ == '__main__': main()
