WITH __cohort_rows AS (
  SELECT
    CAST(e.external_id AS STRING) AS __uid,
    e.__utc_time AS __t,
    FALSE AS __c0_e,
    COALESCE(
      CAST(e.event_name AS STRING) IN ('app_open')
      AND COALESCE(
        IF(
          JSON_TYPE(
            JSON_QUERY(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."platform"'
            )
          ) = 'string',
          JSON_VALUE(
            IF(
              JSON_TYPE(TO_JSON(e.properties)) = 'string',
              PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
              TO_JSON(e.properties)
            ),
            '$."platform"'
          ),
          NULL
        ) = 'ios',
        FALSE
      ),
      FALSE
    ) AS __c0_r
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMP) AS DATETIME) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND CAST(e.event_name AS STRING) IN ('app_open')
), __cohort_grid AS (
  SELECT
    __n
  FROM UNNEST([
    STRUCT(0 AS __n),
    STRUCT(1 AS __n),
    STRUCT(2 AS __n),
    STRUCT(3 AS __n),
    STRUCT(4 AS __n),
    STRUCT(5 AS __n),
    STRUCT(6 AS __n),
    STRUCT(7 AS __n),
    STRUCT(8 AS __n)
  ]) AS g
), __cohort0_users AS (
  SELECT
    CAST(u.external_id AS STRING) AS __uid,
    CAST(TIMESTAMP_MILLIS(CAST(u.signup_ms AS INT64)) AS DATETIME) AS __entry,
    CAST(TIMESTAMP_TRUNC(
      TIMESTAMP(
        DATETIME(
          TIMESTAMP(
            DATETIME(
              CAST(CAST(TIMESTAMP_MILLIS(CAST(u.signup_ms AS INT64)) AS DATETIME) AS DATETIME),
              'UTC'
            )
          ),
          'Asia/Seoul'
        )
      ),
      ISOWEEK
    ) AS DATE) AS cohort_start,
    CAST(NULL AS STRING) AS breakdown
  FROM main.users AS u
  WHERE
    (
      CAST(u.external_id AS STRING) <> ''
      AND CAST(TIMESTAMP_MILLIS(CAST(u.signup_ms AS INT64)) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND CAST(u.external_id AS STRING) IN (
      WITH __universe AS (
        SELECT
          CAST(external_id AS STRING) AS external_user_id
        FROM main.users
        WHERE
          CAST(external_id AS STRING) <> ''
        UNION DISTINCT
        SELECT
          CAST(external_id AS STRING) AS external_user_id
        FROM main.events
        WHERE
          CAST(external_id AS STRING) <> ''
          AND CAST(CAST(occurred_at AS TIMESTAMP) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
        UNION DISTINCT
        SELECT
          CAST(external_id AS STRING) AS external_user_id
        FROM main.purchases
        WHERE
          CAST(external_id AS STRING) <> ''
          AND CAST(CAST(purchased_at AS TIMESTAMP) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
      )
      SELECT
        v.external_user_id
      FROM __universe AS v
      LEFT JOIN main.users AS u
        ON CAST(u.external_id AS STRING) = v.external_user_id
      WHERE
        COALESCE(CAST(u.country AS STRING) = 'KR', FALSE)
    )
), __cohort0_returns AS (
  SELECT DISTINCT
    r.__uid,
    c.cohort_start,
    c.breakdown,
    CAST(DATE_DIFF(
      CAST(TIMESTAMP_TRUNC(
        TIMESTAMP(DATETIME(TIMESTAMP(DATETIME(CAST(r.__t AS DATETIME), 'UTC')), 'Asia/Seoul')),
        ISOWEEK
      ) AS DATE),
      c.cohort_start,
      DAY
    ) / 7 AS INT64) AS __n
  FROM __cohort_rows AS r
  JOIN __cohort0_users AS c
    ON r.__uid = c.__uid
  WHERE
    r.__c0_r
    AND r.__t > c.__entry
    AND CAST(DATE_DIFF(
      CAST(TIMESTAMP_TRUNC(
        TIMESTAMP(DATETIME(TIMESTAMP(DATETIME(CAST(r.__t AS DATETIME), 'UTC')), 'Asia/Seoul')),
        ISOWEEK
      ) AS DATE),
      c.cohort_start,
      DAY
    ) / 7 AS INT64) <= 8
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
    CAST(period AS INT64) AS period,
    CAST(SUM(cohort_size) AS INT64) AS cohort_size,
    CAST(SUM(returned) AS INT64) AS returned,
    CAST(SUM(returned) AS FLOAT64) / CAST(SUM(cohort_size) AS FLOAT64) AS retention
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
      AND g.__n <= CAST(DATE_DIFF(CAST('2026-11-16' AS DATE), s.cohort_start, DAY) / 7 AS INT64)
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
  cohort,
  cohort_start,
  breakdown NULLS LAST,
  period
