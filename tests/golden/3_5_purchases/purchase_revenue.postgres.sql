WITH __scan_purchases AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    SUM(
      CAST(CASE
        WHEN e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS TIMESTAMP)
        THEN CAST(CAST(e.price AS DECIMAL(38, 12)) * COALESCE(e.quantity, 1) AS DECIMAL(38, 6))
      END AS DECIMAL(38, 6))
    ) AS m0
  FROM (
    SELECT
      *,
      TO_TIMESTAMP(CAST(purchased_ms AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC' AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS TIMESTAMP)
  GROUP BY
    CAST(e.external_id AS VARCHAR)
), __universe AS (
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
    external_user_id
  FROM __scan_purchases
  UNION
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id
  FROM (
    SELECT
      *,
      TO_TIMESTAMP(CAST(purchased_ms AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC' AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND NOT COALESCE(e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS TIMESTAMP), FALSE)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __scan_purchases
  ON __scan_purchases.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_purchases.m0, 0) >= 300, FALSE)
