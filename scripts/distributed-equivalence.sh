#!/usr/bin/env bash
# Issue 11's statistical check: PPO on Hopper-v4, 2 ranks × 1 env (data-parallel over MPI) against 1 process × 2 envs
# with twice the minibatch (the same algorithm), SEEDS seeds each, STEPS steps per run. Prints each run's final mean
# return of the last 100 episodes and Welch's t statistic of the difference. Uses the built CLI (run ./proximal once first).
#   bash scripts/distributed-equivalence.sh OUT_DIR [SEEDS] [STEPS]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: distributed-equivalence.sh OUT_DIR [SEEDS] [STEPS]}"; seeds="${2:-4}"; steps="${3:-150000}"
dll="$here/src/Proximal.Cli/bin/Release/net10.0/Proximal.Cli.dll"
mkdir -p "$out"
for s in $(seq 1 "$seeds"); do
  [ -f "$out/single-$s/model.zip" ] || dotnet "$dll" train --algo ppo --env Hopper-v4 --seed "$s" --steps "$steps" --no-progress \
      --set n_envs=2 --set minibatch_size=128 --run-dir "$out/single-$s" > "$out/single-$s.log" 2>&1
  [ -f "$out/ranks2-$s/model.zip" ] || mpirun -np 2 --allow-run-as-root --oversubscribe dotnet "$dll" train --algo ppo --env Hopper-v4 --seed "$s" \
      --steps "$steps" --no-progress --distributed --run-dir "$out/ranks2-$s" > "$out/ranks2-$s.log" 2>&1
done
python3 - "$out" "$seeds" <<'PY'
import csv, math, sys
out, seeds = sys.argv[1], int(sys.argv[2])
def final(d):
    rows = [r for r in csv.DictReader(open(f"{out}/{d}/progress.csv")) if r.get("rollout/episode_return_mean") not in (None, "", "NaN")]
    return float(rows[-1]["rollout/episode_return_mean"])
a = [final(f"single-{s}") for s in range(1, seeds + 1)]
b = [final(f"ranks2-{s}") for s in range(1, seeds + 1)]
def ms(x):
    m = sum(x) / len(x); v = sum((y - m) ** 2 for y in x) / (len(x) - 1); return m, v
(ma, va), (mb, vb) = ms(a), ms(b)
t = (ma - mb) / math.sqrt(va / len(a) + vb / len(b))
df = (va / len(a) + vb / len(b)) ** 2 / ((va / len(a)) ** 2 / (len(a) - 1) + (vb / len(b)) ** 2 / (len(b) - 1))  # Welch-Satterthwaite
print("1 process x 2 envs :", ", ".join(f"{x:.1f}" for x in a), f"mean {ma:.1f} sd {math.sqrt(va):.1f}")
print("2 ranks x 1 env    :", ", ".join(f"{x:.1f}" for x in b), f"mean {mb:.1f} sd {math.sqrt(vb):.1f}")
# Two-sided 5 % critical values of Student's t by degrees of freedom (a table, so no SciPy is needed).
crit = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 12: 2.18, 15: 2.13, 20: 2.09, 30: 2.04}
c = crit[max(k for k in crit if k <= max(1, int(df)))]
print(f"Welch t = {t:.2f}, {df:.1f} degrees of freedom; 5 % two-sided critical value {c}: " + ("no significant difference" if abs(t) < c else "SIGNIFICANT difference"))
PY
