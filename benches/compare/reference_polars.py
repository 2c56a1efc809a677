"""The reference job of the comparison harness, in Polars.

    robust z of ln(customs_value / quantity) per (HS6, origin), flag |z| > 3.5,
    z = (x - median) / (1.4826 * MAD), median and MAD exact, groups whose MAD is 0
    not judged, every group judged whatever its size.

The same flagged set as `reference.sql` (DuckDB) and as tradescan with
`reference.toml`; see that SQL file for which of tradescan's reading rules are
mirrored (null and non-positive values, NaN, null HS code, null origin = "" origin).

Polars' `median` is quantile 0.5 with linear interpolation (an even count's median is
lo + 0.5 * (hi - lo)), as DuckDB's and tradescan's. The MAD is the median, per group,
of |x - group median|: two window expressions.

Run on its own (compare.py runs it in a child process, with POLARS_MAX_THREADS set
before Polars is imported):

    POLARS_MAX_THREADS=2 python reference_polars.py DATA_DIR OUT.parquet
"""

import json
import sys
import time

import polars as pl

KEY = ["hs6", "origin"]


def flagged(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The flagged lines of `lines` (canonical columns), as (declaration_id, line_no)."""
    x = (pl.col("customs_value") / pl.col("quantity")).log()
    med = pl.col("x").median().over(KEY)
    return (
        lines.select("declaration_id", "line_no", "hs_code", "origin", "quantity", "customs_value")
        .filter(
            pl.col("hs_code").is_not_null()
            & (pl.col("customs_value") > 0)
            & (pl.col("quantity") > 0)
        )
        .select(
            "declaration_id",
            "line_no",
            pl.col("hs_code").str.slice(0, 6).alias("hs6"),
            pl.col("origin").fill_null(""),
            x.alias("x"),
        )
        .filter(pl.col("x").is_finite())
        .with_columns(med.alias("med"))
        .with_columns((pl.col("x") - pl.col("med")).abs().median().over(KEY).alias("mad"))
        .filter(
            (pl.col("mad") > 0)
            & (((pl.col("x") - pl.col("med")) / (1.4826 * pl.col("mad"))).abs() > 3.5)
        )
        .select("declaration_id", "line_no")
    )


def scan_lines(data_dir: str) -> pl.LazyFrame:
    """Every Parquet file under `data_dir` (hive folders; the generator's `_labels`
    folder holds no Parquet file)."""
    return pl.scan_parquet(f"{data_dir}/**/*.parquet", hive_partitioning=False)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: reference_polars.py DATA_DIR OUT.parquet", file=sys.stderr)
        return 64
    data_dir, out = argv[1], argv[2]
    t = time.perf_counter()
    result = flagged(scan_lines(data_dir)).collect()
    result.write_parquet(out)
    seconds = time.perf_counter() - t
    print(
        json.dumps(
            {
                "engine": "polars",
                "version": pl.__version__,
                "threads": pl.thread_pool_size(),
                "flagged": result.height,
                "seconds": seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
