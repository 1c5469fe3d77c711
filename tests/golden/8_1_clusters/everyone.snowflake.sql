WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('app_open')
        AND e.__utc_time >= CAST('2026-10-23 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN 1
      END
    ) AS m0
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    CAST(e.external_id AS VARCHAR) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
  GROUP BY
    CAST(e.external_id AS VARCHAR)
), __scan_purchases AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    COUNT(
      CASE
        WHEN e.__utc_time >= CAST('2025-11-22 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN 1
      END
    ) AS m0,
    SUM(
      CAST(ROUND(CAST(CAST(e.price AS DECIMAL(38, 12)) AS DECIMAL(38, 12)), 6) AS DECIMAL(38, 6))
    ) AS m1,
    MAX(e.__utc_time) AS m2
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', purchased_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.purchases
  ) AS e
  WHERE
    CAST(e.external_id AS VARCHAR) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
  GROUP BY
    CAST(e.external_id AS VARCHAR)
)
SELECT
  COALESCE(
    CAST(u.external_id AS VARCHAR),
    __scan_events.external_user_id,
    __scan_purchases.external_user_id
  ) AS external_user_id,
  CAST(COALESCE(CAST(COALESCE(__scan_purchases.m0, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __o0,
  CAST(COALESCE(CAST(COALESCE(__scan_purchases.m0, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __t0,
  CAST(COALESCE(CAST(COALESCE(__scan_purchases.m1, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __o1,
  CAST(SIGN(
    CAST(COALESCE(CAST(COALESCE(__scan_purchases.m1, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE)
  ) * LN(
    1.0 + ABS(
      CAST(COALESCE(CAST(COALESCE(__scan_purchases.m1, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE)
    )
  ) AS DOUBLE) AS __t1,
  CAST(COALESCE(
    CAST(FLOOR(
      CAST(TIMESTAMPDIFF(MICROSECOND, __scan_purchases.m2, CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)) AS DOUBLE) / 1000000.0 / 86400.0
    ) AS DOUBLE),
    CAST('0.0' AS DOUBLE)
  ) AS DOUBLE) AS __o2,
  CAST(COALESCE(
    CAST(FLOOR(
      CAST(TIMESTAMPDIFF(MICROSECOND, __scan_purchases.m2, CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)) AS DOUBLE) / 1000000.0 / 86400.0
    ) AS DOUBLE),
    CAST('0.0' AS DOUBLE)
  ) AS DOUBLE) AS __t2,
  CAST(COALESCE(CAST(COALESCE(__scan_events.m0, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __o3,
  CAST(COALESCE(CAST(COALESCE(__scan_events.m0, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __t3,
  CAST(COALESCE(CAST(u.age AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __o4,
  CAST(COALESCE(CAST(u.age AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __t4
FROM (
  SELECT
    *
  FROM main.users
  WHERE
    CAST(external_id AS VARCHAR) <> ''
) AS u
FULL JOIN __scan_events
  ON __scan_events.external_user_id = CAST(u.external_id AS VARCHAR)
FULL JOIN __scan_purchases
  ON __scan_purchases.external_user_id = COALESCE(CAST(u.external_id AS VARCHAR), __scan_events.external_user_id);

SELECT
  COUNT(*),
  AVG(__t0),
  STDDEV_POP(__t0),
  MIN(__t0),
  MAX(__t0),
  AVG(__t1),
  STDDEV_POP(__t1),
  MIN(__t1),
  MAX(__t1),
  AVG(__t2),
  STDDEV_POP(__t2),
  MIN(__t2),
  MAX(__t2),
  AVG(__t3),
  STDDEV_POP(__t3),
  MIN(__t3),
  MAX(__t3),
  AVG(__t4),
  STDDEV_POP(__t4),
  MIN(__t4),
  MAX(__t4)
FROM features;

SELECT
  __z0,
  __z1,
  __z2,
  __z3,
  __z4,
  COUNT(*) AS __n,
  MIN(__w) AS __w,
  MIN(__f) AS __f
FROM (
  SELECT
    __z0,
    __z1,
    __z2,
    __z3,
    __z4,
    -LN(
      CAST((
        (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 1, 1), '0123456789abcdef') - 1
        ) * 268435456 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 2, 1), '0123456789abcdef') - 1
        ) * 16777216 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 3, 1), '0123456789abcdef') - 1
        ) * 1048576 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 4, 1), '0123456789abcdef') - 1
        ) * 65536 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 5, 1), '0123456789abcdef') - 1
        ) * 4096 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 6, 1), '0123456789abcdef') - 1
        ) * 256 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 7, 1), '0123456789abcdef') - 1
        ) * 16 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 8, 1), '0123456789abcdef') - 1
        )
      ) % 10000 + 1 AS DOUBLE) / 10001.0
    ) AS __w,
    MD5('everyone' || external_user_id) || external_user_id AS __f
  FROM (
    SELECT
      external_user_id,
      (
        __t0 - CAST('1.5' AS DOUBLE)
      ) / CAST('2.0' AS DOUBLE) AS __z0,
      __o0,
      (
        __t1 - CAST('2.25' AS DOUBLE)
      ) / CAST('1.0' AS DOUBLE) AS __z1,
      __o1,
      CAST('0.0' AS DOUBLE) AS __z2,
      __o2,
      (
        __t3 - CAST('0.0' AS DOUBLE)
      ) / CAST('3.5' AS DOUBLE) AS __z3,
      __o3,
      (
        __t4 - CAST('40.0' AS DOUBLE)
      ) / CAST('12.0' AS DOUBLE) AS __z4,
      __o4
    FROM features
  ) AS s
) AS w
GROUP BY
  __z0,
  __z1,
  __z2,
  __z3,
  __z4;

SELECT
  __z0,
  __z1,
  __z2,
  __z3,
  __z4
FROM points
ORDER BY
  __f
LIMIT 1;

SELECT
  __z0,
  __z1,
  __z2,
  __z3,
  __z4,
  __w / __d2 AS __key
FROM (
  SELECT
    __z0,
    __z1,
    __z2,
    __z3,
    __z4,
    (
      (
        __z0 - CAST('0.5' AS DOUBLE)
      ) * (
        __z0 - CAST('0.5' AS DOUBLE)
      ) + (
        __z1 - CAST('-1.0' AS DOUBLE)
      ) * (
        __z1 - CAST('-1.0' AS DOUBLE)
      ) + (
        __z2 - CAST('0.0' AS DOUBLE)
      ) * (
        __z2 - CAST('0.0' AS DOUBLE)
      ) + (
        __z3 - CAST('2.0' AS DOUBLE)
      ) * (
        __z3 - CAST('2.0' AS DOUBLE)
      ) + (
        __z4 - CAST('0.25' AS DOUBLE)
      ) * (
        __z4 - CAST('0.25' AS DOUBLE)
      )
    ) AS __d2,
    __w
  FROM points
) AS c
WHERE
  __d2 > CAST('0.0' AS DOUBLE)
ORDER BY
  __key
LIMIT 2;

SELECT
  __z0,
  __z1,
  __z2,
  __z3,
  __z4
FROM (
  SELECT
    external_user_id,
    __z0,
    __z1,
    __z2,
    __z3,
    __z4,
    LEAST_IGNORE_NULLS(
      (
        (
          __z0 - CAST('0.5' AS DOUBLE)
        ) * (
          __z0 - CAST('0.5' AS DOUBLE)
        ) + (
          __z1 - CAST('-1.0' AS DOUBLE)
        ) * (
          __z1 - CAST('-1.0' AS DOUBLE)
        ) + (
          __z2 - CAST('0.0' AS DOUBLE)
        ) * (
          __z2 - CAST('0.0' AS DOUBLE)
        ) + (
          __z3 - CAST('2.0' AS DOUBLE)
        ) * (
          __z3 - CAST('2.0' AS DOUBLE)
        ) + (
          __z4 - CAST('0.25' AS DOUBLE)
        ) * (
          __z4 - CAST('0.25' AS DOUBLE)
        )
      ),
      (
        (
          __z0 - CAST('-0.75' AS DOUBLE)
        ) * (
          __z0 - CAST('-0.75' AS DOUBLE)
        ) + (
          __z1 - CAST('1.5' AS DOUBLE)
        ) * (
          __z1 - CAST('1.5' AS DOUBLE)
        ) + (
          __z2 - CAST('0.0' AS DOUBLE)
        ) * (
          __z2 - CAST('0.0' AS DOUBLE)
        ) + (
          __z3 - CAST('-1.0' AS DOUBLE)
        ) * (
          __z3 - CAST('-1.0' AS DOUBLE)
        ) + (
          __z4 - CAST('0.0' AS DOUBLE)
        ) * (
          __z4 - CAST('0.0' AS DOUBLE)
        )
      )
    ) AS __d2,
    -LN(
      CAST((
        (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 1, 1), '0123456789abcdef') - 1
        ) * 268435456 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 2, 1), '0123456789abcdef') - 1
        ) * 16777216 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 3, 1), '0123456789abcdef') - 1
        ) * 1048576 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 4, 1), '0123456789abcdef') - 1
        ) * 65536 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 5, 1), '0123456789abcdef') - 1
        ) * 4096 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 6, 1), '0123456789abcdef') - 1
        ) * 256 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 7, 1), '0123456789abcdef') - 1
        ) * 16 + (
          CHARINDEX(SUBSTRING(MD5('everyone' || external_user_id), 8, 1), '0123456789abcdef') - 1
        )
      ) % 10000 + 1 AS DOUBLE) / 10001.0
    ) AS __w
  FROM (
    SELECT
      external_user_id,
      (
        __t0 - CAST('1.5' AS DOUBLE)
      ) / CAST('2.0' AS DOUBLE) AS __z0,
      __o0,
      (
        __t1 - CAST('2.25' AS DOUBLE)
      ) / CAST('1.0' AS DOUBLE) AS __z1,
      __o1,
      CAST('0.0' AS DOUBLE) AS __z2,
      __o2,
      (
        __t3 - CAST('0.0' AS DOUBLE)
      ) / CAST('3.5' AS DOUBLE) AS __z3,
      __o3,
      (
        __t4 - CAST('40.0' AS DOUBLE)
      ) / CAST('12.0' AS DOUBLE) AS __z4,
      __o4
    FROM features
  ) AS s
) AS c
WHERE
  __d2 > CAST('0.0' AS DOUBLE)
ORDER BY
  __w / __d2,
  external_user_id
LIMIT 1;

SELECT
  __an,
  TRUE AS __same,
  SUM(__n),
  SUM(__z0 * __n),
  SUM(__z1 * __n),
  SUM(__z2 * __n),
  SUM(__z3 * __n),
  SUM(__z4 * __n)
FROM (
  SELECT
    __z0,
    __z1,
    __z2,
    __z3,
    __z4,
    __n,
    CASE WHEN nd0 = nb THEN 0 WHEN nd1 = nb THEN 1 ELSE 2 END AS __an
  FROM (
    SELECT
      __z0,
      __z1,
      __z2,
      __z3,
      __z4,
      __n,
      nd0,
      nd1,
      nd2,
      LEAST_IGNORE_NULLS(nd0, nd1, nd2) AS nb
    FROM (
      SELECT
        __z0,
        __z1,
        __z2,
        __z3,
        __z4,
        __n,
        (
          CAST('5.3125' AS DOUBLE) + __z0 * CAST('-1.0' AS DOUBLE) + __z1 * CAST('2.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-4.0' AS DOUBLE) + __z4 * CAST('-0.5' AS DOUBLE)
        ) AS nd0,
        (
          CAST('3.8125' AS DOUBLE) + __z0 * CAST('1.5' AS DOUBLE) + __z1 * CAST('-3.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('2.0' AS DOUBLE) + __z4 * CAST('-0.0' AS DOUBLE)
        ) AS nd1,
        (
          CAST('4.015625' AS DOUBLE) + __z0 * CAST('-0.0' AS DOUBLE) + __z1 * CAST('-0.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-0.25' AS DOUBLE) + __z4 * CAST('4.0' AS DOUBLE)
        ) AS nd2
      FROM points
    ) AS d
  ) AS b
) AS a
GROUP BY
  __an;

SELECT
  __an,
  __an = __ap AS __same,
  SUM(__n),
  SUM(__z0 * __n),
  SUM(__z1 * __n),
  SUM(__z2 * __n),
  SUM(__z3 * __n),
  SUM(__z4 * __n)
FROM (
  SELECT
    __z0,
    __z1,
    __z2,
    __z3,
    __z4,
    __n,
    CASE WHEN nd0 = nb THEN 0 WHEN nd1 = nb THEN 1 ELSE 2 END AS __an,
    CASE WHEN pd0 = pb THEN 0 WHEN pd1 = pb THEN 1 ELSE 2 END AS __ap
  FROM (
    SELECT
      __z0,
      __z1,
      __z2,
      __z3,
      __z4,
      __n,
      nd0,
      nd1,
      nd2,
      pd0,
      pd1,
      pd2,
      LEAST_IGNORE_NULLS(nd0, nd1, nd2) AS nb,
      LEAST_IGNORE_NULLS(pd0, pd1, pd2) AS pb
    FROM (
      SELECT
        __z0,
        __z1,
        __z2,
        __z3,
        __z4,
        __n,
        (
          CAST('5.3125' AS DOUBLE) + __z0 * CAST('-1.0' AS DOUBLE) + __z1 * CAST('2.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-4.0' AS DOUBLE) + __z4 * CAST('-0.5' AS DOUBLE)
        ) AS nd0,
        (
          CAST('3.8125' AS DOUBLE) + __z0 * CAST('1.5' AS DOUBLE) + __z1 * CAST('-3.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('2.0' AS DOUBLE) + __z4 * CAST('-0.0' AS DOUBLE)
        ) AS nd1,
        (
          CAST('4.015625' AS DOUBLE) + __z0 * CAST('-0.0' AS DOUBLE) + __z1 * CAST('-0.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-0.25' AS DOUBLE) + __z4 * CAST('4.0' AS DOUBLE)
        ) AS nd2,
        (
          CAST('4.015625' AS DOUBLE) + __z0 * CAST('-0.0' AS DOUBLE) + __z1 * CAST('-0.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-0.25' AS DOUBLE) + __z4 * CAST('4.0' AS DOUBLE)
        ) AS pd0,
        (
          CAST('3.8125' AS DOUBLE) + __z0 * CAST('1.5' AS DOUBLE) + __z1 * CAST('-3.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('2.0' AS DOUBLE) + __z4 * CAST('-0.0' AS DOUBLE)
        ) AS pd1,
        (
          CAST('5.3125' AS DOUBLE) + __z0 * CAST('-1.0' AS DOUBLE) + __z1 * CAST('2.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-4.0' AS DOUBLE) + __z4 * CAST('-0.5' AS DOUBLE)
        ) AS pd2
      FROM points
    ) AS d
  ) AS b
) AS a
GROUP BY
  __an,
  __ap;

SELECT
  external_user_id,
  __cluster,
  SQRT(
    CASE
      WHEN __cluster = 0
      THEN (
        (
          __z0 - CAST('0.0' AS DOUBLE)
        ) * (
          __z0 - CAST('0.0' AS DOUBLE)
        ) + (
          __z1 - CAST('0.0' AS DOUBLE)
        ) * (
          __z1 - CAST('0.0' AS DOUBLE)
        ) + (
          __z2 - CAST('0.0' AS DOUBLE)
        ) * (
          __z2 - CAST('0.0' AS DOUBLE)
        ) + (
          __z3 - CAST('0.125' AS DOUBLE)
        ) * (
          __z3 - CAST('0.125' AS DOUBLE)
        ) + (
          __z4 - CAST('-2.0' AS DOUBLE)
        ) * (
          __z4 - CAST('-2.0' AS DOUBLE)
        )
      )
      WHEN __cluster = 1
      THEN (
        (
          __z0 - CAST('-0.75' AS DOUBLE)
        ) * (
          __z0 - CAST('-0.75' AS DOUBLE)
        ) + (
          __z1 - CAST('1.5' AS DOUBLE)
        ) * (
          __z1 - CAST('1.5' AS DOUBLE)
        ) + (
          __z2 - CAST('0.0' AS DOUBLE)
        ) * (
          __z2 - CAST('0.0' AS DOUBLE)
        ) + (
          __z3 - CAST('-1.0' AS DOUBLE)
        ) * (
          __z3 - CAST('-1.0' AS DOUBLE)
        ) + (
          __z4 - CAST('0.0' AS DOUBLE)
        ) * (
          __z4 - CAST('0.0' AS DOUBLE)
        )
      )
      WHEN __cluster = 2
      THEN (
        (
          __z0 - CAST('0.5' AS DOUBLE)
        ) * (
          __z0 - CAST('0.5' AS DOUBLE)
        ) + (
          __z1 - CAST('-1.0' AS DOUBLE)
        ) * (
          __z1 - CAST('-1.0' AS DOUBLE)
        ) + (
          __z2 - CAST('0.0' AS DOUBLE)
        ) * (
          __z2 - CAST('0.0' AS DOUBLE)
        ) + (
          __z3 - CAST('2.0' AS DOUBLE)
        ) * (
          __z3 - CAST('2.0' AS DOUBLE)
        ) + (
          __z4 - CAST('0.25' AS DOUBLE)
        ) * (
          __z4 - CAST('0.25' AS DOUBLE)
        )
      )
    END
  ) AS __distance,
  __o0,
  __o1,
  __o2,
  __o3,
  __o4
FROM (
  SELECT
    external_user_id,
    __z0,
    __z1,
    __z2,
    __z3,
    __z4,
    __o0,
    __o1,
    __o2,
    __o3,
    __o4,
    CASE WHEN nd0 = nb THEN 0 WHEN nd1 = nb THEN 1 ELSE 2 END AS __cluster
  FROM (
    SELECT
      external_user_id,
      __z0,
      __z1,
      __z2,
      __z3,
      __z4,
      __o0,
      __o1,
      __o2,
      __o3,
      __o4,
      nd0,
      nd1,
      nd2,
      LEAST_IGNORE_NULLS(nd0, nd1, nd2) AS nb
    FROM (
      SELECT
        external_user_id,
        __z0,
        __z1,
        __z2,
        __z3,
        __z4,
        __o0,
        __o1,
        __o2,
        __o3,
        __o4,
        (
          CAST('5.3125' AS DOUBLE) + __z0 * CAST('-1.0' AS DOUBLE) + __z1 * CAST('2.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-4.0' AS DOUBLE) + __z4 * CAST('-0.5' AS DOUBLE)
        ) AS nd0,
        (
          CAST('3.8125' AS DOUBLE) + __z0 * CAST('1.5' AS DOUBLE) + __z1 * CAST('-3.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('2.0' AS DOUBLE) + __z4 * CAST('-0.0' AS DOUBLE)
        ) AS nd1,
        (
          CAST('4.015625' AS DOUBLE) + __z0 * CAST('-0.0' AS DOUBLE) + __z1 * CAST('-0.0' AS DOUBLE) + __z2 * CAST('-0.0' AS DOUBLE) + __z3 * CAST('-0.25' AS DOUBLE) + __z4 * CAST('4.0' AS DOUBLE)
        ) AS nd2
      FROM (
        SELECT
          external_user_id,
          (
            __t0 - CAST('1.5' AS DOUBLE)
          ) / CAST('2.0' AS DOUBLE) AS __z0,
          __o0,
          (
            __t1 - CAST('2.25' AS DOUBLE)
          ) / CAST('1.0' AS DOUBLE) AS __z1,
          __o1,
          CAST('0.0' AS DOUBLE) AS __z2,
          __o2,
          (
            __t3 - CAST('0.0' AS DOUBLE)
          ) / CAST('3.5' AS DOUBLE) AS __z3,
          __o3,
          (
            __t4 - CAST('40.0' AS DOUBLE)
          ) / CAST('12.0' AS DOUBLE) AS __z4,
          __o4
        FROM features
      ) AS s
    ) AS d
  ) AS b
) AS a;

SELECT
  __cluster,
  COUNT(*),
  AVG(__o0),
  AVG(__o1),
  AVG(__o2),
  AVG(__o3),
  AVG(__o4)
FROM assignment
GROUP BY
  __cluster;

SELECT
  external_user_id,
  CAST(CASE WHEN __cluster = 0 THEN 2 WHEN __cluster = 1 THEN 1 WHEN __cluster = 2 THEN 3 END AS INT) AS cluster,
  CAST(CASE
    WHEN __cluster = 0
    THEN 'mid'
    WHEN __cluster = 1
    THEN 'big'
    WHEN __cluster = 2
    THEN 'small'
  END AS VARCHAR) AS label,
  __distance AS distance
FROM assignment;

WITH __scan_events AS (
  SELECT
    CAST(e.external_id AS VARCHAR) AS external_user_id,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('product_viewed')
        AND e.__utc_time >= CAST('2026-08-24 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN 1
      END
    ) AS m0,
    SUM(
      CAST(CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('paid')
        THEN IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["amount"]')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
          CAST(ROUND(
            CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["amount"]') AS DECIMAL(38, 12)),
            6
          ) AS DECIMAL(38, 6)),
          NULL
        )
      END AS DECIMAL(38, 6))
    ) AS m1,
    COUNT(
      CASE
        WHEN CAST(e.event_name AS VARCHAR) IN ('paid')
        THEN IFF(
          SUBSTRING(TO_JSON(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["amount"]')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
          CAST(ROUND(
            CAST(GET_PATH(TRY_PARSE_JSON(TO_VARCHAR(e.properties)), '["amount"]') AS DECIMAL(38, 12)),
            6
          ) AS DECIMAL(38, 6)),
          NULL
        )
      END
    ) AS m2
  FROM (
    SELECT
      *,
      CAST(CONVERT_TIMEZONE('UTC', occurred_at) AS TIMESTAMPNTZ) AS __utc_time
    FROM main.events
  ) AS e
  WHERE
    CAST(e.external_id AS VARCHAR) <> ''
    AND e.__utc_time <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
  GROUP BY
    CAST(e.external_id AS VARCHAR)
), __other_ids AS (
  SELECT DISTINCT
    CAST(external_id AS VARCHAR) AS external_user_id
  FROM main.purchases
  WHERE
    CAST(external_id AS VARCHAR) <> ''
    AND CAST(CONVERT_TIMEZONE('UTC', purchased_at) AS TIMESTAMPNTZ) <= CAST('2026-11-22 12:00:00.000000' AS TIMESTAMPNTZ)
)
SELECT
  COALESCE(
    CAST(u.external_id AS VARCHAR),
    __scan_events.external_user_id,
    __other_ids.external_user_id
  ) AS external_user_id,
  CAST(COALESCE(CAST(COALESCE(__scan_events.m0, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __o0,
  CAST(COALESCE(CAST(COALESCE(__scan_events.m0, 0) AS DOUBLE), CAST('0.0' AS DOUBLE)) AS DOUBLE) AS __t0,
  CAST(COALESCE(
    CAST(CAST(__scan_events.m1 AS DOUBLE) / CAST(NULLIF(__scan_events.m2, 0) AS DOUBLE) AS DOUBLE),
    CAST('0.0' AS DOUBLE)
  ) AS DOUBLE) AS __o1,
  CAST(COALESCE(
    CAST(CAST(__scan_events.m1 AS DOUBLE) / CAST(NULLIF(__scan_events.m2, 0) AS DOUBLE) AS DOUBLE),
    CAST('0.0' AS DOUBLE)
  ) AS DOUBLE) AS __t1
FROM (
  SELECT
    *
  FROM main.users
  WHERE
    CAST(external_id AS VARCHAR) <> ''
) AS u
FULL JOIN __scan_events
  ON __scan_events.external_user_id = CAST(u.external_id AS VARCHAR)
FULL JOIN __other_ids
  ON __other_ids.external_user_id = COALESCE(CAST(u.external_id AS VARCHAR), __scan_events.external_user_id)
WHERE
  COALESCE(CAST(u.country AS VARCHAR) = 'KR', FALSE);
