"""Feature extraction time per 30 s track, at each profile, on the real GTZAN .au clips of ../shared/data/gtzan_au.

cold     = mel image crops of the mix (2D) + framed waveform and STFT of the accompaniment (1D), from decoded
           samples: decoding (and resampling to the profile's rate) is EXCLUDED and reported in its own column.
           The clip stands in for its accompaniment (same cost). Every profile is run on 30 s clips.
1D@8k    = the 1D inputs with the band limit on (fmax 8 kHz, as for gtzan_mini): adds a low-pass per window.
cache    = both items read back from a FeatureCache (np.load of two uncompressed .npy files, page cache warm);
           mmap = the same with memory maps (pages load on first touch, not timed).
Figures are the median over tracks x repeats (min in brackets), in ms. Targets (cpu profile): cold < 60 ms,
cache < 5 ms.

    .venv/bin/python bench/features.py [--root DIR] [--profiles smoke,cpu,paper] [--reps 3]
"""
import argparse, os, tempfile, time
from pathlib import Path
import numpy as np

def _t(f):
    t = time.perf_counter(); r = f(); return (time.perf_counter() - t) * 1e3, r

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default=str(Path(__file__).resolve().parents[2] / 'shared/data/gtzan_au'))
    p.add_argument('--profiles', default='smoke,cpu,paper')
    p.add_argument('--reps', type=int, default=3)
    a = p.parse_args()
    if not Path(a.root).exists(): print(f'skipped: {a.root} not found (this bench measures on ../shared/data)'); raise SystemExit(3)
    os.environ.setdefault('ICFF_PROGRESS', '0')
    from icff_kit.core import profile, input_shapes
    from icff_kit.audio import load_clip, AUDIO_EXTS
    from icff_kit.features import mel_crops, inputs_1d, resolve_fmax, FeatureCache
    files = sorted(f for f in Path(a.root).rglob('*') if f.suffix.lower() in AUDIO_EXTS)
    if not files: raise SystemExit(f'no audio files under {a.root}')
    print(f'{len(files)} tracks from {a.root}, {a.reps} repeats, {os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.2f}')
    hdr = f"{'profile':<7} {'crop':>7} {'x_t1':>8} {'x_f1':>7} {'decode':>13} {'2D':>13} {'1D':>13} {'cold 2D+1D':>13} {'1D@8k':>13} {'cache':>11} {'mmap':>11} {'MB/track':>8}"
    print(hdr); print('-' * len(hdr))
    fmt = lambda v: f'{np.median(v):6.1f} ({np.min(v):4.1f})'
    for name in a.profiles.split(','):
        cfg = profile(name, audio__clip_seconds=30.); sr = cfg.audio.sr; lim = resolve_fmax(cfg, [16000])
        sh = input_shapes(cfg)
        with tempfile.TemporaryDirectory() as d:
            fc, fm = FeatureCache(Path(d) / 'c'), FeatureCache(Path(d) / 'c', mmap=True)
            y0 = load_clip(files[0], sr, 30.); mel_crops(y0, sr, cfg); inputs_1d(y0, sr, cfg); inputs_1d(y0, sr, lim)  # warm-up
            r = {k: [] for k in ('dec', '2d', '1d', 'cold', '1d8', 'cache', 'mmap')}
            for rep in range(a.reps):
                for f in files:
                    t, y = _t(lambda: load_clip(f, sr, 30.)); r['dec'].append(t)
                    t2, _ = _t(lambda: mel_crops(y, sr, cfg)); t1, _ = _t(lambda: inputs_1d(y, sr, cfg))
                    r['2d'].append(t2); r['1d'].append(t1); r['cold'].append(t1 + t2)
                    r['1d8'].append(_t(lambda: inputs_1d(y, sr, lim))[0])
                    if rep == 0:  # fill the cache
                        fc.crops(f.stem, f, cfg, y=y); fc.inputs_1d(f.stem, 'acc:o', cfg, lambda: y, source=f)
                    r['cache'].append(_t(lambda: (fc.crops(f.stem, f, cfg), fc.inputs_1d(f.stem, 'acc:o', cfg, None, source=f)))[0])
                    r['mmap'].append(_t(lambda: (fm.crops(f.stem, f, cfg), fm.inputs_1d(f.stem, 'acc:o', cfg, None, source=f)))[0])
            mb = sum(q.stat().st_size for q in (Path(d) / 'c').rglob('*.npy')) / 1e6 / len(files)
            assert fc.stats['2d_miss'] == len(files) and fc.stats['1d_miss'] == len(files), fc.stats   # reads never recomputed
        c = sh['img']; xt = sh['x_t1']; xf = sh['x_f1']
        print(f"{name:<7} {c[1]:>3}x{c[2]:<3} {xt[0]:>3}x{xt[1]:<4} {xf[0]:>3}x{xf[1]:<3} {fmt(r['dec'])} {fmt(r['2d'])} {fmt(r['1d'])} "
              f"{fmt(r['cold'])} {fmt(r['1d8'])} {np.median(r['cache']):5.2f} ({np.min(r['cache']):3.1f}) {np.median(r['mmap']):5.2f} ({np.min(r['mmap']):3.1f}) {mb:8.2f}")
    print('ms per 30 s track: median (min). cold excludes decode; cache = both items read back.')

if __name__ == '__main__': main()
