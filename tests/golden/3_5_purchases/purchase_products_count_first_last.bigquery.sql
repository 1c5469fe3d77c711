WITH __scan_purchases AS (
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.product_id AS STRING) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."coupon"'
                )
              ) = 'string',
              JSON_VALUE(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."coupon"'
              ),
              NULL
            ) IS NULL
            AND IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."coupon"'
                )
              ) = 'string',
              JSON_VALUE(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."coupon"'
              ),
              NULL
            ) <> '',
            FALSE
          )
        )
        THEN 1
      END
    ) AS m0,
    MIN(
      CASE
        WHEN CAST(e.product_id AS STRING) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."coupon"'
                )
              ) = 'string',
              JSON_VALUE(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."coupon"'
              ),
              NULL
            ) IS NULL
            AND IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."coupon"'
                )
              ) = 'string',
              JSON_VALUE(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."coupon"'
              ),
              NULL
            ) <> '',
            FALSE
          )
        )
        THEN e.__utc_time
      END
    ) AS m1,
    MAX(
      CASE
        WHEN CAST(e.product_id AS STRING) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."coupon"'
                )
              ) = 'string',
              JSON_VALUE(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."coupon"'
              ),
              NULL
            ) IS NULL
            AND IF(
              JSON_TYPE(
                JSON_QUERY(
                  IF(
                    JSON_TYPE(TO_JSON(e.properties)) = 'string',
                    PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                    TO_JSON(e.properties)
                  ),
                  '$."coupon"'
                )
              ) = 'string',
              JSON_VALUE(
                IF(
                  JSON_TYPE(TO_JSON(e.properties)) = 'string',
                  PARSE_JSON(STRING(TO_JSON(e.properties)), wide_number_mode => 'round'),
                  TO_JSON(e.properties)
                ),
                '$."coupon"'
              ),
              NULL
            ) <> '',
            FALSE
          )
        )
        THEN e.__utc_time
      END
    ) AS m2
  FROM (
    SELECT
      *,
      CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND CAST(e.product_id AS STRING) IN ('p1', 'p2')
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
    CAST(external_id AS STRING) AS external_user_id
  FROM main.events
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(CAST(occurred_at AS TIMESTAMP) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
  UNION DISTINCT
  SELECT
    external_user_id
  FROM __scan_purchases
  UNION DISTINCT
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
    )
    AND NOT COALESCE(CAST(e.product_id AS STRING) IN ('p1', 'p2'), FALSE)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
LEFT JOIN __scan_purchases
  ON __scan_purchases.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_purchases.m0, 0) >= 2, FALSE)
  AND COALESCE(__scan_purchases.m1 < CAST('2026-05-31 15:00:00.000000' AS DATETIME), FALSE)
  AND COALESCE(__scan_purchases.m2 > CAST('2026-10-31 15:00:00.000000' AS DATETIME), FALSE)
