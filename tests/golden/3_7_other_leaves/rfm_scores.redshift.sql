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
    AND CAST(occurred_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
  UNION
  SELECT
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST('1970-01-01 00:00:00.000000' AS TIMESTAMP) + purchased_ms * INTERVAL '1 MILLISECOND' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
), __rfm_0 AS (
  SELECT
    external_user_id,
    FLOOR(
      CAST((
        5 * (
          COUNT(*) OVER () - RANK() OVER (ORDER BY last_at DESC NULLS LAST) + 1
        ) + COUNT(*) OVER () - 1
      ) AS DOUBLE PRECISION) / COUNT(*) OVER ()
    ) AS recency,
    FLOOR(
      CAST((
        5 * (
          COUNT(*) OVER () - RANK() OVER (ORDER BY purchases DESC NULLS LAST) + 1
        ) + COUNT(*) OVER () - 1
      ) AS DOUBLE PRECISION) / COUNT(*) OVER ()
    ) AS frequency,
    FLOOR(
      CAST((
        5 * (
          COUNT(*) OVER () - RANK() OVER (ORDER BY revenue DESC NULLS LAST) + 1
        ) + COUNT(*) OVER () - 1
      ) AS DOUBLE PRECISION) / COUNT(*) OVER ()
    ) AS monetary
  FROM (
    SELECT
      CAST(e.external_id AS VARCHAR) AS external_user_id,
      MAX(e.__utc_time) AS last_at,
      COUNT(*) AS purchases,
      COALESCE(
        SUM(
          CAST(ROUND(
            CAST(CAST(e.price AS DECIMAL(38, 12)) * COALESCE(e.quantity, 1) AS DECIMAL(38, 12)),
            6
          ) AS DECIMAL(38, 6))
        ),
        0
      ) AS revenue
    FROM (
      SELECT
        *,
        CAST('1970-01-01 00:00:00.000000' AS TIMESTAMP) + purchased_ms * INTERVAL '1 MILLISECOND' AS __utc_time
      FROM main.purchases
    ) AS e
    WHERE
      (
        CAST(e.external_id AS VARCHAR) <> ''
        AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
      )
      AND e.__utc_time >= CAST('2025-11-21 15:00:00.000000' AS TIMESTAMP)
    GROUP BY
      CAST(e.external_id AS VARCHAR)
  ) AS p
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __rfm_0
  ON __rfm_0.external_user_id = v.external_user_id
WHERE
  NOT __rfm_0.external_user_id IS NULL
  AND COALESCE(__rfm_0.recency >= 4, FALSE)
  AND COALESCE(__rfm_0.frequency >= 4, FALSE)
  AND COALESCE(__rfm_0.monetary BETWEEN 3 AND 5, FALSE)
