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
    AND CAST(occurred_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  (
    COALESCE(LEFT(CAST(u.country AS VARCHAR), 1) = 'K', FALSE)
    OR COALESCE(RIGHT(CAST(u.country AS VARCHAR), 1) = 'P', FALSE)
    OR COALESCE(POSITION('S' IN CAST(u.country AS VARCHAR)) > 0, FALSE)
  )
