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
  COALESCE(
    (
      (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 1 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      ) * 268435456 + (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 2 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      ) * 16777216 + (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 3 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      ) * 1048576 + (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 4 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      ) * 65536 + (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 5 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      ) * 4096 + (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 6 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      ) * 256 + (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 7 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      ) * 16 + (
        CAST(POSITION(SUBSTRING(MD5('s1' || v.external_user_id) FROM 8 FOR 1) IN '0123456789abcdef') AS BIGINT) - 1
      )
    ) % 10000 BETWEEN 1000 AND 1999,
    FALSE
  )
