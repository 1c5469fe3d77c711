WITH __cohort_rows AS (
  SELECT
    CAST(e.external_id AS TEXT) AS __uid,
    e.__utc_time AS __t,
    COALESCE(TRUE, FALSE) AS __c0_e,
    COALESCE(TRUE, FALSE) AS __c0_r
  FROM (
    SELECT
      *,
      CAST(CAST(purchased_at AS TIMESTAMPTZ) AS TIMESTAMP) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    CAST(e.external_id AS TEXT) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
), __cohort_entry AS (
  SELECT
    __uid,
    MIN(CASE WHEN __c0_e THEN __t END) AS __c0
  FROM __cohort_rows
  GROUP BY
    __uid
), __cohort_grid AS (
  SELECT
    __n
  FROM (VALUES
    (0),
    (1),
    (2),
    (3),
    (4),
    (5),
    (6),
    (7),
    (8),
    (9),
    (10),
    (11),
    (12)) AS g(__n)
), __cohort0_users AS (
  SELECT
    x.__uid AS __uid,
    x.__c0 AS __entry,
    CAST(DATE_TRUNC('MONTH', CAST(x.__c0 AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul') AS DATE) AS cohort_start,
    CAST(u.country AS TEXT) AS breakdown
  FROM __cohort_entry AS x
  LEFT JOIN main.users AS u
    ON CAST(u.external_id AS TEXT) = x.__uid
  WHERE
    x.__c0 <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    AND x.__c0 >= CAST('2025-10-17 15:00:00.000000' AS TIMESTAMP)
), __cohort0_returns AS (
  SELECT DISTINCT
    r.__uid,
    c.cohort_start,
    c.breakdown,
    CAST(EXTRACT(YEAR FROM CAST(DATE_TRUNC('MONTH', CAST(r.__t AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul') AS DATE)) * 12 + EXTRACT(MONTH FROM CAST(DATE_TRUNC('MONTH', CAST(r.__t AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul') AS DATE)) - (
      EXTRACT(YEAR FROM c.cohort_start) * 12 + EXTRACT(MONTH FROM c.cohort_start)
    ) AS BIGINT) AS __n
  FROM __cohort_rows AS r
  JOIN __cohort0_users AS c
    ON r.__uid = c.__uid
  WHERE
    r.__c0_r
    AND r.__t > c.__entry
    AND CAST(EXTRACT(YEAR FROM CAST(DATE_TRUNC('MONTH', CAST(r.__t AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul') AS DATE)) * 12 + EXTRACT(MONTH FROM CAST(DATE_TRUNC('MONTH', CAST(r.__t AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul') AS DATE)) - (
      EXTRACT(YEAR FROM c.cohort_start) * 12 + EXTRACT(MONTH FROM c.cohort_start)
    ) AS BIGINT) <= 12
)
SELECT
  cohort,
  cohort_start,
  breakdown,
  period,
  cohort_size,
  returned,
  retention
FROM (
  SELECT
    'monthly_buyers' AS cohort,
    cohort_start,
    breakdown,
    CAST(period AS INT) AS period,
    CAST(SUM(cohort_size) AS BIGINT) AS cohort_size,
    CAST(SUM(returned) AS BIGINT) AS returned,
    CAST(SUM(returned) AS DOUBLE) / CAST(SUM(cohort_size) AS DOUBLE) AS retention
  FROM (
    SELECT
      s.cohort_start,
      s.breakdown,
      g.__n AS period,
      s.size AS cohort_size,
      0 AS returned
    FROM (
      SELECT
        cohort_start,
        breakdown,
        COUNT(*) AS size
      FROM __cohort0_users
      GROUP BY
        cohort_start,
        breakdown
    ) AS s
    CROSS JOIN __cohort_grid AS g
    WHERE
      g.__n <= 12
      AND g.__n <= CAST(EXTRACT(YEAR FROM CAST('2026-11-01' AS DATE)) * 12 + EXTRACT(MONTH FROM CAST('2026-11-01' AS DATE)) - (
        EXTRACT(YEAR FROM s.cohort_start) * 12 + EXTRACT(MONTH FROM s.cohort_start)
      ) AS BIGINT)
    UNION ALL
    SELECT
      cohort_start,
      breakdown,
      __n AS period,
      0 AS cohort_size,
      COUNT(*) AS returned
    FROM __cohort0_returns
    GROUP BY
      cohort_start,
      breakdown,
      __n
  ) AS t
  GROUP BY
    cohort_start,
    breakdown,
    period
) AS cohorts
ORDER BY
  cohort NULLS FIRST,
  cohort_start NULLS FIRST,
  breakdown,
  period NULLS FIRST
