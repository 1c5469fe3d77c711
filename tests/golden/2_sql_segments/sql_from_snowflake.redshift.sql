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
    AND CAST(occurred_at AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC' <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMP)
), __sql_sql_from_snowflake AS (
  SELECT DISTINCT
    CAST(q.external_user_id AS VARCHAR) AS external_user_id
  FROM (
    SELECT
      external_id AS external_user_id
    FROM main.events
    WHERE
      CASE WHEN event_name = 'app_open' THEN TRUE ELSE FALSE END
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
