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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
WHERE
  COALESCE(
    'sneakers' IN UNNEST(JSON_VALUE_ARRAY(
      IF(
        JSON_TYPE(
          IF(
            JSON_TYPE(TO_JSON(u.interests)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
            TO_JSON(u.interests)
          )
        ) = 'array',
        IF(
          JSON_TYPE(TO_JSON(u.interests)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
          TO_JSON(u.interests)
        ),
        NULL
      )
    )),
    FALSE
  )
  AND COALESCE(
    'running' IN UNNEST(JSON_VALUE_ARRAY(
      IF(
        JSON_TYPE(
          IF(
            JSON_TYPE(TO_JSON(u.interests)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
            TO_JSON(u.interests)
          )
        ) = 'array',
        IF(
          JSON_TYPE(TO_JSON(u.interests)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
          TO_JSON(u.interests)
        ),
        NULL
      )
    ))
    OR 'outdoor' IN UNNEST(JSON_VALUE_ARRAY(
      IF(
        JSON_TYPE(
          IF(
            JSON_TYPE(TO_JSON(u.interests)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
            TO_JSON(u.interests)
          )
        ) = 'array',
        IF(
          JSON_TYPE(TO_JSON(u.interests)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
          TO_JSON(u.interests)
        ),
        NULL
      )
    )),
    FALSE
  )
  AND COALESCE(
    'tech' IN UNNEST(JSON_VALUE_ARRAY(
      IF(
        JSON_TYPE(
          IF(
            JSON_TYPE(TO_JSON(u.interests)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
            TO_JSON(u.interests)
          )
        ) = 'array',
        IF(
          JSON_TYPE(TO_JSON(u.interests)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
          TO_JSON(u.interests)
        ),
        NULL
      )
    ))
    AND 'home' IN UNNEST(JSON_VALUE_ARRAY(
      IF(
        JSON_TYPE(
          IF(
            JSON_TYPE(TO_JSON(u.interests)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
            TO_JSON(u.interests)
          )
        ) = 'array',
        IF(
          JSON_TYPE(TO_JSON(u.interests)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
          TO_JSON(u.interests)
        ),
        NULL
      )
    )),
    FALSE
  )
  AND NOT (
    COALESCE(
      'beauty' IN UNNEST(JSON_VALUE_ARRAY(
        IF(
          JSON_TYPE(
            IF(
              JSON_TYPE(TO_JSON(u.interests)) = 'string',
              PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
              TO_JSON(u.interests)
            )
          ) = 'array',
          IF(
            JSON_TYPE(TO_JSON(u.interests)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.interests)), wide_number_mode => 'round'),
            TO_JSON(u.interests)
          ),
          NULL
        )
      )),
      FALSE
    )
  )
