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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
WHERE
  COALESCE(CAST(u.age AS FLOAT64) BETWEEN 18 AND 35, FALSE)
  AND NOT (
    COALESCE(CAST(u.age AS FLOAT64) IN (20, 21), FALSE)
  )
