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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    CASE
      WHEN JSON_TYPEOF(u.profile."tier") = 'string'
      THEN CASE
        WHEN IS_VARCHAR(u.profile."tier")
        THEN CAST(u.profile."tier" AS VARCHAR)
        ELSE JSON_SERIALIZE(u.profile."tier")
      END
    END = 'gold',
    FALSE
  )
  AND COALESCE(
    CASE
      WHEN JSON_TYPEOF(u.profile."points") = 'number'
      THEN CAST(CASE
        WHEN IS_VARCHAR(u.profile."points")
        THEN CAST(u.profile."points" AS VARCHAR)
        ELSE JSON_SERIALIZE(u.profile."points")
      END AS DOUBLE PRECISION)
    END > 100,
    FALSE
  )
  AND COALESCE(
    NOT CASE
      WHEN JSON_TYPEOF(u.profile."address"."city") = 'string'
      THEN CASE
        WHEN IS_VARCHAR(u.profile."address"."city")
        THEN CAST(u.profile."address"."city" AS VARCHAR)
        ELSE JSON_SERIALIZE(u.profile."address"."city")
      END
    END IS NULL
    AND CASE
      WHEN JSON_TYPEOF(u.profile."address"."city") = 'string'
      THEN CASE
        WHEN IS_VARCHAR(u.profile."address"."city")
        THEN CAST(u.profile."address"."city" AS VARCHAR)
        ELSE JSON_SERIALIZE(u.profile."address"."city")
      END
    END <> '',
    FALSE
  )
