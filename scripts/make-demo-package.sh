#!/usr/bin/env bash
# Regenerates the app's demo package, public/models/demo/: a tiny random checkpoint (real
# vocabulary and image size, tiny widths) converted with `trit convert`. The same seed gives
# the same bytes, so rerunning it changes nothing unless the converter or the format changed.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

node bin/trit.mjs make-checkpoint "$work/checkpoint" --preset tiny --seed 1 --quiet
node bin/trit.mjs convert "$work/checkpoint" "$work/demo" --name "random demo" --random-weights --shard-mb 4 --quiet
rm -rf public/models/demo
mkdir -p public/models
mv "$work/demo" public/models/demo
du -sh public/models/demo
