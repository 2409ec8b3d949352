"""musicnn in PyTorch: the cost of embedding a 30 s track once the model is loaded (target: at most 0.3 s of CPU
time on 2 cores), split into the log-mel patches and the network, and the model's load time.

    .venv/bin/python bench/musicnn.py            # a 30 s clip of ../shared/data (or a generated one), 5 repeats
"""
import argparse, time
from pathlib import Path
import numpy as np

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='MSD_musicnn'); p.add_argument('--repeats', type=int, default=5)
    a = p.parse_args()
    import torch
    from icff_kit.musicnn import Embedder, patches, SR
    real = sorted((Path(__file__).resolve().parents[2] / 'shared/data/gtzan_mini/genres_original/classical').glob('*'))
    if real:
        from icff_kit.audio import load_audio
        y = next(x for x in (load_audio(f, sr=SR)[0] for f in real) if len(x) >= 30 * SR)[:30 * SR]; what = 'a real 30 s GTZAN clip'
    else:
        t = np.arange(30 * SR) / SR; y = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32); what = 'a generated 30 s clip'
    t0 = time.perf_counter(); e = Embedder(a.model); load = time.perf_counter() - t0
    e.embed(y, SR)                                                          # warm-up
    rows = []
    for _ in range(a.repeats):
        c0, w0 = time.process_time(), time.perf_counter(); P = patches(y, SR); c1, w1 = time.process_time(), time.perf_counter()
        e(P); c2, w2 = time.process_time(), time.perf_counter()
        rows.append((c1 - c0, c2 - c1, w2 - w0))
    m = np.median(np.array(rows), 0)
    print(f"musicnn {a.model} on {what} ({len(P)} patches of 3 s), torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"  model load:                  {load:6.2f} s wall")
    print(f"  log-mel patches:             {m[0]:6.3f} s CPU")
    print(f"  network (frozen, no grad):   {m[1]:6.3f} s CPU")
    print(f"  embedding a 30 s track:      {m[0] + m[1]:6.3f} s CPU, {m[2]:.3f} s wall (median of {a.repeats}; target <= 0.3 s CPU)")

if __name__ == '__main__': main()
