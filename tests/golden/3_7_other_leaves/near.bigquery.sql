WITH __universe AS (
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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
WHERE
  COALESCE(
    12742.0 * ASIN(
      SQRT(
        LEAST(
          1.0,
          POWER(SIN((
            CAST(u.last_lat AS FLOAT64) - 37.56
          ) * 0.017453292519943295 / 2.0), 2) + COS(37.56 * 0.017453292519943295) * COS(CAST(u.last_lat AS FLOAT64) * 0.017453292519943295) * POWER(SIN((
            CAST(u.last_lon AS FLOAT64) - 126.97
          ) * 0.017453292519943295 / 2.0), 2)
        )
      )
    ) <= 10.0,
    FALSE
  )
