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
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    CAST(e.external_id AS VARCHAR) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
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
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST(TO_TIMESTAMP(purchased_ms, 3) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
), __seq_1 AS (
  SELECT DISTINCT
    s0.__uid AS external_user_id
  FROM (
    SELECT
      __uid,
      __t,
      __rid
    FROM __seq_rows_0 AS e
    WHERE
      CAST(e.event_name AS VARCHAR) IN ('product_viewed')
      AND COALESCE(
        IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["category"]')), 1, 1) IN ('"'),
          CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["category"]') AS VARCHAR),
          NULL
        ) = 'shoes',
        FALSE
      )
  ) AS s0
  JOIN (
    SELECT
      __uid,
      __t,
      __rid
    FROM __seq_rows_0 AS e
    WHERE
      CAST(e.event_name AS VARCHAR) IN ('add_to_cart')
  ) AS s1
    ON s1.__uid = s0.__uid
    AND s1.__t >= s0.__t
    AND s1.__rid <> s0.__rid
    AND s1.__t <= s0.__t + INTERVAL '1800 SECOND'
  JOIN (
    SELECT
      __uid,
      __t,
      __rid
    FROM __seq_rows_0 AS e
    WHERE
      CAST(e.event_name AS VARCHAR) IN ('checkout_started')
  ) AS s2
    ON s2.__uid = s0.__uid
    AND s2.__t >= s1.__t
    AND s2.__rid <> s0.__rid
    AND s2.__rid <> s1.__rid
    AND s2.__t >= s1.__t + INTERVAL '3600 SECOND'
  WHERE
    s0.__t >= CAST('2026-11-14 15:00:00.000000' AS TIMESTAMPNTZ)
    AND s2.__t <= s0.__t + INTERVAL '86400 SECOND'
    AND NOT EXISTS(
      SELECT
        1
      FROM (
        SELECT
          __uid,
          __t,
          __rid
        FROM __seq_rows_0 AS e
        WHERE
          CAST(e.event_name AS VARCHAR) IN ('purchase_completed')
      ) AS x
      WHERE
        x.__uid = s0.__uid
        AND x.__t > s2.__t
        AND x.__t <= s2.__t + INTERVAL '86400 SECOND'
    )
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __seq_1
  ON __seq_1.external_user_id = v.external_user_id
WHERE
  NOT __seq_1.external_user_id IS NULL
