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
LEFT JOIN ml.churn_scores AS __trait_churn
  ON CAST(__trait_churn.user_id AS STRING) = v.external_user_id
LEFT JOIN crm.accounts AS __trait_crm
  ON CAST(__trait_crm.external_id AS STRING) = v.external_user_id
WHERE
  (
    NOT (
      NOT CAST(__trait_churn.score AS FLOAT64) IS NULL
    )
    OR COALESCE(CAST(__trait_churn.at_risk AS BOOL) = TRUE, FALSE)
    OR (
      COALESCE(CAST(__trait_crm.plan AS STRING) = 'pro', FALSE)
      OR NOT COALESCE(
        NOT CAST(__trait_crm.plan AS STRING) IS NULL
        AND CAST(__trait_crm.plan AS STRING) <> '',
        FALSE
      )
    )
  )
