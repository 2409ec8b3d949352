"""Decode throughput over ../shared/data/gtzan_mini: seconds of audio decoded + resampled to 22.05 kHz per second
of wall time, on one core. Target: >= 500 s/s.

    .venv/bin/python bench/audio.py [--root DIR] [--sr 22050]
"""
import argparse, os, time
from pathlib import Path
os.environ.setdefault('OMP_NUM_THREADS', '1')

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default=str(Path(__file__).resolve().parents[2] / 'shared/data/gtzan_mini'))
    p.add_argument('--sr', type=int, default=22050)
    a = p.parse_args()
    if not Path(a.root).exists(): print(f'skipped: {a.root} not found (this bench measures on ../shared/data)'); raise SystemExit(3)
    if hasattr(os, 'sched_setaffinity'): os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    from icff_kit.audio import load_audio, AUDIO_EXTS
    files = sorted(f for f in Path(a.root).rglob('*') if f.suffix.lower() in AUDIO_EXTS)
    if not files: raise SystemExit(f'no audio files under {a.root}')
    for f in files[:5]: load_audio(f, sr=a.sr)  # warm up (imports, soxr plans)
    best = None
    for _ in range(3):
        t0 = time.perf_counter(); secs = 0.; resampled = 0
        for f in files:
            y, sr = load_audio(f, sr=a.sr); secs += len(y) / sr
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    print(f'decode + resample to {a.sr} Hz, 1 core: {len(files)} files, {secs:.0f} s of audio in {best:.2f} s '
          f'(best of 3) -> {secs / best:.0f} s of audio per second (target >= 500)')

if __name__ == '__main__': main()
