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
)
SELECT
  v.external_user_id
FROM __universe AS v
LEFT JOIN main.users AS u
  ON CAST(u.external_id AS VARCHAR) = v.external_user_id
WHERE
  COALESCE(
    EXISTS(
      SELECT
        1
      FROM JSONB_ARRAY_ELEMENTS_TEXT(
        CASE
          WHEN JSONB_TYPEOF(CAST(u.interests AS JSONB)) = 'array'
          THEN CAST(u.interests AS JSONB)
        END
      ) AS __el(v)
      WHERE
        __el.v IN ('sneakers')
    ),
    FALSE
  )
  AND COALESCE(
    EXISTS(
      SELECT
        1
      FROM JSONB_ARRAY_ELEMENTS_TEXT(
        CASE
          WHEN JSONB_TYPEOF(CAST(u.interests AS JSONB)) = 'array'
          THEN CAST(u.interests AS JSONB)
        END
      ) AS __el(v)
      WHERE
        __el.v IN ('running', 'outdoor')
    ),
    FALSE
  )
  AND COALESCE(
    EXISTS(
      SELECT
        1
      FROM JSONB_ARRAY_ELEMENTS_TEXT(
        CASE
          WHEN JSONB_TYPEOF(CAST(u.interests AS JSONB)) = 'array'
          THEN CAST(u.interests AS JSONB)
        END
      ) AS __el(v)
      WHERE
        __el.v IN ('tech')
    )
    AND EXISTS(
      SELECT
        1
      FROM JSONB_ARRAY_ELEMENTS_TEXT(
        CASE
          WHEN JSONB_TYPEOF(CAST(u.interests AS JSONB)) = 'array'
          THEN CAST(u.interests AS JSONB)
        END
      ) AS __el(v)
      WHERE
        __el.v IN ('home')
    ),
    FALSE
  )
  AND NOT (
    COALESCE(
      EXISTS(
        SELECT
          1
        FROM JSONB_ARRAY_ELEMENTS_TEXT(
          CASE
            WHEN JSONB_TYPEOF(CAST(u.interests AS JSONB)) = 'array'
            THEN CAST(u.interests AS JSONB)
          END
        ) AS __el(v)
        WHERE
          __el.v IN ('beauty')
      ),
      FALSE
    )
  )
