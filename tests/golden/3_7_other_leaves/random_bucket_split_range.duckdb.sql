WITH __universe AS (
  SELECT
    CAST(external_id AS TEXT) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS TEXT) <> ''
  UNION
  SELECT
    CAST(external_id AS TEXT) AS external_user_id
  FROM main.events
  WHERE
    CAST(external_id AS TEXT) <> ''
    AND CAST(CAST(occurred_at AS TIMESTAMPTZ) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
  UNION
  SELECT
    CAST(external_id AS TEXT) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS TEXT) <> ''
    AND CAST(EPOCH_MS(purchased_ms) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS TEXT) = v.external_user_id
WHERE
  COALESCE(
    (
      (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 1, 1)) - 1
      ) * 268435456 + (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 2, 1)) - 1
      ) * 16777216 + (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 3, 1)) - 1
      ) * 1048576 + (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 4, 1)) - 1
      ) * 65536 + (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 5, 1)) - 1
      ) * 4096 + (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 6, 1)) - 1
      ) * 256 + (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 7, 1)) - 1
      ) * 16 + (
        STRPOS('0123456789abcdef', SUBSTRING(MD5('s1' || v.external_user_id), 8, 1)) - 1
      )
    ) % 10000 BETWEEN 1000 AND 1999,
    FALSE
  )
