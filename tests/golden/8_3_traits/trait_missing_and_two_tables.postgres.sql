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
LEFT JOIN crm.accounts AS __trait_crm
  ON CAST(__trait_crm.external_id AS VARCHAR) = v.external_user_id
WHERE
  (
    NOT (
      NOT CAST(__trait_churn.score AS DOUBLE PRECISION) IS NULL
    )
    OR COALESCE(CAST(__trait_churn.at_risk AS BOOLEAN) = TRUE, FALSE)
    OR (
      COALESCE(CAST(__trait_crm.plan AS VARCHAR) = 'pro', FALSE)
      OR NOT COALESCE(
        NOT CAST(__trait_crm.plan AS VARCHAR) IS NULL
        AND CAST(__trait_crm.plan AS VARCHAR) <> '',
        FALSE
      )
    )
  )
