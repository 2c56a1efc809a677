"""Print the eval reports of run.sh as Markdown tables: line findings (methods with any),
then hs6_importer series findings (methods with any series finding).

    python report.py RESULTS_DIR
"""

import json
import pathlib
import sys

LABELS = [
    "under_valuation:factor>=5",
    "over_valuation:factor>=5",
    "under_valuation",
    "over_valuation",
    "price_gouging",
    "wrong_unit",
    "currency_slip",
]

SERIES_LABELS = ["volume_surge", "first_time_precursor_importer"]
SERIES_KEY = "hs6_importer"


def at(scores: dict, rate: float, what: str):
    for a in scores["at"]:
        if abs(a["rate_percent"] - rate) < 1e-9:
            return a[what]
    return None


def fmt(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def header(cols) -> None:
    """A Markdown table's header: data, method and `cols`."""
    print("| data | method | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 2) + "|")


def line_table(reports) -> None:
    cols = ["P@0.5%", "P@1%", "R@5%", "AUC-PR"] + [f"R {l}" for l in LABELS]
    header(cols)
    for data, method, r in reports:
        if r["line_findings"] == 0:
            continue
        o = r["overall"]
        row = [at(o, 0.5, "precision"), at(o, 1.0, "precision"), at(o, 5.0, "recall"),
               o["average_precision"]]
        for label in LABELS:
            b = r["by_label"].get(label)
            row.append(None if b is None else b["recall"])
        print(f"| {data} | {method} | " + " | ".join(map(fmt, row)) + " |")


def series_table(reports) -> None:
    """Recall of the series labels, and the hs6_importer periods flagged that match no
    label (false alarms: all detectors together, per million lines scanned, and by
    detector), and the known-benign series weeks flagged (seasonal peaks, codes changed
    at a nomenclature update; each also a false alarm)."""
    cols = [f"R {l}" for l in SERIES_LABELS] + [
        f"{SERIES_KEY} flagged", "false alarms", "FA / M lines", "FA by detector",
        "seasonal peaks flagged", "reclassified codes flagged"]
    header(cols)
    for data, method, r in reports:
        if r["series_findings"] == 0:
            continue
        s = r["series"]
        row = []
        for label in SERIES_LABELS:
            b = s["by_label"].get(label)
            row.append(fmt(None if b is None else b["recall"]))
        k = s["by_series_key"].get(SERIES_KEY, {"flagged": 0, "false_alarms": 0})
        n = r["lines_total"]
        row += [str(k["flagged"]), str(k["false_alarms"]),
                fmt(k["false_alarms"] / n * 1e6 if n else None)]
        by = [(d, keys[SERIES_KEY]["false_alarms"]) for d, keys in s["by_detector"].items()
              if SERIES_KEY in keys]
        row.append(", ".join(f"{d} {fa}" for d, fa in by) or "-")
        for label in ("benign_seasonal_peak", "benign_reclassification"):
            b = s.get("benign", {}).get(label)
            row.append("-" if b is None else f"{b['flagged']} of {b['labels']}")
        print(f"| {data} | {method} | " + " | ".join(row) + " |")


def main() -> None:
    root = pathlib.Path(sys.argv[1])
    reports = [(path.parent.name, path.name.removesuffix(".eval.json"),
                json.loads(path.read_text()))
               for path in sorted(root.glob("*/*.eval.json"))]
    line_table(reports)
    print()
    series_table(reports)

if __name__ == "__main__":
    main()
