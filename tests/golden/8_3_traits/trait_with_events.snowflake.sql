WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    MAX(CASE WHEN CAST(e.event_name AS VARCHAR) IN ('app_open') THEN e.__utc_time END) AS m0
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND CAST(e.event_name AS VARCHAR) IN ('app_open')
    AND e.__utc_time >= CAST('2026-11-14 15:00:00.000000' AS TIMESTAMPNTZ)
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
    external_user_id
  FROM __scan_events
  UNION
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    (
      CAST(e.external_id AS VARCHAR) <> ''
      AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND NOT COALESCE(
      CAST(e.event_name AS VARCHAR) IN ('app_open')
      AND e.__utc_time >= CAST('2026-11-14 15:00:00.000000' AS TIMESTAMPNTZ),
      FALSE
    )
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __scan_events
  ON __scan_events.external_user_id = v.external_user_id
LEFT JOIN ml.churn_scores AS __trait_churn
  ON CAST(__trait_churn.user_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    ARRAY_CONTAINS(
      CAST('discount' AS VARIANT),
      IFF(
        IS_ARRAY(TRY_PARSE_JSON(TO_VARCHAR(__trait_churn.flags))),
        TRY_PARSE_JSON(TO_VARCHAR(__trait_churn.flags)),
        NULL
      )
    ),
    FALSE
  )
  AND COALESCE(__scan_events.m0 >= CAST('2026-11-14 15:00:00.000000' AS TIMESTAMPNTZ), FALSE)
