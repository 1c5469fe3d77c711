WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_searched')
        AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP)
        AND e.__utc_time < CAST('2026-11-14 15:00:00.000000' AS TIMESTAMP)
        AND COALESCE(
          REGEXP_INSTR(
            CASE
              WHEN JSON_TYPEOF(e.properties."query") = 'string'
              THEN CASE
                WHEN IS_VARCHAR(e.properties."query")
                THEN CAST(e.properties."query" AS VARCHAR)
                ELSE JSON_SERIALIZE(e.properties."query")
              END
            END,
            'sneaker',
            1,
            1,
            0,
            'ip'
          ) > 0,
          FALSE
        )
        AND COALESCE(
          CASE
            WHEN JSON_TYPEOF(e.properties."filters"."size") = 'number'
            THEN CAST(CASE
              WHEN IS_VARCHAR(e.properties."filters"."size")
              THEN CAST(e.properties."filters"."size" AS VARCHAR)
              ELSE JSON_SERIALIZE(e.properties."filters"."size")
            END AS DOUBLE PRECISION)
          END BETWEEN 250 AND 280,
          FALSE
        )
        AND COALESCE(
          ARRAY_CONTAINS(
            CASE WHEN JSON_TYPEOF(e.properties."tags") = 'array' THEN e.properties."tags" END,
            'sale',
            TRUE
          ),
          FALSE
        )
        AND COALESCE(CAST(e.platform AS VARCHAR) IN ('ios', 'android'), FALSE)
        AND COALESCE(
          CASE
            WHEN JSON_TYPEOF(e.properties."product_id") = 'string'
            THEN CASE
              WHEN IS_VARCHAR(e.properties."product_id")
              THEN CAST(e.properties."product_id" AS VARCHAR)
              ELSE JSON_SERIALIZE(e.properties."product_id")
            END
          END IN (
            SELECT
              CAST(c.product_id AS VARCHAR)
            FROM main.products AS c
            WHERE
              COALESCE(CAST(c.category AS VARCHAR) = 'shoes', FALSE)
              AND COALESCE(CAST(c.list_price AS DOUBLE PRECISION) >= 80, FALSE)
          ),
          FALSE
        )
        THEN 1
      END
    ) AS m0
  FROM (
    SELECT
      *,
      CAST(occurred_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND CAST(e.event_name AS VARCHAR) IN ('product_searched')
    AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP)
  GROUP BY
    CAST(e.external_id AS VARCHAR)
), __universe AS (
  SELECT
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS VARCHAR) <> ''
  UNION
  SELECT
    external_user_id
  FROM __scan_events
  UNION
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(occurred_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND NOT COALESCE(
      CAST(e.event_name AS VARCHAR) IN ('product_searched')
      AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP),
      FALSE
    )
  UNION
  SELECT
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST('1970-01-01 00:00:00.000000' AS TIMESTAMP) + purchased_ms * INTERVAL '1 MILLISECOND' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __scan_events
  ON __scan_events.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_events.m0, 0) >= 1, FALSE)
