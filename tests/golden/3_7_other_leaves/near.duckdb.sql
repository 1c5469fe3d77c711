WITH __universe AS (
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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS TEXT) = v.external_user_id
WHERE
  COALESCE(
    12742.0 * ASIN(
      SQRT(
        CASE
          WHEN 1.0 IS NULL
          OR (
            POWER(SIN(RADIANS((
              CAST(u.last_lat AS DOUBLE) - 37.56
            )) / 2.0), 2) + COS(RADIANS(37.56)) * COS(RADIANS(CAST(u.last_lat AS DOUBLE))) * POWER(SIN(RADIANS((
              CAST(u.last_lon AS DOUBLE) - 126.97
            )) / 2.0), 2)
          ) IS NULL
          THEN NULL
          ELSE LEAST(
            1.0,
            POWER(SIN(RADIANS((
              CAST(u.last_lat AS DOUBLE) - 37.56
            )) / 2.0), 2) + COS(RADIANS(37.56)) * COS(RADIANS(CAST(u.last_lat AS DOUBLE))) * POWER(SIN(RADIANS((
              CAST(u.last_lon AS DOUBLE) - 126.97
            )) / 2.0), 2)
          )
        END
      )
    ) <= 10.0,
    FALSE
  )
