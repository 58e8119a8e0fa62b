#!/usr/bin/env bash
# A newcomer's first run, as CI: a fresh clone of the commit under test, `npm install` and
# `npx funsearch` exactly as the README's quick start says, a whole run with the mock model on the
# real Docker sandbox (the image must already exist). Fails unless the report exists and the best
# score beats the initial program's.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="$(git -C "$repo" rev-parse HEAD)"
work="$(mktemp -d /tmp/funsearch-smoke.XXXXXX)"
trap 'rm -rf "$work"' EXIT
reports="$work/reports"

echo "smoke: fresh clone of $commit"
git clone --quiet --no-local "$repo" "$work/funsearch"
cd "$work/funsearch"
git checkout --quiet --detach "$commit"

echo "smoke: npm install (builds dist/)"
npm install >"$work/npm-install.log" 2>&1 || { tail -30 "$work/npm-install.log"; exit 1; }

npx funsearch -s specs/cap_set.py -t test-inputs/cap_set.txt --llm mock --mock-latency 100 \
  --num-samplers 2 --samples-per-prompt 4 --total-llm-samples 6 --num-islands 3 --seed 7 --timeout 2 \
  --report-dir "$reports" --log-level warn
run_dir="$(ls -d "$reports"/*/ | head -1)"
for file in summary.json report.txt events.jsonl checkpoint.json run.log island_0_best_program.py; do
  [ -s "$run_dir/$file" ] || { echo "smoke: $file missing from $run_dir"; exit 1; }
done
node -e '
  const s = require(process.argv[1] + "/summary.json");
  console.log(`smoke: best ${s.bestScore}, initial ${s.initialScore}, samples ${s.samples}, evaluations ${s.evaluations}`);
  if (!(s.bestScore > s.initialScore)) { console.error("smoke: the best score does not beat the initial program"); process.exit(1); }
' "$run_dir"
# The best program is a whole runnable program: run it on the host.
python3 - "$run_dir/island_0_best_program.py" <<'PY'
import sys, types
source = open(sys.argv[1]).read()
namespace = {}
exec(compile(source, sys.argv[1], "exec"), namespace)
print("smoke: island 0 best program scores", namespace["evaluate"](3), "on n=3")
PY
leftover="$(docker ps -aq --filter label=funsearch.run)"
[ -z "$leftover" ] || { echo "smoke: containers left over: $leftover"; exit 1; }
echo "smoke: ok"
