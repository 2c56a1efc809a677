#!/usr/bin/env python3
"""Derive hs2017_hs2022_changes.csv from the HS 2017 and HS 2022 nomenclatures.

Usage:
    python3 derive_hs2017_hs2022_changes.py HS2017_CSV HS2022_CSV > hs2017_hs2022_changes.csv

Both inputs have the columns `section,hscode,description,parent,level` (the HS 2022 one
is `hs2022_nomenclature.csv` in this folder; the HS 2017 one is not shipped). For each
HS 2022 level-6 code that does not exist in HS 2017, the predecessor is one of the HS
2017 level-6 codes of the same heading (first 4 digits) that no longer exist in HS 2022:
the one whose description shares most words with the new code's (Jaccard index over
words of 3 letters or more, a trailing "s" dropped) plus 0.1 for each leading digit
after the heading it shares with the new code; ties go to the numerically nearest, then
the smaller code. New codes whose heading lost no code (new headings such as 2404 or
8549, or codes carved out of a subheading that still exists) get no row.

This approximates the WCO HS 2017-HS 2022 correlation tables, which are not shipped:
a split code can have several predecessors, and the real one may be a code that still
exists, which this rule never picks.
"""
import csv
import re
import sys

SOURCE = (
    "derived (see SOURCES.md): HS 2017 code of the same heading deleted in 2022, "
    "nearest by description and digits"
)


def level6(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["hscode"]: r["description"] for r in csv.DictReader(f) if r["level"] == "6"}


def words(text):
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 3}


def common_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def main():
    old, new = level6(sys.argv[1]), level6(sys.argv[2])
    deleted = sorted(set(old) - set(new))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["hs2017", "hs2022", "description", "source"])
    for code in sorted(set(new) - set(old)):
        same_heading = [d for d in deleted if d[:4] == code[:4]]
        if not same_heading:
            continue
        mine = words(new[code])

        def score(d):
            theirs = words(old[d])
            jaccard = len(mine & theirs) / max(1, len(mine | theirs))
            return jaccard + 0.1 * (common_prefix(d, code) - 4)

        pred = min(same_heading, key=lambda d: (-score(d), abs(int(d) - int(code)), d))
        out.writerow([pred, code, new[code], SOURCE])


if __name__ == "__main__":
    main()
