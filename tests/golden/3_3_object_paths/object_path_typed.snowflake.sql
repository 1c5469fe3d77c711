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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    IFF(
      SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["tier"]')), 1, 1) IN ('"'),
      CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["tier"]') AS VARCHAR),
      NULL
    ) = 'gold',
    FALSE
  )
  AND COALESCE(
    IFF(
      SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["points"]')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
      CAST(CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["points"]') AS VARCHAR) AS DOUBLE),
      NULL
    ) > 100,
    FALSE
  )
  AND COALESCE(
    NOT IFF(
      SUBSTRING(
        TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["address"]["city"]')),
        1,
        1
      ) IN ('"'),
      CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["address"]["city"]') AS VARCHAR),
      NULL
    ) IS NULL
    AND IFF(
      SUBSTRING(
        TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["address"]["city"]')),
        1,
        1
      ) IN ('"'),
      CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(u.profile)), '["address"]["city"]') AS VARCHAR),
      NULL
    ) <> '',
    FALSE
  )
