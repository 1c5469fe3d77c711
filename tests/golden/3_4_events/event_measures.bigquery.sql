WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id,
    SUM(
      CAST(CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
        THEN IF(
          JSON_TYPE(
            JSON_QUERY(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."price"'
            )
          ) = 'number',
          CAST(ROUND(
            CAST(JSON_VALUE(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."price"'
            ) AS BIGNUMERIC),
            6
          ) AS NUMERIC),
          NULL
        )
      END AS NUMERIC)
    ) AS m0,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
        THEN IF(
          JSON_TYPE(
            JSON_QUERY(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."price"'
            )
          ) = 'number',
          CAST(ROUND(
            CAST(JSON_VALUE(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."price"'
            ) AS BIGNUMERIC),
            6
          ) AS NUMERIC),
          NULL
        )
      END
    ) AS m1,
    MIN(
      CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
        THEN IF(
          JSON_TYPE(
            JSON_QUERY(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."price"'
            )
          ) = 'number',
          CAST(JSON_VALUE(
            IF(
              JSON_TYPE(TO_JSON(e.properties)) = 'string',
              PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
              TO_JSON(e.properties)
            ),
            '$."price"'
          ) AS FLOAT64),
          NULL
        )
      END
    ) AS m2,
    MAX(
      CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
        THEN IF(
          JSON_TYPE(
            JSON_QUERY(
              IF(
                JSON_TYPE(TO_JSON(e.properties)) = 'string',
                PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                TO_JSON(e.properties)
              ),
              '$."price"'
            )
          ) = 'number',
          CAST(JSON_VALUE(
            IF(
              JSON_TYPE(TO_JSON(e.properties)) = 'string',
              PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
              TO_JSON(e.properties)
            ),
            '$."price"'
          ) AS FLOAT64),
          NULL
        )
      END
    ) AS m3,
    COUNT(
      DISTINCT CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
        THEN IF(
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
        )
      END
    ) AS m4,
    MIN(
      CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
        THEN e.__utc_time
      END
    ) AS m5,
    MAX(
      CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
        THEN e.__utc_time
      END
    ) AS m6
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
    AND CAST(e.event_name AS STRING) IN ('product_viewed')
    AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME)
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
      CAST(e.event_name AS STRING) IN ('product_viewed')
      AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS DATETIME),
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
  COALESCE(COALESCE(__scan_events.m0, 0) >= CAST('100' AS BIGNUMERIC), FALSE)
  AND COALESCE(__scan_events.m0 < CAST('50' AS BIGNUMERIC) * __scan_events.m1, FALSE)
  AND COALESCE(__scan_events.m2 > 1, FALSE)
  AND NOT (
    COALESCE(__scan_events.m3 = 3, FALSE)
  )
  AND COALESCE(COALESCE(__scan_events.m4, 0) >= 3, FALSE)
  AND COALESCE(__scan_events.m5 < CAST('2026-10-23 12:00:00.000000' AS DATETIME), FALSE)
  AND COALESCE(
    __scan_events.m6 > CAST('2026-11-15 12:00:00.000000' AS DATETIME)
    AND __scan_events.m6 <= CAST('2026-11-22 12:00:00.000000' AS DATETIME),
    FALSE
  )
