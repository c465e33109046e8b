#!/usr/bin/env bash
# The MuJoCo PPO learning table in both columns (docs/benchmarks.md): bootstrapping through time-limit
# truncation (our default, as SB3) and treating truncation as termination (CleanRL / Baselines ppo2).
# Long (≈70 one-million-step runs): run it in the background; it is resumable — finished runs are skipped,
# so running the same command again after an interruption continues where it stopped.
#   nohup bash scripts/bench-learn-columns.sh OUT_DIR [SEED_START] [SEEDS] > OUT_DIR.log 2>&1 &
# PROXIMAL_DLL may name a built Proximal.Cli.dll to use (default: build this checkout).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: bench-learn-columns.sh OUT_DIR [SEED_START] [SEEDS]}"
seed_start="${2:-11}"
seeds="${3:-5}"
if [ -n "${PROXIMAL_DLL:-}" ]; then run=(dotnet "$PROXIMAL_DLL"); else run=("$here/proximal"); fi
nice -n 10 "${run[@]}" bench learn --suite mujoco --seeds "$seeds" --seed-start "$seed_start" --out "$out/bootstrap"
nice -n 10 "${run[@]}" bench learn --suite mujoco --seeds "$seeds" --seed-start "$seed_start" --set bootstrap_truncation=false --out "$out/no-bootstrap"
