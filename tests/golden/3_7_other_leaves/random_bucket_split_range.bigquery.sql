WITH __universe AS (
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS STRING) <> ''
  UNION DISTINCT
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.events
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(CAST(occurred_at AS TIMESTAMP) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
  UNION DISTINCT
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
WHERE
  COALESCE(
    MOD(
      (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 1, 1)) - 1
      ) * 268435456 + (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 2, 1)) - 1
      ) * 16777216 + (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 3, 1)) - 1
      ) * 1048576 + (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 4, 1)) - 1
      ) * 65536 + (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 5, 1)) - 1
      ) * 4096 + (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 6, 1)) - 1
      ) * 256 + (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 7, 1)) - 1
      ) * 16 + (
        INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('s1' || v.external_user_id)), 8, 1)) - 1
      ),
      10000
    ) BETWEEN 1000 AND 1999,
    FALSE
  )
