-- The by-hand baseline an analyst writes in SQL: robust z of ln(unit value) per
-- comparison group, |z| > 3.5. The unit value is per kg on kilogram lines (net mass,
-- or the quantity when the mass is missing) and per supplementary unit otherwise, as
-- tradescan computes it. {group} is the grouping (hs6, origin, unit for the by-hand
-- baseline; hs_code, origin, unit for the oracle), {data} the Parquet glob.
WITH lines AS (
    SELECT
        declaration_id,
        line_no,
        hs_code,
        substr(hs_code, 1, 6) AS hs6,
        origin,
        unit,
        ln(customs_value / CASE
            WHEN unit = 'KGM' OR unit IS NULL THEN coalesce(net_mass_kg, quantity)
            ELSE quantity
        END) AS x
    FROM read_parquet('{data}', hive_partitioning = true)
    WHERE customs_value > 0
      AND CASE
            WHEN unit = 'KGM' OR unit IS NULL THEN coalesce(net_mass_kg, quantity)
            ELSE quantity
          END > 0
),
centre AS (
    SELECT {group}, median(x) AS med FROM lines GROUP BY {group}
),
dev AS (
    SELECT l.*, c.med, abs(l.x - c.med) AS d
    FROM lines l JOIN centre c USING ({group})
),
spread AS (
    SELECT {group}, median(d) AS mad FROM dev GROUP BY {group}
)
SELECT
    'sql-robust-z' AS detector,
    declaration_id,
    line_no,
    d / (1.4826 * mad) AS score
FROM dev JOIN spread USING ({group})
WHERE mad > 0 AND d / (1.4826 * mad) > 3.5
ORDER BY score DESC, declaration_id, line_no
