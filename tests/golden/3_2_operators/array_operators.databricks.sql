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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
WHERE
  COALESCE(
    ARRAY_CONTAINS(
      TRY_VARIANT_GET(
        IF(
          STARTSWITH(SCHEMA_OF_VARIANT(PARSE_JSON(CAST(u.interests AS STRING))), 'ARRAY'),
          PARSE_JSON(CAST(u.interests AS STRING))
        ),
        '$',
        'ARRAY<STRING>'
      ),
      'sneakers'
    ),
    FALSE
  )
  AND COALESCE(
    ARRAYS_OVERLAP(
      TRY_VARIANT_GET(
        IF(
          STARTSWITH(SCHEMA_OF_VARIANT(PARSE_JSON(CAST(u.interests AS STRING))), 'ARRAY'),
          PARSE_JSON(CAST(u.interests AS STRING))
        ),
        '$',
        'ARRAY<STRING>'
      ),
      ARRAY('running', 'outdoor')
    ),
    FALSE
  )
  AND COALESCE(
    ARRAY_CONTAINS(
      TRY_VARIANT_GET(
        IF(
          STARTSWITH(SCHEMA_OF_VARIANT(PARSE_JSON(CAST(u.interests AS STRING))), 'ARRAY'),
          PARSE_JSON(CAST(u.interests AS STRING))
        ),
        '$',
        'ARRAY<STRING>'
      ),
      'tech'
    )
    AND ARRAY_CONTAINS(
      TRY_VARIANT_GET(
        IF(
          STARTSWITH(SCHEMA_OF_VARIANT(PARSE_JSON(CAST(u.interests AS STRING))), 'ARRAY'),
          PARSE_JSON(CAST(u.interests AS STRING))
        ),
        '$',
        'ARRAY<STRING>'
      ),
      'home'
    ),
    FALSE
  )
  AND NOT (
    COALESCE(
      ARRAY_CONTAINS(
        TRY_VARIANT_GET(
          IF(
            STARTSWITH(SCHEMA_OF_VARIANT(PARSE_JSON(CAST(u.interests AS STRING))), 'ARRAY'),
            PARSE_JSON(CAST(u.interests AS STRING))
          ),
          '$',
          'ARRAY<STRING>'
        ),
        'beauty'
      ),
      FALSE
    )
  )
