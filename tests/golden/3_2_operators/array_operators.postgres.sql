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
    AND CAST(CAST(occurred_at AS TIMESTAMPTZ) AS TIMESTAMP) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    LIST_CONTAINS(
      CAST(CASE
        WHEN JSON_TYPE(CAST(u.interests AS JSON)) = 'ARRAY'
        THEN CAST(u.interests AS JSON)
      END AS VARCHAR[]),
      'sneakers'
    ),
    FALSE
  )
  AND COALESCE(
    LIST_HAS_ANY(
      CAST(CASE
        WHEN JSON_TYPE(CAST(u.interests AS JSON)) = 'ARRAY'
        THEN CAST(u.interests AS JSON)
      END AS VARCHAR[]),
      ARRAY['running', 'outdoor']
    ),
    FALSE
  )
  AND COALESCE(
    LIST_HAS_ALL(
      CAST(CASE
        WHEN JSON_TYPE(CAST(u.interests AS JSON)) = 'ARRAY'
        THEN CAST(u.interests AS JSON)
      END AS VARCHAR[]),
      ARRAY['tech', 'home']
    ),
    FALSE
  )
  AND NOT (
    COALESCE(
      LIST_CONTAINS(
        CAST(CASE
          WHEN JSON_TYPE(CAST(u.interests AS JSON)) = 'ARRAY'
          THEN CAST(u.interests AS JSON)
        END AS VARCHAR[]),
        'beauty'
      ),
      FALSE
    )
  )
