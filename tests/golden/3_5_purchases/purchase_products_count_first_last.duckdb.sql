WITH __scan_purchases AS (
  SELECT
    CAST(e.external_id AS TEXT) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.product_id AS TEXT) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT CASE
              WHEN JSON_TYPE(e.properties, '$."coupon"') IN ('VARCHAR')
              THEN JSON_EXTRACT_STRING(e.properties, '$."coupon"')
            END IS NULL
            AND CASE
              WHEN JSON_TYPE(e.properties, '$."coupon"') IN ('VARCHAR')
              THEN JSON_EXTRACT_STRING(e.properties, '$."coupon"')
            END <> '',
            FALSE
          )
        )
        THEN 1
      END
    ) AS m0,
    MIN(
      CASE
        WHEN CAST(e.product_id AS TEXT) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT CASE
              WHEN JSON_TYPE(e.properties, '$."coupon"') IN ('VARCHAR')
              THEN JSON_EXTRACT_STRING(e.properties, '$."coupon"')
            END IS NULL
            AND CASE
              WHEN JSON_TYPE(e.properties, '$."coupon"') IN ('VARCHAR')
              THEN JSON_EXTRACT_STRING(e.properties, '$."coupon"')
            END <> '',
            FALSE
          )
        )
        THEN e.__utc_time
      END
    ) AS m1,
    MAX(
      CASE
        WHEN CAST(e.product_id AS TEXT) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT CASE
              WHEN JSON_TYPE(e.properties, '$."coupon"') IN ('VARCHAR')
              THEN JSON_EXTRACT_STRING(e.properties, '$."coupon"')
            END IS NULL
            AND CASE
              WHEN JSON_TYPE(e.properties, '$."coupon"') IN ('VARCHAR')
              THEN JSON_EXTRACT_STRING(e.properties, '$."coupon"')
            END <> '',
            FALSE
          )
        )
        THEN e.__utc_time
      END
    ) AS m2
  FROM (
    SELECT
      *,
      CAST(EPOCH_MS(purchased_ms) AS TIMESTAMP) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS TEXT) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND CAST(e.product_id AS TEXT) IN ('p1', 'p2')
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
    CAST(external_id AS TEXT) AS external_user_id
  FROM main.events
  WHERE
    CAST(external_id AS TEXT) <> ''
    AND CAST(CAST(occurred_at AS TIMESTAMPTZ) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
  UNION
  SELECT
    external_user_id
  FROM __scan_purchases
  UNION
  SELECT
    CAST(e.external_id AS TEXT) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(EPOCH_MS(purchased_ms) AS TIMESTAMP) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS TEXT) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
    )
    AND NOT COALESCE(CAST(e.product_id AS TEXT) IN ('p1', 'p2'), FALSE)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS TEXT) = v.external_user_id
LEFT JOIN __scan_purchases
  ON __scan_purchases.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_purchases.m0, 0) >= 2, FALSE)
  AND COALESCE(__scan_purchases.m1 < CAST('2026-05-31 15:00:00.000000' AS TIMESTAMP), FALSE)
  AND COALESCE(__scan_purchases.m2 > CAST('2026-10-31 15:00:00.000000' AS TIMESTAMP), FALSE)
