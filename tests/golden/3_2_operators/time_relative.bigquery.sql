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
  COALESCE(
    CAST(CAST(u.signup_at AS TIMESTAMP) AS DATETIME) > CAST('2026-10-23 12:00:00.000000' AS DATETIME)
    AND CAST(CAST(u.signup_at AS TIMESTAMP) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME),
    FALSE
  )
  AND COALESCE(
    CAST(TIMESTAMP_MILLIS(CAST(u.last_seen_ms AS INT64)) AS DATETIME) < CAST('2026-11-15 12:00:00.000000' AS DATETIME),
    FALSE
  )
