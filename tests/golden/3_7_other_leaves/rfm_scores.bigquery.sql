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
    AND CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
), __rfm_0 AS (
  SELECT
    external_user_id,
    FLOOR(
      (
        5 * COUNT(last_at) OVER (ORDER BY last_at RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) + COUNT(*) OVER () - 1
      ) / COUNT(*) OVER ()
    ) AS recency,
    FLOOR(
      (
        5 * COUNT(purchases) OVER (ORDER BY purchases RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) + COUNT(*) OVER () - 1
      ) / COUNT(*) OVER ()
    ) AS frequency,
    FLOOR(
      (
        5 * COUNT(revenue) OVER (ORDER BY revenue RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) + COUNT(*) OVER () - 1
      ) / COUNT(*) OVER ()
    ) AS monetary
  FROM (
    SELECT
      CAST(e.external_id AS STRING) AS external_user_id,
      MAX(e.__utc_time) AS last_at,
      COUNT(*) AS purchases,
      COALESCE(
        SUM(
          CAST(ROUND(CAST(CAST(e.price AS BIGNUMERIC) * COALESCE(e.quantity, 1) AS BIGNUMERIC), 6) AS NUMERIC)
        ),
        0
      ) AS revenue
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
      AND e.__utc_time >= CAST('2025-11-21 15:00:00.000000' AS DATETIME)
    GROUP BY
      CAST(e.external_id AS STRING)
  ) AS p
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
LEFT JOIN __rfm_0
  ON __rfm_0.external_user_id = v.external_user_id
WHERE
  NOT __rfm_0.external_user_id IS NULL
  AND COALESCE(__rfm_0.recency >= 4, FALSE)
  AND COALESCE(__rfm_0.frequency >= 4, FALSE)
  AND COALESCE(__rfm_0.monetary BETWEEN 3 AND 5, FALSE)
