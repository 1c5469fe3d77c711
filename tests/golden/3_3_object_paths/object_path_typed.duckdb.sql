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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS TEXT) = v.external_user_id
WHERE
  COALESCE(
    CASE
      WHEN JSON_TYPE(u.profile, '$."tier"') IN ('VARCHAR')
      THEN JSON_EXTRACT_STRING(u.profile, '$."tier"')
    END = 'gold',
    FALSE
  )
  AND COALESCE(TRY_CAST(JSON_VALUE(u.profile, '$."points"') AS DOUBLE) > 100, FALSE)
  AND COALESCE(
    NOT CASE
      WHEN JSON_TYPE(u.profile, '$."address"."city"') IN ('VARCHAR')
      THEN JSON_EXTRACT_STRING(u.profile, '$."address"."city"')
    END IS NULL
    AND CASE
      WHEN JSON_TYPE(u.profile, '$."address"."city"') IN ('VARCHAR')
      THEN JSON_EXTRACT_STRING(u.profile, '$."address"."city"')
    END <> '',
    FALSE
  )
