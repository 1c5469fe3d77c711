WITH __scan_purchases AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.product_id AS VARCHAR) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]')), 1, 1) IN ('"'),
              CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]') AS VARCHAR),
              NULL
            ) IS NULL
            AND IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]')), 1, 1) IN ('"'),
              CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]') AS VARCHAR),
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
        WHEN CAST(e.product_id AS VARCHAR) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]')), 1, 1) IN ('"'),
              CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]') AS VARCHAR),
              NULL
            ) IS NULL
            AND IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]')), 1, 1) IN ('"'),
              CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]') AS VARCHAR),
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
        WHEN CAST(e.product_id AS VARCHAR) IN ('p1', 'p2')
        AND NOT (
          COALESCE(
            NOT IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]')), 1, 1) IN ('"'),
              CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]') AS VARCHAR),
              NULL
            ) IS NULL
            AND IFF(
              SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]')), 1, 1) IN ('"'),
              CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["coupon"]') AS VARCHAR),
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
      CAST(TO_TIMESTAMP(purchased_ms, 3) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND CAST(e.product_id AS VARCHAR) IN ('p1', 'p2')
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
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.events
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
  UNION
  SELECT
    external_user_id
  FROM __scan_purchases
  UNION
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(TO_TIMESTAMP(purchased_ms, 3) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND NOT COALESCE(CAST(e.product_id AS VARCHAR) IN ('p1', 'p2'), FALSE)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __scan_purchases
  ON __scan_purchases.external_user_id = v.external_user_id
WHERE
  COALESCE(COALESCE(__scan_purchases.m0, 0) >= 2, FALSE)
  AND COALESCE(__scan_purchases.m1 < CAST('2026-05-31 15:00:00.000000' AS TIMESTAMPNTZ), FALSE)
  AND COALESCE(__scan_purchases.m2 > CAST('2026-10-31 15:00:00.000000' AS TIMESTAMPNTZ), FALSE)
