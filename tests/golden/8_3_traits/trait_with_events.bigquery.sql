WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id,
    MAX(CASE WHEN CAST(e.event_name AS STRING) IN ('app_open') THEN e.__utc_time END) AS m0
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMP) AS DATETIME) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND CAST(e.event_name AS STRING) IN ('app_open')
    AND e.__utc_time >= CAST('2026-11-14 15:00:00.000000' AS DATETIME)
  GROUP BY
    CAST(e.external_id AS STRING)
), __universe AS (
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS STRING) <> ''
  UNION DISTINCT
  SELECT
    external_user_id
  FROM __scan_events
  UNION DISTINCT
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMP) AS DATETIME) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND NOT COALESCE(
      CAST(e.event_name AS STRING) IN ('app_open')
      AND e.__utc_time >= CAST('2026-11-14 15:00:00.000000' AS DATETIME),
      FALSE
    )
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
LEFT JOIN __scan_events
  ON __scan_events.external_user_id = v.external_user_id
LEFT JOIN ml.churn_scores AS __trait_churn
  ON CAST(__trait_churn.user_id AS STRING) = v.external_user_id
WHERE
  COALESCE(
    'discount' IN UNNEST(JSON_VALUE_ARRAY(
      IF(
        JSON_TYPE(
          IF(
            JSON_TYPE(TO_JSON(__trait_churn.flags)) = 'string',
            PARSE_JSON(STRING(TO_JSON(__trait_churn.flags)), wide_number_mode => 'round'),
            TO_JSON(__trait_churn.flags)
          )
        ) = 'array',
        IF(
          JSON_TYPE(TO_JSON(__trait_churn.flags)) = 'string',
          PARSE_JSON(STRING(TO_JSON(__trait_churn.flags)), wide_number_mode => 'round'),
          TO_JSON(__trait_churn.flags)
        ),
        NULL
      )
    )),
    FALSE
  )
  AND COALESCE(__scan_events.m0 >= CAST('2026-11-14 15:00:00.000000' AS DATETIME), FALSE)
