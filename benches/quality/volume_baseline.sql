-- The by-hand volume baseline an analyst writes in SQL: weekly volume surges per
-- (HS6, importer). A series is (hs6 = first 6 digits of hs_code, importer_id); its
-- weeks are ISO weeks (Monday start, date_trunc('week', date)); a week's volume is the
-- sum of `quantity` over its lines (units as declared, not converted), and its size the
-- count of lines. Each series gets a dense week grid from its first to its last active
-- week, weeks without lines counting as 0 lines and 0 quantity. A week is flagged when
--   - its volume is above mean + 5 sd of the previous 26 weeks of the grid (the week
--     itself excluded; fewer when the series started less than 26 weeks before),
--   - it has at least 5 lines, and
--   - at least 1 of those previous 26 weeks has lines (some history to compare with).
-- sd is the sample standard deviation (DuckDB's stddev), null with one previous week,
-- so a series' second grid week is never flagged. Score = (volume - mean) / sd; when
-- sd = 0 (all previous weeks equal, so any volume above them is flagged) the score is
-- volume / mean, how many times the usual week it is (finite, where z would be
-- infinite), or the volume itself if mean = 0 (zero or missing quantities).
-- Weeks before a series' first line and lines without a date, hs_code or importer are
-- not looked at. Output is series findings as `tradescan eval` reads them (series_key
-- hs6_importer, period_start the week's Monday), plus the week's figures for reading.
-- {data} is the Parquet glob.
WITH lines AS (
    SELECT
        substr(hs_code, 1, 6) AS hs6,
        importer_id,
        CAST(date_trunc('week', date) AS DATE) AS week,
        quantity
    FROM read_parquet('{data}', hive_partitioning = true)
    WHERE date IS NOT NULL AND hs_code IS NOT NULL AND importer_id IS NOT NULL
),
weekly AS (
    SELECT hs6, importer_id, week, coalesce(sum(quantity), 0) AS volume, count(*) AS n_lines
    FROM lines
    GROUP BY hs6, importer_id, week
),
grid AS (
    SELECT
        hs6,
        importer_id,
        CAST(unnest(generate_series(min(week), max(week), INTERVAL 7 DAY)) AS DATE) AS week
    FROM weekly
    GROUP BY hs6, importer_id
),
dense AS (
    SELECT
        g.hs6,
        g.importer_id,
        g.week,
        coalesce(w.volume, 0) AS volume,
        coalesce(w.n_lines, 0) AS n_lines
    FROM grid g
    LEFT JOIN weekly w USING (hs6, importer_id, week)
),
history AS (
    SELECT
        *,
        avg(volume) OVER prev AS mean,
        stddev_samp(volume) OVER prev AS sd,
        count(*) FILTER (WHERE n_lines > 0) OVER prev AS active_weeks
    FROM dense
    WINDOW prev AS (
        PARTITION BY hs6, importer_id ORDER BY week
        ROWS BETWEEN 26 PRECEDING AND 1 PRECEDING
    )
)
SELECT
    'sql-surge' AS detector,
    CAST(NULL AS VARCHAR) AS declaration_id,
    CAST(NULL AS BIGINT) AS line_no,
    CASE
        WHEN sd > 0 THEN (volume - mean) / sd
        WHEN mean > 0 THEN volume / mean
        ELSE volume
    END AS score,
    'hs6_importer' AS series_key,
    hs6,
    importer_id,
    CAST(NULL AS VARCHAR) AS origin,
    CAST(NULL AS VARCHAR) AS office,
    week AS period_start,
    volume AS week_quantity,
    n_lines AS week_lines,
    mean AS trailing_mean,
    sd AS trailing_sd,
    active_weeks AS trailing_active_weeks
FROM history
WHERE n_lines >= 5
  AND active_weeks >= 1
  AND volume > mean + 5 * sd
ORDER BY score DESC, hs6, importer_id, period_start
