WITH __universe AS (
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.users
  WHERE
    CAST(external_id AS STRING) <> ''
  UNION
  SELECT
    CAST(external_id AS STRING) AS external_user_id
  FROM main.events
  WHERE
    CAST(external_id AS STRING) <> ''
    AND CAST(CAST(occurred_at AS TIMESTAMP) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS STRING) = v.external_user_id
LEFT JOIN ml.churn_scores AS __trait_churn
  ON CAST(__trait_churn.user_id AS STRING) = v.external_user_id
WHERE
  COALESCE(CAST(__trait_churn.score AS DOUBLE) >= 0.7, FALSE)
  AND NOT (
    COALESCE(CAST(__trait_churn.band AS STRING) IN ('low'), FALSE)
  )
  AND COALESCE(
    CAST(CAST(__trait_churn.scored_at AS TIMESTAMP) AS TIMESTAMP) > CAST('2026-11-20 12:00:00.000000' AS TIMESTAMP)
    AND CAST(CAST(__trait_churn.scored_at AS TIMESTAMP) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP),
    FALSE
  )
  AND COALESCE(CAST(u.country AS STRING) = 'KR', FALSE)
