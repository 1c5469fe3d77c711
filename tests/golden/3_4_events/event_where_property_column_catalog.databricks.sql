WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS STRING) IN ('product_searched')
        AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP)
        AND e.__utc_time < CAST('2026-11-14 15:00:00.000000' AS TIMESTAMP)
        AND COALESCE(
          REGEXP_LIKE(
            IF(
              SCHEMA_OF_VARIANT(
                TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["query"]', 'VARIANT')
              ) = 'STRING',
              TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["query"]', 'STRING')
            ),
            '(?i)sneaker'
          ),
          FALSE
        )
        AND COALESCE(
          IF(
            REGEXP_LIKE(
              SCHEMA_OF_VARIANT(
                TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["filters"]["size"]', 'VARIANT')
              ),
              '^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL)'
            ),
            CAST(TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["filters"]["size"]', 'STRING') AS DOUBLE)
          ) BETWEEN 250 AND 280,
          FALSE
        )
        AND COALESCE(
          ARRAY_CONTAINS(
            TRY_VARIANT_GET(
              IF(
                STARTSWITH(
                  SCHEMA_OF_VARIANT(
                    TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["tags"]', 'VARIANT')
                  ),
                  'ARRAY'
                ),
                TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["tags"]', 'VARIANT')
              ),
              '$',
              'ARRAY<STRING>'
            ),
            'sale'
          ),
          FALSE
        )
        AND COALESCE(CAST(e.platform AS STRING) IN ('ios', 'android'), FALSE)
        AND COALESCE(
          IF(
            SCHEMA_OF_VARIANT(
              TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["product_id"]', 'VARIANT')
            ) = 'STRING',
            TRY_VARIANT_GET(PARSE_JSON(CAST(e.properties AS STRING)), '$["product_id"]', 'STRING')
          ) IN (
            SELECT
              CAST(c.product_id AS STRING)
            FROM main.products AS c
            WHERE
              COALESCE(CAST(c.category AS STRING) = 'shoes', FALSE)
              AND COALESCE(CAST(c.list_price AS DOUBLE) >= 80, FALSE)
          ),
          FALSE
        )
        THEN 1
      END
    ) AS m0
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMP) AS TIMESTAMP) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND CAST(e.event_name AS STRING) IN ('product_searched')
    AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP)
  GROUP BY
    CAST(e.external_id AS STRING)
), __universe AS (
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS STRING) <> ''
  UNION
  SELECT
    external_user_id
  FROM __scan_events
  UNION
  SELECT
    CAST(e.external_id AS STRING) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMP) AS TIMESTAMP) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS STRING) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND NOT COALESCE(
      CAST(e.event_name AS STRING) IN ('product_searched')
      AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP),
      FALSE
    )
  UNION
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS BIGINT)) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
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
