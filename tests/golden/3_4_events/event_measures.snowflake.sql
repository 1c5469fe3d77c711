WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    SUM(
      CAST(CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
          CAST(ROUND(
            CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]') AS DECIMAL(38, 12)),
            6
          ) AS DECIMAL(38, 6)),
          NULL
        )
      END AS DECIMAL(38, 6))
    ) AS m0,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
          CAST(ROUND(
            CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]') AS DECIMAL(38, 12)),
            6
          ) AS DECIMAL(38, 6)),
          NULL
        )
      END
    ) AS m1,
    MIN(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
          CAST(CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]') AS VARCHAR) AS DOUBLE),
          NULL
        )
      END
    ) AS m2,
    MAX(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
          CAST(CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["price"]') AS VARCHAR) AS DOUBLE),
          NULL
        )
      END
    ) AS m3,
    COUNT(
      DISTINCT CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["product_id"]')), 1, 1) IN ('"'),
          CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["product_id"]') AS VARCHAR),
          NULL
        )
      END
    ) AS m4,
    MIN(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN e.__utc_time
      END
    ) AS m5,
    MAX(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN e.__utc_time
      END
    ) AS m6
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND CAST(e.event_name AS VARCHAR) IN ('product_viewed')
    AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ)
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
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND NOT COALESCE(
      CAST(e.event_name AS VARCHAR) IN ('product_viewed')
      AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMPNTZ),
      FALSE
    )
  UNION
  SELECT
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST(TO_TIMESTAMP(purchased_ms, 3) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __scan_events
  ON __scan_events.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_events.m0, 0) >= 100, FALSE)
  AND COALESCE(__scan_events.m0 < 50 * __scan_events.m1, FALSE)
  AND COALESCE(__scan_events.m2 > 1, FALSE)
  AND NOT (
    COALESCE(__scan_events.m3 = 3, FALSE)
  )
  AND COALESCE(COALESCE(__scan_events.m4, 0) >= 3, FALSE)
  AND COALESCE(__scan_events.m5 < CAST('2026-10-23 12:00:00.000000' AS TIMESTAMPNTZ), FALSE)
  AND COALESCE(
    __scan_events.m6 > CAST('2026-11-15 12:00:00.000000' AS TIMESTAMPNTZ)
    AND __scan_events.m6 <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ),
    FALSE
  )
