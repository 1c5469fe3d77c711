WITH __scan_purchases AS (
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id,
    SUM(
      CAST(CASE
        WHEN e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS DATETIME)
        THEN CAST(ROUND(CAST(CAST(e.price AS BIGNUMERIC) * COALESCE(e.quantity, 1) AS BIGNUMERIC), 6) AS NUMERIC)
      END AS NUMERIC)
    ) AS m0
  FROM (
    SELECT
      *,
      CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS DATETIME)
  GROUP BY
    CAST(e.external_id AS STRING)
), __universe AS (
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
    external_user_id
  FROM __scan_purchases
  UNION DISTINCT
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND NOT COALESCE(e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS DATETIME), FALSE)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
LEFT JOIN __scan_purchases
  ON __scan_purchases.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_purchases.m0, 0) >= CAST('300' AS BIGNUMERIC), FALSE)
