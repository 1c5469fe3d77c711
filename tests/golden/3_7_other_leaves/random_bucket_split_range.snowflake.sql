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
    AND CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
  UNION
  SELECT
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST(TO_TIMESTAMP(purchased_ms, 3) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    (
      (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 1, 1), '0123456789abcdef') - 1
      ) * 268435456 + (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 2, 1), '0123456789abcdef') - 1
      ) * 16777216 + (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 3, 1), '0123456789abcdef') - 1
      ) * 1048576 + (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 4, 1), '0123456789abcdef') - 1
      ) * 65536 + (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 5, 1), '0123456789abcdef') - 1
      ) * 4096 + (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 6, 1), '0123456789abcdef') - 1
      ) * 256 + (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 7, 1), '0123456789abcdef') - 1
      ) * 16 + (
        CHARINDEX(SUBSTRING(MD5('s1' || v.external_user_id), 8, 1), '0123456789abcdef') - 1
      )
    ) % 10000 BETWEEN 1000 AND 1999,
    FALSE
  )
