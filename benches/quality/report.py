"""Print the eval reports of run.sh as one Markdown table.

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


def at(scores: dict, rate: float, what: str):
    for a in scores["at"]:
        if abs(a["rate_percent"] - rate) < 1e-9:
            return a[what]
    return None


def fmt(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def main() -> None:
    root = pathlib.Path(sys.argv[1])
    cols = ["P@0.5%", "P@1%", "R@5%", "AUC-PR"] + [f"R {l}" for l in LABELS]
    print("| data | method | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 2) + "|")
    for path in sorted(root.glob("*/*.eval.json")):
        r = json.loads(path.read_text())
        o = r["overall"]
        row = [at(o, 0.5, "precision"), at(o, 1.0, "precision"), at(o, 5.0, "recall"),
               o["average_precision"]]
        for label in LABELS:
            b = r["by_label"].get(label)
            row.append(None if b is None else b["recall"])
        method = path.name.removesuffix(".eval.json")
        print(f"| {path.parent.name} | {method} | " + " | ".join(map(fmt, row)) + " |")


if __name__ == "__main__":
    main()
