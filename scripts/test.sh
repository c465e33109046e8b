#!/usr/bin/env bash
# Runs every test (after setup) and ends with one line of totals: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
dotnet test Proximal.sln -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# VSTest prints one summary per test project: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ...".
read -r passed failed skipped projects < <(awk '
  /(Passed|Failed)! +- +Failed:/ {
    for (i = 1; i <= NF; i++) { k = $i; v = $(i+1); gsub(",", "", v)
      if (k == "Failed:") f += v; else if (k == "Passed:") p += v; else if (k == "Skipped:") s += v }
    n++ }
  END { printf "%d %d %d %d\n", p, f, s, n }' "$log")
rm -f "$log"
# A crashed test host prints no summary: count it as a failure rather than a silent pass.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
