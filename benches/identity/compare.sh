#!/usr/bin/env bash
# Byte identity of two tradescan binaries on generated data: a change that should not
# change results (a refactor, a speed-up) must give the same outputs.
#
#   benches/identity/compare.sh OLD_BIN NEW_BIN [WORK_DIR] [--big DATA]
#
# Runs both binaries on the same commands (scan to parquet, csv and jsonl; budget and
# random audit; --watch; monthly periods with seasonal surge and split thresholds;
# fit, scan --baseline, fit --update; with --big DATA, the default scan of DATA on two
# threads) and compares every output file: bytes, except manifest.json (without
# `timings_ms` and `execution`) and baseline.json (parsed). Exit 0 when identical.
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2"); work=$(realpath -m "${3:-${TMPDIR:-/tmp}/tradescan-identity}")
big=""
if [[ "${4:-}" == --big ]]; then big=$(realpath "$5"); fi
data="$work/data"
mkdir -p "$data"
[[ -d "$data/small/_labels" ]] || "$old" generate --rows 300000 --seed 5 --out "$data/small" >/dev/null
[[ -d "$data/monthly/_labels" ]] || "$old" generate --rows 200000 --seed 9 --start 2024-01 \
    --months 24 --out "$data/monthly" >/dev/null
cat > "$work/monthly.toml" <<'T'
[volume]
period = "month"
[detectors.surge]
seasonal = true
[[detectors.split-shipment.thresholds]]
hs = "3102"
amount = 1000.0
[[detectors.split-shipment.thresholds]]
hs = "93"
amount = 50.0
T
run() {
    local bin=$1 out=$2 q=--quiet
    rm -rf "$out" && mkdir -p "$out"
    local months=("$data"/small/year=*/month=*)
    "$bin" $q scan "$data/small" --out "$out/small" >/dev/null || true
    "$bin" $q scan "$data/small" --out "$out/small_csv" --format csv --budget 300 \
        --budget-per office --random-audit 0.01 --seed 3 >/dev/null || true
    "$bin" $q scan "$data/small" --out "$out/small_jsonl" --format jsonl \
        --watch ied_precursors,medical_supplies >/dev/null || true
    "$bin" $q --config "$work/monthly.toml" scan "$data/monthly" --out "$out/monthly" \
        >/dev/null || true
    "$bin" $q fit "${months[@]:0:${#months[@]}-2}" --out "$out/base" >/dev/null
    "$bin" $q scan "${months[@]: -2}" --baseline "$out/base" --out "$out/against" \
        >/dev/null || true
    cp -r "$out/base" "$out/base_upd"
    "$bin" $q fit --update "$out/base_upd" "${months[@]: -1}" >/dev/null || true
    if [[ -n "$big" ]]; then
        "$bin" $q --threads 2 scan "$big" --out "$out/big" >/dev/null || true
    fi
}
fingerprints() {
    (cd "$1" && find . -type f | sort | while read -r f; do
        case "$f" in
            *manifest.json|*baseline.json) python3 - "$f" <<'P'
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
for k in ("timings_ms", "execution"):
    m.pop(k, None)
print(hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest(), sys.argv[1])
P
            ;;
            *) echo "$(sha256sum < "$f" | cut -c1-64) $f" ;;
        esac
    done)
}
run "$old" "$work/old"
run "$new" "$work/new"
fingerprints "$work/old" > "$work/old.txt"
fingerprints "$work/new" > "$work/new.txt"
if diff "$work/old.txt" "$work/new.txt"; then
    echo "identical: $(wc -l < "$work/new.txt") files"
else
    echo "outputs differ (- old, + new)" >&2
    exit 1
fi
