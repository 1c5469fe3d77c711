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
    AND CAST(TIMESTAMP_MILLIS(purchased_ms) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
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
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 1, 1), '0123456789abcdef') - 1
      ) * 268435456 + (
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 2, 1), '0123456789abcdef') - 1
      ) * 16777216 + (
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 3, 1), '0123456789abcdef') - 1
      ) * 1048576 + (
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 4, 1), '0123456789abcdef') - 1
      ) * 65536 + (
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 5, 1), '0123456789abcdef') - 1
      ) * 4096 + (
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 6, 1), '0123456789abcdef') - 1
      ) * 256 + (
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 7, 1), '0123456789abcdef') - 1
      ) * 16 + (
        LOCATE(SUBSTRING(MD5('s1' || v.external_user_id), 8, 1), '0123456789abcdef') - 1
      )
    ) % 10000 BETWEEN 1000 AND 1999,
    FALSE
  )
