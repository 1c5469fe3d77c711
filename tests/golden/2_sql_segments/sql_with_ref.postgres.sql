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
), __sql_sql_with_ref AS (
  SELECT DISTINCT
    CAST(q.external_user_id AS VARCHAR) AS external_user_id
  FROM (
    SELECT
      external_user_id AS external_user_id
    FROM (
      SELECT
        v.external_user_id
      FROM __universe AS v
      LEFT JOIN main.users AS u
        ON CAST(u.external_id AS VARCHAR) = v.external_user_id
      WHERE
        COALESCE(CAST(u.is_vip AS BOOLEAN) = TRUE, FALSE)
    ) AS __segsql_ref__boolean_equals
  ) AS q
  WHERE
    NOT q.external_user_id IS NULL
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __sql_sql_with_ref
  ON __sql_sql_with_ref.external_user_id = v.external_user_id
WHERE
  NOT __sql_sql_with_ref.external_user_id IS NULL
