#!/usr/bin/env bash
# The demo behind `make demo`: the main job on the embedded default (synthetic dataset, smoke profile).
set -euo pipefail
cd "$(dirname "$0")/.."
icff=.venv/bin/icff
has() { .venv/bin/python - "$1" "$2" <<'PY'
import importlib, sys
try: sys.exit(0 if hasattr(importlib.import_module(sys.argv[1]), sys.argv[2]) else 1)
except ImportError: sys.exit(1)
PY
}
if has icff_kit.reproduce cli_reproduce; then
  exec $icff reproduce --dataset synth --profile smoke --out reports/out
fi
# Until the report notebooks exist: generate a small synthetic dataset with stems and summarise it.
out=${ICFF_DEMO_DIR:-data/synth-demo}
if has icff_kit.synth cli_synth; then
  $icff data synth --out "$out" --n-per-genre 3 --seconds 6 --fusion 0.3 --seed 0
  if has icff_kit.datasets cli_manifest; then $icff data manifest synth --root "$out"; fi
else  # no generator yet: write and decode a few tones through the kit's audio module
  .venv/bin/python - <<'PY'
import tempfile, numpy as np
from pathlib import Path
from icff_kit.audio import save_audio, load_clip, segment
d = Path(tempfile.mkdtemp())
for ext, sr in [('wav', 16000), ('flac', 22050), ('ogg', 44100)]:
    t = np.arange(int(7.5 * sr)) / sr
    save_audio(d / f'tone.{ext}', (0.3 * np.sin(2 * np.pi * 220 * t)).astype('float32'), sr)
    y = load_clip(d / f'tone.{ext}', 22050)
    print(f'tone.{ext}: {sr} Hz -> {len(y) / 22050:.2f} s at 22050 Hz, {len(segment(y, 22050))} windows of 3 s')
PY
fi
