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
    AND CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
), __sql_sql_from_snowflake AS (
  SELECT DISTINCT
    CAST(q.external_user_id AS VARCHAR) AS external_user_id
  FROM (
    SELECT
      external_id AS external_user_id
    FROM main.events
    WHERE
      IFF(event_name = 'app_open', TRUE, FALSE)
    QUALIFY
      ROW_NUMBER() OVER (PARTITION BY external_id ORDER BY occurred_at DESC) = 1
  ) AS q
  WHERE
    NOT q.external_user_id IS NULL
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
LEFT JOIN __sql_sql_from_snowflake
  ON __sql_sql_from_snowflake.external_user_id = v.external_user_id
WHERE
  NOT __sql_sql_from_snowflake.external_user_id IS NULL
