"""Training throughput through the real data pipeline (feature cache -> paired samples -> DataLoader) versus the
same model on in-memory random tensors of the same shapes (target: ratio >= 0.9, the pipeline is never the
bottleneck); and the wall time of `icff predict` on a 30 s song, separation included (target: < 5 s warm).

    .venv/bin/python bench/train.py [--profile cpu] [--variant ic] [--batch 32] [--steps 10] [--rounds 7]
"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--profile', default='cpu'); p.add_argument('--variant', default='ic')
    p.add_argument('--batch', type=int, default=32); p.add_argument('--steps', type=int, default=10)
    p.add_argument('--rounds', type=int, default=7, help='interleaved pipeline / in-memory rounds (medians reported)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--song', default=str(Path(__file__).resolve().parents[2] / 'shared/data/gtzan_au/genres/rock/rock.00000.au'),
                   help='a 30 s song for the predict timing')
    p.add_argument('--skip-predict', action='store_true')
    a = p.parse_args()
    if not a.skip_predict and not Path(a.song).exists(): print(f'predict timing skipped: {a.song} not found (../shared/data)'); a.skip_predict = True
    tmp = Path(tempfile.mkdtemp(prefix='icff-bench-train-'))
    os.environ['ICFF_CACHE'] = str(tmp / 'cache'); os.environ['ICFF_PROGRESS'] = '0'
    import numpy as np, torch
    torch.set_num_threads(a.threads)
    from icff_kit.core import profile, input_shapes
    from icff_kit.testing import tone_dataset
    from icff_kit.infer import PairSet
    from icff_kit.train import prepare_tracks, loader, flush_denormals
    flush_denormals()   # as run_experiment does on CPU
    from icff_kit.model import ICFFNet
    cfg = profile(a.profile, dataset='synth', model__variant=a.variant, separation__backend='reference')
    root = tone_dataset(tmp / 'tones', genres=('blues', 'rock', 'jazz', 'pop'), n_per_genre=5, seconds=30., sr=22050)
    tr = prepare_tracks(cfg, root)
    t0 = time.perf_counter(); ps = PairSet(tr, 'train'); t_feat = time.perf_counter() - t0
    print(f'profile {a.profile}, variant {a.variant}, batch {a.batch}, {a.threads} threads; {len(ps)} training pairs '
          f'from {len(ps.track_ids)} tracks (features computed in {t_feat:.1f} s, not timed below)')
    model = ICFFNet.from_config(tr.cfg); opt = torch.optim.AdamW(model.parameters(), 1e-3); model.train()
    def step(b):
        img = b['img'].float() / 255 if b['img'].dtype == torch.uint8 else b['img']
        loss = torch.nn.functional.cross_entropy(model(img, b.get('x_t1'), b.get('x_f1')), b['y'])
        opt.zero_grad(); loss.backward(); opt.step()
    def timed(it, steps):
        n = 0; t0 = time.perf_counter()
        for _ in range(steps):
            b = next(it); step(b); n += len(b['y'])
        return n / (time.perf_counter() - t0)
    def cycle():
        while True:
            yield from loader(ps, a.batch, True)
    s = input_shapes(tr.cfg); C = tr.cfg.model.n_classes
    rnd = dict(img=torch.randint(0, 255, (a.batch, *s['img']), dtype=torch.uint8), x_t1=torch.randn(a.batch, *s['x_t1']),
               x_f1=torch.randn(a.batch, *s['x_f1']), y=torch.randint(0, C, (a.batch,)))
    def same():
        while True: yield rnd
    pipe_it, mem_it = cycle(), same()
    timed(pipe_it, 3); timed(mem_it, 3)                     # warm-up: allocator, thread pool, first page faults
    rounds = [(timed(pipe_it, a.steps), timed(mem_it, a.steps)) for _ in range(a.rounds)]  # interleaved: drift hits both alike
    pipe, mem = (float(np.median([r[i] for r in rounds])) for i in (0, 1))
    print(f'training throughput ({a.rounds} interleaved rounds of {a.steps} steps, medians): pipeline {pipe:.1f} pairs/s, '
          f'in-memory random tensors {mem:.1f} pairs/s, ratio {pipe / mem:.2f} (target >= 0.9; per round '
          + ', '.join(f'{p / m:.2f}' for p, m in rounds) + f'); load average {os.getloadavg()[0]:.1f}')
    t0 = time.perf_counter(); nb = 0
    for _ in range(3):
        for b in loader(ps, a.batch, True): nb += 1
    t_load = (time.perf_counter() - t0) / nb
    print(f'the data pipeline alone (feature cache -> pairs -> batch): {1e3 * t_load:.1f} ms per batch of {a.batch} = '
          f'{100 * t_load * mem / a.batch:.1f}% of an in-memory training step')
    if a.skip_predict: return
    if not Path(a.song).exists(): print(f'predict: {a.song} not found; skipped'); return
    run = tmp / 'run'
    from icff_kit.train import run_experiment
    run_experiment(profile(a.profile, dataset='synth', model__variant=a.variant, separation__backend='spleeter', train__epochs=1), root, out=run, progress_bar=False)
    from icff_kit.infer import Predictor
    t0 = time.perf_counter()
    with Predictor(run) as pr:
        t_load = time.perf_counter() - t0
        t1 = time.perf_counter(); pr.predict(a.song); cold = time.perf_counter() - t0
        t2 = time.perf_counter(); pr.predict(a.song); warm = time.perf_counter() - t2
    print(f'predict {Path(a.song).name} (30 s, separation included): warm process {warm:.2f} s (target < 5 s); '
          f'cold in-process {cold:.2f} s (model + separator start {t_load:.2f} s)')
    icff = Path(sys.executable).parent / 'icff'
    t0 = time.perf_counter()
    r = subprocess.run([str(icff), 'predict', a.song, '--run', str(run)], capture_output=True, text=True)
    print(f'`icff predict` as a fresh command: {time.perf_counter() - t0:.2f} s (rc {r.returncode})')

if __name__ == '__main__': main()
