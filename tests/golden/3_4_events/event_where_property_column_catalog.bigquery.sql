WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_searched')
        AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS DATETIME)
        AND e.__utc_time < CAST('2026-11-14 15:00:00.000000' AS DATETIME)
        AND COALESCE(
          REGEXP_CONTAINS(
            IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."query"'
                )
              ) = 'string',
              JSON_VALUE(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."query"'
              ),
              NULL
            ),
            '(?i)sneaker'
          ),
          FALSE
        )
        AND COALESCE(
          IF(
            JSON_TYPE(
              JSON_QUERY(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."filters"."size"'
              )
            ) = 'number',
            CAST(JSON_VALUE(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."filters"."size"'
            ) AS FLOAT64),
            NULL
          ) BETWEEN 250 AND 280,
          FALSE
        )
        AND COALESCE(
          'sale' IN UNNEST(JSON_VALUE_ARRAY(
            IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."tags"'
                )
              ) = 'array',
              JSON_QUERY(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."tags"'
              ),
              NULL
            )
          )),
          FALSE
        )
        AND COALESCE(CAST(e.platform AS STRING) IN ('ios', 'android'), FALSE)
        AND COALESCE(
          IF(
            JSON_TYPE(
              JSON_QUERY(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."product_id"'
              )
            ) = 'string',
            JSON_VALUE(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."product_id"'
            ),
            NULL
          ) IN (
            SELECT
              CAST(c.product_id AS STRING)
            FROM main.products AS c
            WHERE
              COALESCE(CAST(c.category AS STRING) = 'shoes', FALSE)
              AND COALESCE(CAST(c.list_price AS FLOAT64) >= 80, FALSE)
          ),
          FALSE
        )
        THEN 1
      END
    ) AS m0
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
    AND CAST(e.event_name AS STRING) IN ('product_searched')
    AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS DATETIME)
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
      CAST(e.event_name AS STRING) IN ('product_searched')
      AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS DATETIME),
      FALSE
    )
  UNION DISTINCT
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
LEFT JOIN __scan_events
  ON __scan_events.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_events.m0, 0) >= 1, FALSE)
