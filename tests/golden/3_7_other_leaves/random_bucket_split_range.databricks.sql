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
  COALESCE(
    (
      (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 1, 1), '0123456789abcdef') AS BIGINT) - 1
      ) * 268435456 + (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 2, 1), '0123456789abcdef') AS BIGINT) - 1
      ) * 16777216 + (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 3, 1), '0123456789abcdef') AS BIGINT) - 1
      ) * 1048576 + (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 4, 1), '0123456789abcdef') AS BIGINT) - 1
      ) * 65536 + (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 5, 1), '0123456789abcdef') AS BIGINT) - 1
      ) * 4096 + (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 6, 1), '0123456789abcdef') AS BIGINT) - 1
      ) * 256 + (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 7, 1), '0123456789abcdef') AS BIGINT) - 1
      ) * 16 + (
        CAST(LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 8, 1), '0123456789abcdef') AS BIGINT) - 1
      )
    ) % 10000 BETWEEN 1000 AND 1999,
    FALSE
  )
