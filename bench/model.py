"""ICFF-Net cost per variant: parameters, training-step throughput (forward + backward + Adam step, crops per
second), inference throughput, and peak memory (max RSS of a fresh process per variant, and its rise over the
process after imports). Target for the cpu profile's `ic` at batch 32: >= 30 crops/s on 2 threads, < 4 GB peak.

    .venv/bin/python bench/model.py [--profile smoke|cpu|paper] [--batch 32] [--variants 2d,1d,concat,cross,ic]
                                   [--steps 6] [--threads 2] [--json FILE]

Other processes share the CPU: the load average (os.getloadavg) is printed before and after; the figures are the
median and the best of `--steps` timed steps after two warm-up steps.
"""
import argparse, json, os, resource, subprocess, sys, time

VARIANTS = ('2d', '1d', 'concat', 'cross', 'ic')

def _rss_mb():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20

def child(a):
    "Run in a fresh process: measure one variant, print one JSON line."
    import torch
    torch.set_num_threads(a.threads)
    from icff_kit.core import profile, input_shapes
    from icff_kit.model import ICFFNet, count_params
    base = _rss_mb()
    cfg = profile(a.profile, model__variant=a.child)
    s, B = input_shapes(cfg), a.batch
    torch.manual_seed(0)
    m = ICFFNet.from_config(cfg)
    x = dict(img=torch.rand(B, *s['img']), x_t1=torch.randn(B, *s['x_t1']) * 0.1, x_f1=torch.rand(B, *s['x_f1']) * 3)
    x = {k: x[k] for k in m.inputs}
    y = torch.randint(0, cfg.model.n_classes, (B,))
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    def train_step():
        loss = torch.nn.functional.cross_entropy(m(**x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    def timed(fn, n):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
        return sorted(ts)
    m.train()
    for _ in range(2): train_step()
    tt = timed(train_step, a.steps)
    m.eval()
    with torch.no_grad():
        for _ in range(2): m(**x)
        ti = timed(lambda: m(**x), a.steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KB -> MB (Linux)
    print(json.dumps(dict(variant=a.child, params=count_params(m), batch=B,
                          train_crops_s=B / tt[len(tt) // 2], train_crops_s_best=B / tt[0], train_step_ms=1000 * tt[len(tt) // 2],
                          infer_crops_s=B / ti[len(ti) // 2], peak_rss_mb=peak, rss_after_imports_mb=base, peak_rise_mb=peak - base)))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--profile', default='cpu', choices=('smoke', 'cpu', 'paper'))
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--variants', default=','.join(VARIANTS), help='comma-separated subset of ' + ','.join(VARIANTS))
    p.add_argument('--steps', type=int, default=6, help='timed steps per variant (after 2 warm-up steps)')
    p.add_argument('--threads', type=int, default=2, help='torch threads')
    p.add_argument('--json', help='also write the figures to this JSON file')
    p.add_argument('--child', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: return child(a)
    vs = [v.strip() for v in a.variants.split(',') if v.strip()]
    bad = [v for v in vs if v not in VARIANTS]
    if bad: raise SystemExit(f'bench/model.py: unknown variant(s) {bad}; choose from {VARIANTS}')
    load0 = os.getloadavg()
    print(f'profile {a.profile}, batch {a.batch}, {a.threads} threads, load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}')
    print(f"{'variant':8s} {'params':>11s} {'train crops/s':>14s} {'(best)':>7s} {'step ms':>8s} {'infer crops/s':>14s} {'peak RSS MB':>12s} {'rise MB':>8s}")
    rows = []
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
    for v in vs:
        cmd = [sys.executable, __file__, '--child', v, '--profile', a.profile, '--batch', str(a.batch),
               '--steps', str(a.steps), '--threads', str(a.threads)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode: raise SystemExit(f'bench/model.py: variant {v} failed:\n{r.stderr[-2000:]}')
        d = json.loads(r.stdout.strip().splitlines()[-1]); rows.append(d)
        print(f"{v:8s} {d['params']:>11,d} {d['train_crops_s']:>14.1f} {d['train_crops_s_best']:>7.1f} {d['train_step_ms']:>8.0f} "
              f"{d['infer_crops_s']:>14.1f} {d['peak_rss_mb']:>12.0f} {d['peak_rise_mb']:>8.0f}", flush=True)
    load1 = os.getloadavg()
    print(f'load average after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}')
    if a.profile == 'cpu' and a.batch == 32 and 'ic' in vs:
        ic = next(d for d in rows if d['variant'] == 'ic')
        ok = ic['train_crops_s'] >= 30 and ic['peak_rss_mb'] < 4096
        print(f"target (cpu ic, batch 32: >= 30 crops/s, < 4096 MB peak): {ic['train_crops_s']:.1f} crops/s, "
              f"{ic['peak_rss_mb']:.0f} MB -> {'met' if ok else 'MISSED'}")
    if a.json:
        from icff_kit.core import atomic_write_json
        atomic_write_json(a.json, dict(profile=a.profile, batch=a.batch, threads=a.threads, loadavg_before=load0,
                                       loadavg_after=load1, variants=rows))

if __name__ == '__main__': main()
