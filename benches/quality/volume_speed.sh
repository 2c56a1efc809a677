#!/usr/bin/env bash
# The volume job alone, side by side: tradescan's surge detector on (HS6, importer)
# weekly series (price detectors off) beside the by-hand DuckDB job
# (volume_baseline.sql, run by baseline.py) on the same files, interleaved, each writing
# its findings. Prints wall seconds and peak RSS per round and the medians.
#
#   benches/quality/volume_speed.sh DATA_DIR [--rounds N] [--threads T]
#
# Defaults: 3 rounds, 2 threads for both. Needs Python 3 (the venv of run.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:?usage: volume_speed.sh DATA_DIR [--rounds N] [--threads T]}"
shift
rounds=3 threads=2
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        *) echo "volume_speed.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
. "$here/setup.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/volume.toml" <<'TOML'
[price]
detectors = []
[volume]
keys = ["hs6+importer"]
detectors = ["surge"]
TOML
run() {
    local name="$1"; shift
    rm -rf "$work/out-$name"
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2>&1
    read -r secs kib < "$work/time"
    echo "$name $secs $((kib / 1024))"
}
for _ in $(seq 1 "$rounds"); do
    run tradescan "$bin" --quiet --threads "$threads" --config "$work/volume.toml" \
        scan "$data" --out "$work/out-tradescan"
    run duckdb "$venv/bin/python" "$here/baseline.py" "$data" "$work/out-duckdb" \
        --sql volume_baseline.sql --threads "$threads"
done | tee "$work/rounds"
"$venv/bin/python" - "$work/rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {m: (statistics.median(float(r[1]) for r in rows if r[0] == m),
           statistics.median(int(r[2]) for r in rows if r[0] == m)) for m in ("tradescan", "duckdb")}
for m, (s, mib) in med.items():
    print(f"| {m} | {s:.2f} s | {mib} MiB |")
print(f"duckdb / tradescan: {med['duckdb'][0] / med['tradescan'][0]:.1f}x")
PY
