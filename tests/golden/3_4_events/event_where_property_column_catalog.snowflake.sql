WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_searched')
        AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMPNTZ)
        AND e.__utc_time < CAST('2026-11-14 15:00:00.000000' AS TIMESTAMPNTZ)
        AND COALESCE(
          REGEXP_INSTR(
            IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["query"]')), 1, 1) IN ('"'),
              CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["query"]') AS VARCHAR),
              NULL
            ),
            'sneaker',
            1,
            1,
            0,
            'i'
          ) > 0,
          FALSE
        )
        AND COALESCE(
          IFF(
            SUBSTRING(
              TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["filters"]["size"]')),
              1,
              1
            ) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
            CAST(CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["filters"]["size"]') AS VARCHAR) AS DOUBLE),
            NULL
          ) BETWEEN 250 AND 280,
          FALSE
        )
        AND COALESCE(
          ARRAY_CONTAINS(
            CAST('sale' AS VARIANT),
            IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["tags"]')), 1, 1) IN ('['),
              GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["tags"]'),
              NULL
            )
          ),
          FALSE
        )
        AND COALESCE(CAST(e.platform AS VARCHAR) IN ('ios', 'android'), FALSE)
        AND COALESCE(
          IFF(
            SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["product_id"]')), 1, 1) IN ('"'),
            CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["product_id"]') AS VARCHAR),
            NULL
          ) IN (
            SELECT
              CAST(c.product_id AS VARCHAR)
            FROM main.products AS c
            WHERE
              COALESCE(CAST(c.category AS VARCHAR) = 'shoes', FALSE)
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
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND CAST(e.event_name AS VARCHAR) IN ('product_searched')
    AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMPNTZ)
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
      CAST(e.event_name AS VARCHAR) IN ('product_searched')
      AND e.__utc_time >= CAST('2026-10-31 15:00:00.000000' AS TIMESTAMPNTZ),
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
  COALESCE(COALESCE(__scan_events.m0, 0) >= 1, FALSE)
