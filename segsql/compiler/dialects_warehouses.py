"""BigQuery, Databricks and Redshift: the constructs whose portable form those engines lack.

Each class overrides only what differs from DuckDB's form (JSON, arrays, epoch columns,
regex flags, integer width, window frames), with the engine's own functions, so that every
operator means on them what it means on DuckDB: strict JSON kinds (another kind is
missing), missing → false for positive operators, the same md5 bucket integer,
R = 6371.0 km, regexes searched with `(?i)` honoured. No engine of these kinds runs in the
tests: the output is checked by golden files and by re-parsing in its own dialect.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from sqlglot import exp

from segsql.compiler.dialects import (
    JSON_ARRAY,
    JSON_BOOLEAN,
    JSON_NUMBER,
    JSON_STRING,
    DialectRules,
    PostgresRules,
    decimal_cast,
    decimal_text,
    lit,
    split_case_flag,
)

#: One degree in radians, the constant DuckDB's RADIANS multiplies by (BigQuery has no RADIANS).
DEGREE = math.pi / 180


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """An engine function by its own name, left untouched by sqlglot's transpiling."""
    return exp.Anonymous(this=name, expressions=list(args))


def wide_digits(bucket: exp.Expr) -> exp.Expr:
    """The md5 digits of `bucket` as BIGINT: 15 × 16^7 overflows a 32-bit INT."""
    return bucket.transform(
        lambda node: exp.cast(node, exp.DataType.Type.BIGINT) if isinstance(node, exp.StrPosition) and node.this.is_string else node,
        copy=False,
    )


class BigQueryRules(DialectRules):
    """BigQuery: JSON through JSON_QUERY/JSON_VALUE/JSON_TYPE, epochs through TIMESTAMP_MICROS/MILLIS."""

    name = "bigquery"
    #: BigQuery's WEEK starts on Sunday; ISOWEEK on Monday
    week_unit = "ISOWEEK"

    def to_utc(self, value: exp.Expr, unit: str | None) -> exp.Expr:
        """TIMESTAMP_SECONDS takes INT64 only; micros keep fractional seconds as DuckDB's TO_TIMESTAMP does."""
        if unit == "epoch_seconds":
            micros = exp.cast(exp.Mul(this=value, expression=lit(1_000_000)), exp.DataType.Type.BIGINT)
            return exp.cast(fn("TIMESTAMP_MICROS", micros), self.timestamp_type)
        if unit == "epoch_millis":
            return exp.cast(fn("TIMESTAMP_MILLIS", exp.cast(value, exp.DataType.Type.BIGINT)), self.timestamp_type)
        return super().to_utc(value, unit)

    def count_at_or_below(self, value: exp.Expr) -> exp.Expr:
        """BigQuery sorts NULLs first and its RANGE frames take no NULLS LAST (sqlglot would drop it
        with a warning), so the order keeps BigQuery's own NULL placement and COUNT(value) counts
        only non-NULL rows: for every non-NULL value, the rows <= it, exactly as on the other
        dialects. (The values ranked — last purchase time, purchase count, revenue — are never NULL.)"""
        return exp.Window(
            this=exp.Count(this=value.copy()),
            order=exp.Order(expressions=[exp.Ordered(this=value, nulls_first=True)]),
            spec=exp.WindowSpec(kind="RANGE", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
        )

    def _json(self, column: exp.Expr) -> exp.Expr:
        """A JSON column, a STRING holding JSON or a native ARRAY, as one JSON value.

        TO_JSON turns a STRING into a JSON string, which is then parsed; numbers too wide
        for FLOAT64 are rounded (as DuckDB reads them as DOUBLE) instead of failing.
        """
        as_json = fn("TO_JSON", column)
        is_text = exp.EQ(this=fn("JSON_TYPE", as_json.copy()), expression=lit("string"))
        parsed = fn("PARSE_JSON", fn("STRING", as_json.copy()), exp.Kwarg(this=exp.var("wide_number_mode"), expression=lit("round")))
        return exp.If(this=is_text, true=parsed, false=as_json)

    def _at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return fn("JSON_QUERY", self._json(column), lit(self.json_path(path)))

    def json_kind_is(self, column: exp.Expr, path: tuple[str, ...], kind: str) -> exp.Expr:
        return exp.EQ(this=fn("JSON_TYPE", self._at(column, path)), expression=lit(kind))

    def json_text(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return fn("JSON_VALUE", self._json(column), lit(self.json_path(path)))

    def json_array_at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return self._at(column, path)

    def as_json_array(self, column: exp.Expr) -> exp.Expr:
        return self._json(column)

    def is_json_array(self, array: exp.Expr) -> exp.Expr:
        return exp.EQ(this=fn("JSON_TYPE", array), expression=lit(JSON_ARRAY))

    def array_includes(self, array: exp.Expr, value: str) -> exp.Expr:
        """Elements as text (JSON_VALUE_ARRAY unquotes strings, 5 → '5'), like DuckDB's VARCHAR[] cast."""
        return exp.In(this=lit(value), unnest=exp.Unnest(expressions=[fn("JSON_VALUE_ARRAY", array)]))

    def array_includes_any(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.or_(*(self.array_includes(array.copy(), v) for v in values))

    def array_includes_all(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.and_(*(self.array_includes(array.copy(), v) for v in values))

    def array_size(self, array: exp.Expr) -> exp.Expr:
        return fn("ARRAY_LENGTH", fn("JSON_QUERY_ARRAY", array))

    money_type = "NUMERIC"

    def exact(self, value: exp.Expr) -> exp.Expr:
        """BIGNUMERIC (38 places): NUMERIC keeps 9, and takes no (38, 12) parameters."""
        return decimal_cast(value, exp.DataType.Type.BIGDECIMAL)

    def money(self, value: exp.Expr) -> exp.Expr:
        """Rounded half away from zero (ROUND's default mode) to 6 places, then NUMERIC: sums
        then have 29 integer digits, not DECIMAL(38, 6)'s 32 (BigQuery has no NUMERIC(38, 6))."""
        return self.as_money(exp.Round(this=self.exact(value), decimals=lit(6)))

    def money_literal(self, value: int | float | Decimal) -> exp.Expr:
        """A bare 0.3 is FLOAT64 in BigQuery: the decimal is written as BIGNUMERIC text."""
        return exp.cast(exp.Literal.string(decimal_text(value)), exp.DataType.Type.BIGDECIMAL)

    def haversine_km(self, lat: exp.Expr, lon: exp.Expr, lat0: float, lon0: float) -> exp.Expr:
        """The portable formula with RADIANS(x) spelled x × (π / 180), the same double DuckDB uses."""
        return super().haversine_km(lat, lon, lat0, lon0).transform(
            lambda node: exp.Mul(this=node.expressions[0], expression=lit(DEGREE)) if isinstance(node, exp.Anonymous) and node.name == "RADIANS" else node,
            copy=False,
        )


class DatabricksRules(DialectRules):
    """Databricks: JSON parsed to VARIANT (typed by schema_of_variant), arrays as ARRAY<STRING>.

    JSON and array columns are STRING holding JSON or VARIANT (CAST AS STRING gives the
    JSON text of a VARIANT). The session time zone must be UTC, as on every engine.
    """

    name = "databricks"
    #: schema_of_variant names of JSON numbers (DECIMAL comes with a precision).
    NUMBER_SCHEMA = "^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL)"

    def to_utc(self, value: exp.Expr, unit: str | None) -> exp.Expr:
        if unit == "epoch_seconds":
            return exp.cast(fn("TIMESTAMP_SECONDS", value), self.timestamp_type)
        if unit == "epoch_millis":
            return exp.cast(fn("TIMESTAMP_MILLIS", exp.cast(value, exp.DataType.Type.BIGINT)), self.timestamp_type)
        return super().to_utc(value, unit)

    def json_path(self, path: tuple[str, ...]) -> str:
        return "$" + "".join(f'["{key}"]' for key in path)

    def _variant(self, column: exp.Expr) -> exp.Expr:
        return fn("PARSE_JSON", exp.cast(column, exp.DataType.Type.VARCHAR))

    def _get(self, variant: exp.Expr, path: str, type_name: str) -> exp.Expr:
        """The value at `path` as `type_name`; NULL when missing or not castable."""
        return fn("TRY_VARIANT_GET", variant, lit(path), lit(type_name))

    def _kind_is(self, variant: exp.Expr, kind: str) -> exp.Expr:
        schema = fn("SCHEMA_OF_VARIANT", variant)
        if kind == JSON_NUMBER:
            return exp.RegexpLike(this=schema, expression=lit(self.NUMBER_SCHEMA))
        if kind == JSON_ARRAY:
            return fn("STARTSWITH", schema, lit("ARRAY"))
        return exp.EQ(this=schema, expression=lit({JSON_STRING: "STRING", JSON_BOOLEAN: "BOOLEAN"}[kind]))

    def json_kind_is(self, column: exp.Expr, path: tuple[str, ...], kind: str) -> exp.Expr:
        return self._kind_is(self.json_array_at(column, path), kind)

    def json_text(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return self._get(self._variant(column), self.json_path(path), "STRING")

    def json_array_at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return self._get(self._variant(column), self.json_path(path), "VARIANT")

    def as_json_array(self, column: exp.Expr) -> exp.Expr:
        return self._variant(column)

    def is_json_array(self, array: exp.Expr) -> exp.Expr:
        return self._kind_is(array, JSON_ARRAY)

    def _elements(self, array: exp.Expr) -> exp.Expr:
        """The elements as text (5 → '5'), like DuckDB's VARCHAR[] cast."""
        return self._get(array, "$", "ARRAY<STRING>")

    def array_includes(self, array: exp.Expr, value: str) -> exp.Expr:
        return fn("ARRAY_CONTAINS", self._elements(array), lit(value))

    def array_includes_any(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return fn("ARRAYS_OVERLAP", self._elements(array), fn("ARRAY", *(lit(v) for v in values)))

    def array_includes_all(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.and_(*(self.array_includes(array.copy(), v) for v in values))

    def array_size(self, array: exp.Expr) -> exp.Expr:
        return fn("ARRAY_SIZE", self._get(array, "$", "ARRAY<VARIANT>"))

    def bucket(self, external_id: exp.Expr, salt: str) -> exp.Expr:
        return wide_digits(super().bucket(external_id, salt))


class RedshiftRules(PostgresRules):
    """Redshift: PostgreSQL's SQL, but JSON in SUPER, epochs by interval arithmetic,
    regexes through REGEXP_INSTR, and no RANGE window frames.

    JSON and array columns are SUPER, navigated with PartiQL paths (`col."key"`); keys are
    matched case-sensitively only with `enable_case_sensitive_identifier` on.
    """

    name = "redshift"
    EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    def to_utc(self, value: exp.Expr, unit: str | None) -> exp.Expr:
        """TIMESTAMP 'epoch' + n × INTERVAL: Redshift has no one-argument TO_TIMESTAMP."""
        if unit is None:
            return super().to_utc(value, unit)
        step = exp.Interval(this=lit("1"), unit=exp.var("SECOND" if unit == "epoch_seconds" else "MILLISECOND"))
        return exp.Add(this=self.timestamp(self.EPOCH), expression=exp.Mul(this=value, expression=step))

    def _navigate(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        """PartiQL navigation, one quoted attribute per level (no path syntax to escape)."""
        return exp.Dot.build([column, *(exp.to_identifier(key, quoted=True) for key in path)])

    def _typeof(self, value: exp.Expr, kind: str) -> exp.Expr:
        return exp.EQ(this=fn("JSON_TYPEOF", value), expression=lit(kind))

    def json_kind_is(self, column: exp.Expr, path: tuple[str, ...], kind: str) -> exp.Expr:
        return self._typeof(self._navigate(column, path), kind)

    def json_text(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        """A SUPER string cast to VARCHAR is unquoted; other scalars are serialized ('5', 'true')."""
        at = self._navigate(column, path)
        return exp.If(this=fn("IS_VARCHAR", at), true=exp.cast(at.copy(), exp.DataType.Type.VARCHAR), false=fn("JSON_SERIALIZE", at.copy()))

    def json_array_at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return self._navigate(column, path)

    def as_json_array(self, column: exp.Expr) -> exp.Expr:
        return column

    def is_json_array(self, array: exp.Expr) -> exp.Expr:
        return self._typeof(array, JSON_ARRAY)

    def array_includes(self, array: exp.Expr, value: str) -> exp.Expr:
        """null_match TRUE: an array holding NULLs without the value gives FALSE, not NULL."""
        return fn("ARRAY_CONTAINS", array, lit(value), exp.true())

    def array_includes_any(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.or_(*(self.array_includes(array.copy(), v) for v in values))

    def array_includes_all(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.and_(*(self.array_includes(array.copy(), v) for v in values))

    def array_size(self, array: exp.Expr) -> exp.Expr:
        return fn("GET_ARRAY_LENGTH", array)

    def regex_search(self, value: exp.Expr, pattern: str) -> exp.Expr:
        """REGEXP_INSTR with 'p' (Perl-compatible, like RE2) and 'i' for a leading `(?i)`."""
        body, insensitive = split_case_flag(pattern)
        instr = fn("REGEXP_INSTR", value, lit(body), lit(1), lit(1), lit(0), lit("ip" if insensitive else "p"))
        return exp.GT(this=instr, expression=lit(0))

    def seconds_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        """Redshift's DATEDIFF counts microsecond boundaries, which is exact."""
        micros = fn("DATEDIFF", exp.var("MICROSECOND"), start, end)
        return exp.Div(this=exp.cast(micros, exp.DataType.Type.DOUBLE), expression=lit(1_000_000.0))

    def money(self, value: exp.Expr) -> exp.Expr:
        """The portable explicit ROUND, not PostgreSQL's bare CAST: with `enable_numeric_rounding`
        off a Redshift CAST truncates."""
        return DialectRules.money(self, value)

    def count_at_or_below(self, value: exp.Expr) -> exp.Expr:
        """Rows with a value <= this one, as n − RANK() descending + 1: Redshift has no RANGE frames."""
        rank = exp.Window(this=exp.func("RANK"), order=exp.Order(expressions=[exp.Ordered(this=value, desc=True, nulls_first=False)]))
        return exp.paren(exp.Add(this=exp.Sub(this=exp.Window(this=exp.Count(this=exp.Star())), expression=rank), expression=lit(1)))
