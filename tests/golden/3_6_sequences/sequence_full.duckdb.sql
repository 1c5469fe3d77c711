WITH __seq_rows_0 AS (
  SELECT
    *,
    CAST(e.external_id AS TEXT) AS __uid,
    e.__utc_time AS __t,
    ROW_NUMBER() OVER (
      ORDER BY CAST(e.external_id AS TEXT), e.__utc_time, CAST(e.event_name AS TEXT), CAST(e.properties AS TEXT)
    ) AS __rid
  FROM (
    SELECT
      *,
      CAST(CAST(occurred_at AS TIMESTAMPTZ) AS TIMESTAMP) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    CAST(e.external_id AS TEXT) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
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
    CAST(external_id AS TEXT) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS TEXT) <> ''
    AND CAST(EPOCH_MS(purchased_ms) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
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
      CAST(e.event_name AS TEXT) IN ('product_viewed')
      AND COALESCE(
        CASE
          WHEN JSON_TYPE(e.properties, '$."category"') IN ('VARCHAR')
          THEN JSON_EXTRACT_STRING(e.properties, '$."category"')
        END = 'shoes',
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
      CAST(e.event_name AS TEXT) IN ('add_to_cart')
  ) AS s1
    ON s1.__uid = s0.__uid
    AND s1.__t >= s0.__t
    AND s1.__rid <> s0.__rid
    AND s1.__t <= s0.__t + INTERVAL '1800' SECOND
  JOIN (
    SELECT
      __uid,
      __t,
      __rid
    FROM __seq_rows_0 AS e
    WHERE
      CAST(e.event_name AS TEXT) IN ('checkout_started')
  ) AS s2
    ON s2.__uid = s0.__uid
    AND s2.__t >= s1.__t
    AND s2.__rid <> s0.__rid
    AND s2.__rid <> s1.__rid
    AND s2.__t >= s1.__t + INTERVAL '3600' SECOND
  WHERE
    s0.__t >= CAST('2026-11-14 15:00:00.000000' AS TIMESTAMP)
    AND s2.__t <= s0.__t + INTERVAL '86400' SECOND
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
          CAST(e.event_name AS TEXT) IN ('purchase_completed')
      ) AS x
      WHERE
        x.__uid = s0.__uid
        AND x.__t > s2.__t
        AND x.__t <= s2.__t + INTERVAL '86400' SECOND
    )
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS TEXT) = v.external_user_id
LEFT JOIN __seq_1
  ON __seq_1.external_user_id = v.external_user_id
WHERE
  NOT __seq_1.external_user_id IS NULL
