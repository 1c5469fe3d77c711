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
WHERE
  COALESCE(
    IF(
      SCHEMA_OF_VARIANT(TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["tier"]', 'VARIANT')) = 'STRING',
      TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["tier"]', 'STRING')
    ) = 'gold',
    FALSE
  )
  AND COALESCE(
    IF(
      REGEXP_LIKE(
        SCHEMA_OF_VARIANT(TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["points"]', 'VARIANT')),
        '^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL)'
      ),
      CAST(TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["points"]', 'STRING') AS DOUBLE)
    ) > 100,
    FALSE
  )
  AND COALESCE(
    NOT IF(
      SCHEMA_OF_VARIANT(
        TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["address"]["city"]', 'VARIANT')
      ) = 'STRING',
      TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["address"]["city"]', 'STRING')
    ) IS NULL
    AND IF(
      SCHEMA_OF_VARIANT(
        TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["address"]["city"]', 'VARIANT')
      ) = 'STRING',
      TRY_VARIANT_GET(PARSE_JSON(CAST(u.profile AS STRING)), '$["address"]["city"]', 'STRING')
    ) <> '',
    FALSE
  )
