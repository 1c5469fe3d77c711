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
    CASE
      WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST(u.profile AS JSONB), 'tier')) = 'string'
      THEN JSONB_EXTRACT_PATH_TEXT(CAST(u.profile AS JSONB), 'tier')
    END = 'gold',
    FALSE
  )
  AND COALESCE(
    CASE
      WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST(u.profile AS JSONB), 'points')) = 'number'
      THEN CAST(JSONB_EXTRACT_PATH_TEXT(CAST(u.profile AS JSONB), 'points') AS DOUBLE PRECISION)
    END > 100,
    FALSE
  )
  AND COALESCE(
    NOT CASE
      WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST(u.profile AS JSONB), 'address', 'city')) = 'string'
      THEN JSONB_EXTRACT_PATH_TEXT(CAST(u.profile AS JSONB), 'address', 'city')
    END IS NULL
    AND CASE
      WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST(u.profile AS JSONB), 'address', 'city')) = 'string'
      THEN JSONB_EXTRACT_PATH_TEXT(CAST(u.profile AS JSONB), 'address', 'city')
    END <> '',
    FALSE
  )
