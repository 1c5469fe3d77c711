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
LEFT JOIN ml.churn_scores AS __trait_churn
  ON CAST(__trait_churn.user_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(CAST(__trait_churn.score AS DOUBLE PRECISION) >= 0.7, FALSE)
  AND NOT (
    COALESCE(CAST(__trait_churn.band AS VARCHAR) IN ('low'), FALSE)
  )
  AND COALESCE(
    CAST(__trait_churn.scored_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' > CAST('2026-11-20 12:00:00.000000' AS TIMESTAMP)
    AND CAST(__trait_churn.scored_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP),
    FALSE
  )
  AND COALESCE(CAST(u.country AS VARCHAR) = 'KR', FALSE)
