WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS TEXT) AS external_user_id,
    SUM(
      CAST(CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
        THEN TRY_CAST(JSON_VALUE(e.properties, '$."price"') AS DECIMAL(38, 6))
      END AS DECIMAL(38, 6))
    ) AS m0,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
        THEN TRY_CAST(JSON_VALUE(e.properties, '$."price"') AS DECIMAL(38, 6))
      END
    ) AS m1,
    MIN(
      CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
        THEN TRY_CAST(JSON_VALUE(e.properties, '$."price"') AS DOUBLE)
      END
    ) AS m2,
    MAX(
      CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
        THEN TRY_CAST(JSON_VALUE(e.properties, '$."price"') AS DOUBLE)
      END
    ) AS m3,
    COUNT(
      DISTINCT CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
        THEN CASE
          WHEN JSON_TYPE(e.properties, '$."product_id"') IN ('VARCHAR')
          THEN JSON_EXTRACT_STRING(e.properties, '$."product_id"')
        END
      END
    ) AS m4,
    MIN(
      CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
        THEN e.__utc_time
      END
    ) AS m5,
    MAX(
      CASE
        WHEN CAST(e.event_name AS TEXT) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
        THEN e.__utc_time
      END
    ) AS m6
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
    AND CAST(e.event_name AS TEXT) IN ('product_viewed')
    AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP)
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
      CAST(e.event_name AS TEXT) IN ('product_viewed')
      AND e.__utc_time >= CAST('2026-11-21 00:00:00.000000' AS TIMESTAMP),
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
  COALESCE(COALESCE(__scan_events.m0, 0) >= 100, FALSE)
  AND COALESCE(__scan_events.m0 < 50 * __scan_events.m1, FALSE)
  AND COALESCE(__scan_events.m2 > 1, FALSE)
  AND NOT (
    COALESCE(__scan_events.m3 = 3, FALSE)
  )
  AND COALESCE(COALESCE(__scan_events.m4, 0) >= 3, FALSE)
  AND COALESCE(__scan_events.m5 < CAST('2026-10-23 12:00:00.000000' AS TIMESTAMP), FALSE)
  AND COALESCE(
    __scan_events.m6 > CAST('2026-11-15 12:00:00.000000' AS TIMESTAMP)
    AND __scan_events.m6 <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP),
    FALSE
  )
