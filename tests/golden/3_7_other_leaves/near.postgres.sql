WITH __universe AS (
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
    AND CAST(occurred_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    12742.0 * ASIN(
      SQRT(
        LEAST(
          1.0,
          POWER(
            SIN(
              CAST(RADIANS((
                CAST(u.last_lat AS DOUBLE PRECISION) - 37.56
              )) AS DOUBLE PRECISION) / 2.0
            ),
            2
          ) + COS(RADIANS(37.56)) * COS(RADIANS(CAST(u.last_lat AS DOUBLE PRECISION))) * POWER(
            SIN(
              CAST(RADIANS((
                CAST(u.last_lon AS DOUBLE PRECISION) - 126.97
              )) AS DOUBLE PRECISION) / 2.0
            ),
            2
          )
        )
      )
    ) <= 10.0,
    FALSE
  )
