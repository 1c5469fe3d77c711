WITH __scan_purchases AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    SUM(
      CAST(CASE
        WHEN e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS TIMESTAMPNTZ)
        THEN CAST(ROUND(
          CAST(CAST(e.price AS DECIMAL(38, 12)) * COALESCE(e.quantity, 1) AS DECIMAL(38, 12)),
          6
        ) AS DECIMAL(38, 6))
      END AS DECIMAL(38, 6))
    ) AS m0
  FROM (
    SELECT
      *,
      CAST(TO_TIMESTAMP(purchased_ms, 3) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS TIMESTAMPNTZ)
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
    AND CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
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
      CAST(TO_TIMESTAMP(purchased_ms, 3) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND NOT COALESCE(e.__utc_time >= CAST('2026-10-22 15:00:00.000000' AS TIMESTAMPNTZ), FALSE)
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
