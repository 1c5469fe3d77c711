WITH __cohort_rows AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS __uid,
    e.__utc_time AS __t,
    FALSE AS __c0_e,
    FALSE AS __c0_r,
    FALSE AS __c1_e,
    COALESCE(
      CAST(e.event_name AS VARCHAR) IN ('app_open')
      AND COALESCE(
        IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["platform"]')), 1, 1) IN ('"'),
          CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["platform"]') AS VARCHAR),
          NULL
        ) = 'ios',
        FALSE
      ),
      FALSE
    ) AS __c1_r,
    COALESCE(CAST(e.event_name AS VARCHAR) IN ('app_open', 'search'), FALSE) AS __c2_e,
    COALESCE(CAST(e.event_name AS VARCHAR) IN ('app_open'), FALSE) AS __c2_r
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND CAST(e.event_name AS VARCHAR) IN ('app_open', 'search')
  UNION ALL
  SELECT
    CAST(e.external_id AS VARCHAR) AS __uid,
    e.__utc_time AS __t,
    COALESCE(TRUE, FALSE) AS __c0_e,
    COALESCE(TRUE, FALSE) AS __c0_r,
    FALSE AS __c1_e,
    FALSE AS __c1_r,
    FALSE AS __c2_e,
    FALSE AS __c2_r
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', purchased_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    CAST(e.external_id AS VARCHAR) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
), __cohort_entry AS (
  SELECT
    __uid,
    MIN(CASE WHEN __c0_e THEN __t END) AS __c0,
    MIN(CASE WHEN __c2_e THEN __t END) AS __c2
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
    CAST(DATE_TRUNC('MONTH', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', x.__c0)) AS DATE) AS cohort_start,
    CAST(u.country AS VARCHAR) AS breakdown
  FROM __cohort_entry AS x
  LEFT JOIN main.users AS u
    ON CAST(u.external_id AS VARCHAR) = x.__uid
  WHERE
    x.__c0 <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    AND x.__c0 >= CAST('2025-10-17 15:00:00.000000' AS TIMESTAMPNTZ)
), __cohort0_returns AS (
  SELECT DISTINCT
    r.__uid,
    c.cohort_start,
    c.breakdown,
    CAST(DATE_PART(
      YEAR,
      CAST(DATE_TRUNC('MONTH', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) * 12 + DATE_PART(
      MONTH,
      CAST(DATE_TRUNC('MONTH', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) - (
      DATE_PART(YEAR, c.cohort_start) * 12 + DATE_PART(MONTH, c.cohort_start)
    ) AS BIGINT) AS __n
  FROM __cohort_rows AS r
  JOIN __cohort0_users AS c
    ON r.__uid = c.__uid
  WHERE
    r.__c0_r
    AND r.__t > c.__entry
    AND CAST(DATE_PART(
      YEAR,
      CAST(DATE_TRUNC('MONTH', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) * 12 + DATE_PART(
      MONTH,
      CAST(DATE_TRUNC('MONTH', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) - (
      DATE_PART(YEAR, c.cohort_start) * 12 + DATE_PART(MONTH, c.cohort_start)
    ) AS BIGINT) <= 12
), __cohort1_users AS (
  SELECT
    CAST(u.external_id AS VARCHAR) AS __uid,
    CAST(TO_TIMESTAMP(u.signup_ms, 3) AS TIMESTAMPNTZ) AS __entry,
    CAST(DATE_TRUNC(
      'WEEK',
      CONVERT_TIMEZONE('UTC', 'Asia/Seoul', CAST(TO_TIMESTAMP(u.signup_ms, 3) AS TIMESTAMPNTZ))
    ) AS DATE) AS cohort_start,
    CAST(NULL AS VARCHAR) AS breakdown
  FROM main.users AS u
  WHERE
    (
      CAST(u.external_id AS VARCHAR) <> ''
      AND CAST(TO_TIMESTAMP(u.signup_ms, 3) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
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
          AND CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
        UNION
        SELECT
          CAST(external_id AS VARCHAR) AS external_user_id
        FROM main.purchases
        WHERE
          CAST(external_id AS VARCHAR) <> ''
          AND CAST(CONVERT_TIMEZONE('UTC', purchased_at) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
      )
      SELECT
        v.external_user_id
      FROM __universe AS v
      LEFT JOIN main.users AS u
        ON CAST(u.external_id AS VARCHAR) = v.external_user_id
      WHERE
        COALESCE(CAST(u.country AS VARCHAR) = 'KR', FALSE)
    )
), __cohort1_returns AS (
  SELECT DISTINCT
    r.__uid,
    c.cohort_start,
    c.breakdown,
    CAST(DATEDIFF(
      DAY,
      c.cohort_start,
      CAST(DATE_TRUNC('WEEK', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) / 7 AS BIGINT) AS __n
  FROM __cohort_rows AS r
  JOIN __cohort1_users AS c
    ON r.__uid = c.__uid
  WHERE
    r.__c1_r
    AND r.__t > c.__entry
    AND CAST(DATEDIFF(
      DAY,
      c.cohort_start,
      CAST(DATE_TRUNC('WEEK', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) / 7 AS BIGINT) <= 8
), __cohort2_users AS (
  SELECT
    x.__uid AS __uid,
    x.__c2 AS __entry,
    CAST(DATE_TRUNC('DAY', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', x.__c2)) AS DATE) AS cohort_start,
    CAST(NULL AS VARCHAR) AS breakdown
  FROM __cohort_entry AS x
  WHERE
    x.__c2 <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
), __cohort2_returns AS (
  SELECT DISTINCT
    r.__uid,
    c.cohort_start,
    c.breakdown,
    CAST(DATEDIFF(
      DAY,
      c.cohort_start,
      CAST(DATE_TRUNC('DAY', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) AS BIGINT) AS __n
  FROM __cohort_rows AS r
  JOIN __cohort2_users AS c
    ON r.__uid = c.__uid
  WHERE
    r.__c2_r
    AND r.__t > c.__entry
    AND CAST(DATEDIFF(
      DAY,
      c.cohort_start,
      CAST(DATE_TRUNC('DAY', CONVERT_TIMEZONE('UTC', 'Asia/Seoul', r.__t)) AS DATE)
    ) AS BIGINT) <= 7
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
      AND g.__n <= CAST(DATE_PART(YEAR, CAST('2026-11-01' AS DATE)) * 12 + DATE_PART(MONTH, CAST('2026-11-01' AS DATE)) - (
        DATE_PART(YEAR, s.cohort_start) * 12 + DATE_PART(MONTH, s.cohort_start)
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
  UNION ALL
  SELECT
    'weekly_signups' AS cohort,
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
      FROM __cohort1_users
      GROUP BY
        cohort_start,
        breakdown
    ) AS s
    CROSS JOIN __cohort_grid AS g
    WHERE
      g.__n <= 8
      AND g.__n <= CAST(DATEDIFF(DAY, s.cohort_start, CAST('2026-11-16' AS DATE)) / 7 AS BIGINT)
    UNION ALL
    SELECT
      cohort_start,
      breakdown,
      __n AS period,
      0 AS cohort_size,
      COUNT(*) AS returned
    FROM __cohort1_returns
    GROUP BY
      cohort_start,
      breakdown,
      __n
  ) AS t
  GROUP BY
    cohort_start,
    breakdown,
    period
  UNION ALL
  SELECT
    'daily_openers' AS cohort,
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
      FROM __cohort2_users
      GROUP BY
        cohort_start,
        breakdown
    ) AS s
    CROSS JOIN __cohort_grid AS g
    WHERE
      g.__n <= 7
      AND g.__n <= CAST(DATEDIFF(DAY, s.cohort_start, CAST('2026-11-22' AS DATE)) AS BIGINT)
    UNION ALL
    SELECT
      cohort_start,
      breakdown,
      __n AS period,
      0 AS cohort_size,
      COUNT(*) AS returned
    FROM __cohort2_returns
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
