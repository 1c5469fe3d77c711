WITH __seq_rows_0 AS (
  SELECT
    *,
    CAST(e.external_id AS STRING) AS __uid,
    e.__utc_time AS __t,
    ROW_NUMBER() OVER (
      ORDER BY CAST(e.external_id AS STRING) NULLS LAST, e.__utc_time NULLS LAST, CAST(e.event_name AS STRING) NULLS LAST, CAST(e.properties AS STRING) NULLS LAST
    ) AS __rid
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMP) AS DATETIME) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    CAST(e.external_id AS STRING) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
), __seq_purchase_rows_1 AS (
  SELECT
    *,
    CAST(e.external_id AS STRING) AS __uid,
    e.__utc_time AS __t,
    ROW_NUMBER() OVER (
      ORDER BY CAST(e.external_id AS STRING) NULLS LAST, e.__utc_time NULLS LAST, CAST(e.product_id AS STRING) NULLS LAST, CAST(e.properties AS STRING) NULLS LAST
    ) AS __rid
  FROM (
    SELECT
      *,
      CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    CAST(e.external_id AS STRING) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
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
    CAST(external_id AS STRING) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(TIMESTAMP_MILLIS(CAST(purchased_ms AS INT64)) AS DATETIME) <= CAST('2026-11-22 12:00:00.000000' AS DATETIME)
), __seq_2 AS (
  SELECT DISTINCT
    s0.__uid AS external_user_id
  FROM (
    SELECT
      __uid,
      __t,
      __rid
    FROM __seq_rows_0 AS e
    WHERE
      CAST(e.event_name AS STRING) IN ('add_to_cart')
  ) AS s0
  JOIN (
    SELECT
      __uid,
      __t,
      __rid
    FROM __seq_purchase_rows_1 AS e
    WHERE
      CAST(e.product_id AS STRING) IN ('p1', 'p2')
  ) AS s1
    ON s1.__uid = s0.__uid
    AND s1.__t >= s0.__t
    AND s1.__t <= s0.__t + INTERVAL '172800' SECOND
  WHERE
    s0.__t >= CAST('2026-11-18 15:00:00.000000' AS DATETIME)
    AND NOT EXISTS(
      SELECT
        1
      FROM (
        SELECT
          __uid,
          __t,
          __rid
        FROM __seq_purchase_rows_1 AS e
        WHERE
          TRUE
      ) AS x
      WHERE
        x.__uid = s0.__uid AND x.__t > s1.__t
    )
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
LEFT JOIN __seq_2
  ON __seq_2.external_user_id = v.external_user_id
WHERE
  NOT __seq_2.external_user_id IS NULL
