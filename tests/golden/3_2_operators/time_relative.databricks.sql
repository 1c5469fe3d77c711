WITH __universe AS (
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS STRING) <> ''
  UNION
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.events
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(CAST(occurred_at AS TIMESTAMP) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
WHERE
  COALESCE(
    CAST(CAST(u.signup_at AS TIMESTAMP) AS TIMESTAMP) > CAST('2026-10-23 12:00:00.000000' AS TIMESTAMP)
    AND CAST(CAST(u.signup_at AS TIMESTAMP) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP),
    FALSE
  )
  AND COALESCE(
    CAST(TIMESTAMP_MILLIS(CAST(u.last_seen_ms AS BIGINT)) AS TIMESTAMP) < CAST('2026-11-15 12:00:00.000000' AS TIMESTAMP),
    FALSE
  )
