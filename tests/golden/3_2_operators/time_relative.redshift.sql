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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    CAST(u.signup_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' > CAST('2026-10-23 12:00:00.000000' AS TIMESTAMP)
    AND CAST(u.signup_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP),
    FALSE
  )
  AND COALESCE(
    CAST('1970-01-01 00:00:00.000000' AS TIMESTAMP) + u.last_seen_ms * INTERVAL '1 MILLISECOND' < CAST('2026-11-15 12:00:00.000000' AS TIMESTAMP),
    FALSE
  )
