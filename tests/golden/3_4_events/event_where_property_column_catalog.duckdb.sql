WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS TEXT) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_searched')
        AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP)
        AND e.__utc_time < CAST('2026-11-14 15:00:00.000000' AS TIMESTAMP)
        AND COALESCE(
          REGEXP_MATCHES(
            CASE
              WHEN JSON_TYPE(e.properties, '$."query"') IN ('VARCHAR')
              THEN JSON_EXTRACT_STRING(e.properties, '$."query"')
            END,
            '(?i)sneaker'
          ),
          FALSE
        )
        AND COALESCE(
          TRY_CAST(JSON_VALUE(e.properties, '$."filters"."size"') AS DOUBLE) BETWEEN 250 AND 280,
          FALSE
        )
        AND COALESCE(
          LIST_CONTAINS(
            CAST(CASE
              WHEN JSON_TYPE(e.properties, '$."tags"') IN ('ARRAY')
              THEN JSON_EXTRACT(e.properties, '$."tags"')
            END AS TEXT[]),
            'sale'
          ),
          FALSE
        )
        AND COALESCE(CAST(e.platform AS TEXT) IN ('ios', 'android'), FALSE)
        AND COALESCE(
          CASE
            WHEN JSON_TYPE(e.properties, '$."product_id"') IN ('VARCHAR')
            THEN JSON_EXTRACT_STRING(e.properties, '$."product_id"')
          END IN (
            SELECT
              CAST(c.product_id AS TEXT)
            FROM main.products AS c
            WHERE
              COALESCE(CAST(c.category AS TEXT) = 'shoes', FALSE)
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
      CAST(CAST(occurred_at AS TIMESTAMPTZ) AS TIMESTAMP) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS TEXT) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND CAST(e.event_name AS TEXT) IN ('product_searched')
    AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP)
  GROUP BY
    CAST(e.external_id AS TEXT)
), __universe AS (
  SELECT
    CAST(external_id AS TEXT) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS TEXT) <> ''
  UNION
  SELECT
    external_user_id
  FROM __scan_events
  UNION
  SELECT
    CAST(e.external_id AS TEXT) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMPTZ) AS TIMESTAMP) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS TEXT) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND NOT COALESCE(
      CAST(e.event_name AS TEXT) IN ('product_searched')
      AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP),
      FALSE
    )
  UNION
  SELECT
    CAST(external_id AS TEXT) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS TEXT) <> ''
    AND CAST(EPOCH_MS(purchased_ms) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS TEXT) = v.external_user_id
LEFT JOIN __scan_events
  ON __scan_events.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_events.m0, 0) >= 1, FALSE)
