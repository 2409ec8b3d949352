"""Time of each augmentation per 30 s mono clip, at 22.05 and 44.1 kHz, on one core: median of --runs runs after
one warm-up. Target: < 50 ms each (issue 4).

    .venv/bin/python bench/augment.py [--runs 7] [--file AUDIO] [--json FILE]

a: noise (add_noise); b: 1.5 s shift and its nine 3 s windows; c: SoundTouch time stretch at 0.9 and 1.1, through
the C library (ctypes, default settings and quick seek) and through the soundstretch tool.
"""
import argparse, os, statistics, time
os.environ.setdefault('OMP_NUM_THREADS', '1')
import numpy as np

def clip(sr, path=None):
    "30 s of audio: the file (looped or cut), or tones under noise."
    if path:
        from icff_kit.audio import load_audio
        y, _ = load_audio(path, sr=sr)
        return np.resize(y, 30 * sr).astype(np.float32)
    t = np.arange(30 * sr) / sr; rng = np.random.default_rng(0)
    y = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (110, 220, 330, 523.25)) + 0.05 * rng.standard_normal(len(t))
    return y.astype(np.float32)

def timed(f, runs):
    f()   # warm-up: library load, first allocations
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1000, min(ts) * 1000

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--runs', type=int, default=7)
    p.add_argument('--file', default=None, help='audio file to use instead of the synthetic clip')
    p.add_argument('--json', default=None, help='write the figures here (ms)')
    a = p.parse_args()
    if hasattr(os, 'sched_setaffinity'): os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    from icff_kit import augment as A
    print(f'SoundTouch {A.soundtouch_version()}, one core, 30 s mono clip '
          f'({a.file or "synthetic"}), median (min) of {a.runs} runs, ms')
    cases = [('a  noise', lambda y, sr: A.add_noise(y, 1)),
             ('b  shift + 9 windows', lambda y, sr: A.shift_windows(A.time_shift(y, sr), sr))]
    for b, q in [('lib', False), ('lib', True), ('cli', False)]:
        for r in (0.9, 1.1):
            cases.append((f'c  stretch {r} {b}{" quick" if q else ""}',
                          lambda y, sr, r=r, b=b, q=q: A.time_stretch(y, sr, r, backend=b, quick=q)))
    rows, res = [], {}
    for sr in (22050, 44100):
        y = clip(sr, a.file)
        for name, f in cases:
            med, mn = timed(lambda: f(y, sr), a.runs)
            res.setdefault(name, {})[sr] = dict(median_ms=round(med, 2), min_ms=round(mn, 2))
    w = max(map(len, res))
    print(f'{"augmentation":<{w}}  {"22.05 kHz":>16}  {"44.1 kHz":>16}  target < 50 ms')
    for name, d in res.items():
        cells = [f'{d[sr]["median_ms"]:7.1f} ({d[sr]["min_ms"]:5.1f})' for sr in (22050, 44100)]
        ok = ['ok' if d[sr]['median_ms'] < 50 else 'MISS' for sr in (22050, 44100)]
        print(f'{name:<{w}}  {cells[0]:>16}  {cells[1]:>16}  {ok[0]} / {ok[1]}')
    if a.json:
        from icff_kit.core import atomic_write_json
        atomic_write_json(a.json, dict(unit='ms per 30 s clip', runs=a.runs, file=a.file, results=res))

if __name__ == '__main__': main()
