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
    ARRAY_CONTAINS(CASE WHEN JSON_TYPEOF(u.interests) = 'array' THEN u.interests END, 'sneakers', TRUE),
    FALSE
  )
  AND COALESCE(
    ARRAY_CONTAINS(CASE WHEN JSON_TYPEOF(u.interests) = 'array' THEN u.interests END, 'running', TRUE)
    OR ARRAY_CONTAINS(CASE WHEN JSON_TYPEOF(u.interests) = 'array' THEN u.interests END, 'outdoor', TRUE),
    FALSE
  )
  AND COALESCE(
    ARRAY_CONTAINS(CASE WHEN JSON_TYPEOF(u.interests) = 'array' THEN u.interests END, 'tech', TRUE)
    AND ARRAY_CONTAINS(CASE WHEN JSON_TYPEOF(u.interests) = 'array' THEN u.interests END, 'home', TRUE),
    FALSE
  )
  AND NOT (
    COALESCE(
      ARRAY_CONTAINS(CASE WHEN JSON_TYPEOF(u.interests) = 'array' THEN u.interests END, 'beauty', TRUE),
      FALSE
    )
  )
