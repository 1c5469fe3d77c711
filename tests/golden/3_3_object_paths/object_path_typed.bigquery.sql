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
    IF(
      JSON_TYPE(
        JSON_QUERY(
          IF(
            JSON_TYPE(TO_JSON(u.profile)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
            TO_JSON(u.profile)
          ),
          '$."tier"'
        )
      ) = 'string',
      JSON_VALUE(
        IF(
          JSON_TYPE(TO_JSON(u.profile)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
          TO_JSON(u.profile)
        ),
        '$."tier"'
      ),
      NULL
    ) = 'gold',
    FALSE
  )
  AND COALESCE(
    IF(
      JSON_TYPE(
        JSON_QUERY(
          IF(
            JSON_TYPE(TO_JSON(u.profile)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
            TO_JSON(u.profile)
          ),
          '$."points"'
        )
      ) = 'number',
      CAST(JSON_VALUE(
        IF(
          JSON_TYPE(TO_JSON(u.profile)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
          TO_JSON(u.profile)
        ),
        '$."points"'
      ) AS FLOAT64),
      NULL
    ) > 100,
    FALSE
  )
  AND COALESCE(
    NOT IF(
      JSON_TYPE(
        JSON_QUERY(
          IF(
            JSON_TYPE(TO_JSON(u.profile)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
            TO_JSON(u.profile)
          ),
          '$."address"."city"'
        )
      ) = 'string',
      JSON_VALUE(
        IF(
          JSON_TYPE(TO_JSON(u.profile)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
          TO_JSON(u.profile)
        ),
        '$."address"."city"'
      ),
      NULL
    ) IS NULL
    AND IF(
      JSON_TYPE(
        JSON_QUERY(
          IF(
            JSON_TYPE(TO_JSON(u.profile)) = 'string',
            PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
            TO_JSON(u.profile)
          ),
          '$."address"."city"'
        )
      ) = 'string',
      JSON_VALUE(
        IF(
          JSON_TYPE(TO_JSON(u.profile)) = 'string',
          PARSE_JSON(STRING(TO_JSON(u.profile)), wide_number_mode => 'round'),
          TO_JSON(u.profile)
        ),
        '$."address"."city"'
      ),
      NULL
    ) <> '',
    FALSE
  )
