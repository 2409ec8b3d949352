"""`icff compare` wall time: a grid trained from scratch, then the same grid again (target: answered from the cache
in seconds), and the share of the first run spent on training.

    .venv/bin/python bench/compare.py                      # a small grid on generated tones (smoke profile): a minute
    .venv/bin/python bench/compare.py --gtzan-mini         # the issue's grid: 2d and ic, 3 seeds, 5 folds, cpu profile
                                                           # on ../shared/data/gtzan_mini (target: within 90 minutes on 2 cores)
"""
import argparse, os, sys, tempfile, time
from pathlib import Path

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--gtzan-mini', action='store_true', help="the issue's grid on real music (long)")
    p.add_argument('--root', default=str(Path(__file__).resolve().parents[2] / 'shared/data/gtzan_mini'))
    p.add_argument('--variants', default=None); p.add_argument('--seeds', default='0,1,2'); p.add_argument('--protocol', default='kfold:5')
    p.add_argument('--cache', help='ICFF_CACHE to use (default: a new temporary folder, so the first run is cold)')
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix='icff-bench-compare-'))
    os.environ['ICFF_CACHE'] = a.cache or str(tmp / 'cache'); os.environ['ICFF_PROGRESS'] = '0'
    from icff_kit.compare import compare
    seeds = [int(s) for s in a.seeds.split(',')]
    if a.gtzan_mini:
        if not Path(a.root).is_dir(): sys.exit(f'bench/compare.py: {a.root} not found (../shared/data/gtzan_mini)')
        args = dict(dataset='gtzan', root=a.root, variants=a.variants or '2d,ic', seeds=seeds, protocol=a.protocol, profile_name='cpu',
                    overrides={'train__outside': 'train'})
    else:
        from icff_kit.testing import tone_dataset
        root = tone_dataset(tmp / 'tones', genres=('blues', 'rock', 'jazz'), n_per_genre=8)
        args = dict(dataset='synth', root=root, variants=a.variants or 'mfcc-lr,2d,ic', seeds=seeds[:2], protocol='kfold:2', profile_name='smoke',
                    overrides={'separation__backend': 'reference', 'train__epochs': 3})
    t0 = time.perf_counter(); r1 = compare(**args, figure=False); t1 = time.perf_counter() - t0
    t0 = time.perf_counter(); r2 = compare(**args, figure=False); t2 = time.perf_counter() - t0
    print(f"grid: {args['dataset']} {args['protocol']}, variants {args['variants']}, seeds {args['seeds']}, profile {args['profile_name']}: {r1['n_runs']} runs")
    print(f"  first run (cold cache):  {t1:8.1f} s  ({t1 / 60:.1f} min; {t1 / max(r1['n_runs'], 1):.1f} s per run)")
    print(f"  repeated (from cache):   {t2:8.1f} s  ({r2['n_cached']} of {r2['n_runs']} units cached)")

if __name__ == '__main__': main()
