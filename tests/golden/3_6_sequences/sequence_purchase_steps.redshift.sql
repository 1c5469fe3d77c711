WITH __seq_rows_0 AS (
  SELECT
    *,
    CAST(e.external_id AS VARCHAR) AS __uid,
    e.__utc_time AS __t,
    ROW_NUMBER() OVER (
      ORDER BY CAST(e.external_id AS VARCHAR), e.__utc_time, CAST(e.event_name AS VARCHAR), CAST(e.properties AS VARCHAR)
    ) AS __rid
  FROM (
    SELECT
      *,
      CAST(occurred_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    CAST(e.external_id AS VARCHAR) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
), __seq_purchase_rows_1 AS (
  SELECT
    *,
    CAST(e.external_id AS VARCHAR) AS __uid,
    e.__utc_time AS __t,
    ROW_NUMBER() OVER (
      ORDER BY CAST(e.external_id AS VARCHAR), e.__utc_time, CAST(e.product_id AS VARCHAR), CAST(e.properties AS VARCHAR)
    ) AS __rid
  FROM (
    SELECT
      *,
      CAST('1970-01-01 00:00:00.000000' AS TIMESTAMP) + purchased_ms * INTERVAL '1 MILLISECOND' AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    CAST(e.external_id AS VARCHAR) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
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
    AND CAST(occurred_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
  UNION
  SELECT
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST('1970-01-01 00:00:00.000000' AS TIMESTAMP) + purchased_ms * INTERVAL '1 MILLISECOND' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
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
      CAST(e.event_name AS VARCHAR) IN ('add_to_cart')
  ) AS s0
  JOIN (
    SELECT
      __uid,
      __t,
      __rid
    FROM __seq_purchase_rows_1 AS e
    WHERE
      CAST(e.product_id AS VARCHAR) IN ('p1', 'p2')
  ) AS s1
    ON s1.__uid = s0.__uid
    AND s1.__t >= s0.__t
    AND s1.__t <= s0.__t + INTERVAL '172800 SECOND'
  WHERE
    s0.__t >= CAST('2026-11-18 15:00:00.000000' AS TIMESTAMP)
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
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __seq_2
  ON __seq_2.external_user_id = v.external_user_id
WHERE
  NOT __seq_2.external_user_id IS NULL
