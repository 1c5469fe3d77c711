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
    AND CAST(CAST(occurred_at AS TIMESTAMPTZ) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
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
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 1 FOR 1) IN '0123456789abcdef') - 1
      ) * 268435456 + (
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 2 FOR 1) IN '0123456789abcdef') - 1
      ) * 16777216 + (
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 3 FOR 1) IN '0123456789abcdef') - 1
      ) * 1048576 + (
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 4 FOR 1) IN '0123456789abcdef') - 1
      ) * 65536 + (
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 5 FOR 1) IN '0123456789abcdef') - 1
      ) * 4096 + (
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 6 FOR 1) IN '0123456789abcdef') - 1
      ) * 256 + (
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 7 FOR 1) IN '0123456789abcdef') - 1
      ) * 16 + (
        POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 8 FOR 1) IN '0123456789abcdef') - 1
      )
    ) % 10000 < 1000,
    FALSE
  )
