WITH __cohort_rows AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS __uid,
    e.__utc_time AS __t,
    FALSE AS __c0_e,
    COALESCE(
      CAST(e.event_name AS VARCHAR) IN ('app_open')
      AND COALESCE(
        CASE
          WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST(e.properties AS JSONB), 'platform')) = 'string'
          THEN JSONB_EXTRACT_PATH_TEXT(CAST(e.properties AS JSONB), 'platform')
        END = 'ios',
        FALSE
      ),
      FALSE
    ) AS __c0_r
  FROM (
    SELECT
      *,
      CAST(occurred_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND CAST(e.event_name AS VARCHAR) IN ('app_open')
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
    (8)) AS g(__n)
), __cohort0_users AS (
  SELECT
    CAST(u.external_id AS VARCHAR) AS __uid,
    TO_TIMESTAMP(CAST(u.signup_ms AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC' AS __entry,
    CAST(DATE_TRUNC(
      'WEEK',
      CAST(TO_TIMESTAMP(CAST(u.signup_ms AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC' AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul'
    ) AS DATE) AS cohort_start,
    CAST(NULL AS VARCHAR) AS breakdown
  FROM main.users AS u
  WHERE
    (
      CAST(u.external_id AS VARCHAR) <> ''
      AND TO_TIMESTAMP(CAST(u.signup_ms AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND CAST(u.external_id AS VARCHAR) IN (
      WITH __universe AS (
        SELECT
          CAST(external_id AS VARCHAR) AS external_user_id
        FROM main.users
        WHERE
          CAST(external_id AS VARCHAR) <> ''
        UNION
        SELECT
          CAST(external_id AS VARCHAR) AS external_user_id
        FROM main.events
        WHERE
          CAST(external_id AS VARCHAR) <> ''
          AND CAST(occurred_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
        UNION
        SELECT
          CAST(external_id AS VARCHAR) AS external_user_id
        FROM main.purchases
        WHERE
          CAST(external_id AS VARCHAR) <> ''
          AND CAST(purchased_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
      )
      SELECT
        v.external_user_id
      FROM __universe AS v
      LEFT JOIN main.users AS u
        ON CAST(u.external_id AS VARCHAR) = v.external_user_id
      WHERE
        COALESCE(CAST(u.country AS VARCHAR) = 'KR', FALSE)
    )
), __cohort0_returns AS (
  SELECT DISTINCT
    r.__uid,
    c.cohort_start,
    c.breakdown,
    CAST(CAST(CAST(EXTRACT(epoch FROM CAST(CAST(DATE_TRUNC('WEEK', CAST(r.__t AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul') AS DATE) AS TIMESTAMP) - CAST(c.cohort_start AS TIMESTAMP)) / 86400 AS BIGINT) AS DOUBLE PRECISION) / 7 AS BIGINT) AS __n
  FROM __cohort_rows AS r
  JOIN __cohort0_users AS c
    ON r.__uid = c.__uid
  WHERE
    r.__c0_r
    AND r.__t > c.__entry
    AND CAST(CAST(CAST(EXTRACT(epoch FROM CAST(CAST(DATE_TRUNC('WEEK', CAST(r.__t AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Seoul') AS DATE) AS TIMESTAMP) - CAST(c.cohort_start AS TIMESTAMP)) / 86400 AS BIGINT) AS DOUBLE PRECISION) / 7 AS BIGINT) <= 8
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
    'weekly_signups' AS cohort,
    cohort_start,
    breakdown,
    CAST(period AS INT) AS period,
    CAST(SUM(cohort_size) AS BIGINT) AS cohort_size,
    CAST(SUM(returned) AS BIGINT) AS returned,
    CAST(SUM(returned) AS DOUBLE PRECISION) / CAST(SUM(cohort_size) AS DOUBLE PRECISION) AS retention
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
      g.__n <= 8
      AND g.__n <= CAST(CAST(CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-16' AS DATE) AS TIMESTAMP) - CAST(s.cohort_start AS TIMESTAMP)) / 86400 AS BIGINT) AS DOUBLE PRECISION) / 7 AS BIGINT)
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
