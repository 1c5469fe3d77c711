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
    ARRAY_CONTAINS(
      CAST('sneakers' AS VARIANT),
      IFF(
        IS_ARRAY(TRY_PARSE_JSON(TO_VARCHAR(u.interests))),
        TRY_PARSE_JSON(TO_VARCHAR(u.interests)),
        NULL
      )
    ),
    FALSE
  )
  AND COALESCE(
    ARRAYS_OVERLAP(
      IFF(
        IS_ARRAY(TRY_PARSE_JSON(TO_VARCHAR(u.interests))),
        TRY_PARSE_JSON(TO_VARCHAR(u.interests)),
        NULL
      ),
      ARRAY_CONSTRUCT('running', 'outdoor')
    ),
    FALSE
  )
  AND COALESCE(
    ARRAY_CONTAINS(
      CAST('tech' AS VARIANT),
      IFF(
        IS_ARRAY(TRY_PARSE_JSON(TO_VARCHAR(u.interests))),
        TRY_PARSE_JSON(TO_VARCHAR(u.interests)),
        NULL
      )
    )
    AND ARRAY_CONTAINS(
      CAST('home' AS VARIANT),
      IFF(
        IS_ARRAY(TRY_PARSE_JSON(TO_VARCHAR(u.interests))),
        TRY_PARSE_JSON(TO_VARCHAR(u.interests)),
        NULL
      )
    ),
    FALSE
  )
  AND NOT (
    COALESCE(
      ARRAY_CONTAINS(
        CAST('beauty' AS VARIANT),
        IFF(
          IS_ARRAY(TRY_PARSE_JSON(TO_VARCHAR(u.interests))),
          TRY_PARSE_JSON(TO_VARCHAR(u.interests)),
          NULL
        )
      ),
      FALSE
    )
  )
