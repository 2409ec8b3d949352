#!/usr/bin/env bash
# System packages the kit uses, installed with apt when run as root; otherwise a message saying what to install
# and what degrades without it. Fast when everything is present (a dpkg query, no network).
set -u
declare -A WHY=(
  [ffmpeg]="Spleeter fine-tuning reads audio through ffmpeg (icff separate-finetune fails without it)"
  [libsoundtouch1]="time-stretch augmentation (c) through SoundTouch's library"
  [soundstretch]="time-stretch augmentation (c) through SoundTouch's command-line tool (fallback)"
  [libfluidsynth3]="the synthetic dataset (icff data synth) renders MIDI with FluidSynth"
  [espeak-ng]="voice-like vocal stems of the synthetic dataset (formant synthesis is used without it)"
  [libsndfile1]="audio decoding (soundfile brings its own copy; the system one is a fallback)"
  [chromium]="the browser test of the explorer (make test-browser) drives Chromium"
)
# Without arguments: the packages every set-up needs. With arguments: those (e.g. `tools/system-deps.sh chromium`).
PKGS=(ffmpeg libsoundtouch1 soundstretch libfluidsynth3 espeak-ng libsndfile1)
(($# > 0)) && PKGS=("$@")
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && { echo "system packages: all present (${PKGS[*]})"; exit 0; }
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "system packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "system packages: apt-get failed for ${missing[*]}" >&2; exit 1; }
  echo "system packages: installed ${missing[*]}"
else
  echo "system packages: not root (or no apt-get), so these are not installed: ${missing[*]}"
  echo "  ask an administrator to run: apt-get install ${missing[*]}"
  for p in "${missing[@]}"; do echo "  - $p: ${WHY[$p]}"; done
fi
