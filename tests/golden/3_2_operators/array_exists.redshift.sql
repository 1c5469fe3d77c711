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
    AND TO_TIMESTAMP(CAST(purchased_ms AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    JSONB_ARRAY_LENGTH(
      CASE
        WHEN JSONB_TYPEOF(CAST(u.interests AS JSONB)) = 'array'
        THEN CAST(u.interests AS JSONB)
      END
    ) > 0,
    FALSE
  )
