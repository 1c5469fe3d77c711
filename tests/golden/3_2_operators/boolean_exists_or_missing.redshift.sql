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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  (
    NOT (
      NOT CAST(u.is_vip AS BOOLEAN) IS NULL
    )
    OR (
      COALESCE(CAST(u.is_vip AS BOOLEAN) = FALSE, FALSE)
      OR NOT NOT CAST(u.is_vip AS BOOLEAN) IS NULL
    )
  )
