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
  UNION
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS BIGINT)) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
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
