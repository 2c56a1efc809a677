-- The reference job of the comparison harness, in DuckDB SQL:
--
--   robust z of ln(customs_value / quantity) per (HS6, origin), flag |z| > 3.5,
--   z = (x - median) / (1.4826 * MAD), median and MAD exact, groups whose MAD is 0
--   not judged, every group judged whatever its size.
--
-- The same job as `tradescan scan DATA --config benches/compare/reference.toml`
-- (rows of findings.parquet with detector = 'robust-z'); compare.py checks that the
-- two flagged sets are identical.
--
-- Input: a table or view `declaration_lines` with the canonical columns, e.g.
--   CREATE VIEW declaration_lines AS
--       SELECT * FROM read_parquet('benches/compare/data/rows-2000000/**/*.parquet');
-- Output: the flagged lines, (declaration_id, line_no).
--
-- Exactness: DuckDB's `median(x)` is `quantile_cont(x, 0.5)` (an even count's median
-- is lo + 0.5 * (hi - lo)) and `mad(x)` is the same median of |x - median(x)|, which is
-- how tradescan computes them, bit for bit.
--
-- What mirrors tradescan's reading of a line:
-- * a null or non-positive customs value or quantity excludes the line (`> 0` is not
--   true for NULL); so does a NaN or a ratio that over- or underflows (`isfinite`;
--   DuckDB orders NaN above every number, so `NaN > 0` is true and needs that check);
-- * a null hs_code excludes the line (tradescan: `bad_hs_code`);
-- * a null and an empty origin are one group (tradescan reads both as "no origin"
--   and keeps the line; GROUP BY would otherwise separate NULL from '').
-- Not mirrored, because the generated data never needs it (README.md of this folder):
-- tradescan trims and upper-cases origins, drops dots and spaces from HS codes, and
-- skips lines with an HS code that is not 4-12 digits or an origin or unit code longer
-- than 8 characters.
WITH parsed AS (
    SELECT
        declaration_id,
        line_no,
        left(hs_code, 6)             AS hs6,
        coalesce(origin, '')         AS origin,
        ln(customs_value / quantity) AS x
    FROM declaration_lines
    WHERE hs_code IS NOT NULL
      AND customs_value > 0
      AND quantity > 0
),
lines AS (
    SELECT * FROM parsed WHERE isfinite(x)
),
groups AS (
    SELECT hs6, origin, median(x) AS med, mad(x) AS mad
    FROM lines
    GROUP BY hs6, origin
)
SELECT l.declaration_id, l.line_no
FROM lines AS l
JOIN groups AS g USING (hs6, origin)
WHERE g.mad > 0
  AND abs((l.x - g.med) / (1.4826 * g.mad)) > 3.5
