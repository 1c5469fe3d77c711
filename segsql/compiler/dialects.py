"""Where SQL engines differ, one small class per dialect overrides only what differs.

Everything here returns sqlglot expressions; user values enter as literals only. The
base class holds the portable form; a subclass exists only where an engine's semantics
differ from the SPEC's (e.g. Snowflake anchors REGEXP_LIKE at both ends).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlglot import exp

JSON_STRING, JSON_NUMBER, JSON_BOOLEAN, JSON_ARRAY = "string", "number", "boolean", "array"
EARTH_RADIUS_KM = 6371.0
HEX_DIGITS = "0123456789abcdef"


def lit(value: object) -> exp.Expr:
    """A SQL literal for a Python value (the only way user values enter SQL)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    return exp.Literal.string(str(value))


def decimal_text(value: int | float | Decimal) -> str:
    """A number as the plain decimal a user wrote: a float by its shortest form (0.3, not
    0.299999…), never with an exponent, so that an engine reads it as an exact decimal."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return format(number, "f")


def decimal_cast(value: exp.Expr, to: str | exp.DType) -> exp.Expr:
    """CAST to a decimal type always: `exp.cast` drops a CAST to DECIMAL(38, 6) of a value that
    is already some DECIMAL, whatever its precision and scale."""
    return exp.Cast(this=value, to=exp.DataType.build(to))


def split_case_flag(pattern: str) -> tuple[str, bool]:
    """A leading `(?i)` becomes a flag, for engines that take flags as a parameter."""
    if pattern.startswith("(?i)"):
        return pattern[4:], True
    return pattern, False


class DialectRules:
    """The portable SQL form of every construct whose spelling differs between engines."""

    name = "duckdb"
    timestamp_type = exp.DataType.Type.TIMESTAMP
    #: Engine type names (upper case) of naive timestamps: in the UTC session they are UTC
    #: instants already, so `to_utc` would be the identity and is skipped (see ColumnTypes).
    naive_timestamps = frozenset({"TIMESTAMP"})
    #: `ASOF LEFT JOIN` finds each row's earliest match at or after a time by a merge, without
    #: a window (funnel chains); engines without it use the window form.
    asof_join = False
    #: the DATE_TRUNC unit of a week starting on Monday (cohort periods, SPEC 8.2)
    week_unit = "WEEK"

    # -- literals and types -------------------------------------------------------------
    def timestamp(self, moment: dt.datetime) -> exp.Expr:
        """A UTC instant as a naive timestamp literal (all time values are UTC internally)."""
        text = moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return exp.cast(exp.Literal.string(text), self.timestamp_type)

    def to_text(self, value: exp.Expr) -> exp.Expr:
        return exp.cast(value, exp.DataType.Type.VARCHAR)

    def to_number(self, value: exp.Expr) -> exp.Expr:
        return exp.cast(value, exp.DataType.Type.DOUBLE)

    def to_boolean(self, value: exp.Expr) -> exp.Expr:
        return exp.cast(value, exp.DataType.Type.BOOLEAN)

    def to_utc(self, value: exp.Expr, unit: str | None) -> exp.Expr:
        """A time column as a naive UTC timestamp (zoned columns converted, epochs decoded)."""
        if unit == "epoch_seconds":
            return exp.cast(exp.UnixToTime(this=value), self.timestamp_type)
        if unit == "epoch_millis":
            return exp.cast(exp.UnixToTime(this=value, scale=exp.UnixToTime.MILLIS), self.timestamp_type)
        return exp.cast(exp.cast(value, exp.DataType.Type.TIMESTAMPTZ), self.timestamp_type)

    def text_to_utc(self, value: exp.Expr) -> exp.Expr:
        """An ISO-8601 string (from JSON) as a naive UTC timestamp; unparsable → NULL."""
        return exp.cast(exp.TryCast(this=value, to=exp.DataType.build("TIMESTAMPTZ")), self.timestamp_type)

    # -- JSON ---------------------------------------------------------------------------
    def json_path(self, path: tuple[str, ...]) -> str:
        return "$" + "".join(f'."{key}"' for key in path)

    def json_kind_is(self, column: exp.Expr, path: tuple[str, ...], kind: str) -> exp.Expr:
        """True when the JSON value at `path` is of `kind` (strict: no coercion between kinds)."""
        json_type = exp.Anonymous(this="JSON_TYPE", expressions=[column, exp.Literal.string(self.json_path(path))])
        names = {
            JSON_STRING: ["VARCHAR"],
            JSON_NUMBER: ["BIGINT", "UBIGINT", "DOUBLE", "HUGEINT"],
            JSON_BOOLEAN: ["BOOLEAN"],
            JSON_ARRAY: ["ARRAY"],
        }[kind]
        return exp.In(this=json_type, expressions=[exp.Literal.string(n) for n in names])

    def json_text(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        """The JSON value at `path` as text (strings unquoted)."""
        return exp.Anonymous(this="JSON_EXTRACT_STRING", expressions=[column, exp.Literal.string(self.json_path(path))])

    def json_array_at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return exp.Anonymous(this="JSON_EXTRACT", expressions=[column, exp.Literal.string(self.json_path(path))])

    def json_number(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        """The JSON number at `path` as a number; NULL for a value of another kind (strict)."""
        return exp.If(this=self.json_kind_is(column, path, JSON_NUMBER), true=self.to_number(self.json_text(column.copy(), path)))

    # -- arrays (held as JSON arrays of strings) ----------------------------------------
    def as_json_array(self, column: exp.Expr) -> exp.Expr:
        """A native list or a JSON text column as one JSON value."""
        return exp.cast(column, exp.DataType.build("JSON"))

    def _elements(self, array: exp.Expr) -> exp.Expr:
        return exp.cast(array, exp.DataType.build("VARCHAR[]"))

    def is_json_array(self, array: exp.Expr) -> exp.Expr:
        return exp.EQ(this=exp.Anonymous(this="JSON_TYPE", expressions=[array]), expression=exp.Literal.string("ARRAY"))

    def array_includes(self, array: exp.Expr, value: str) -> exp.Expr:
        return exp.Anonymous(this="LIST_CONTAINS", expressions=[self._elements(array), lit(value)])

    def array_includes_any(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.Anonymous(this="LIST_HAS_ANY", expressions=[self._elements(array), exp.Array(expressions=[lit(v) for v in values])])

    def array_includes_all(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.Anonymous(this="LIST_HAS_ALL", expressions=[self._elements(array), exp.Array(expressions=[lit(v) for v in values])])

    def array_size(self, array: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="JSON_ARRAY_LENGTH", expressions=[array])

    # -- strings ------------------------------------------------------------------------
    def regex_search(self, value: exp.Expr, pattern: str) -> exp.Expr:
        """Unanchored RE2 search honouring a leading `(?i)`."""
        return exp.RegexpLike(this=value, expression=lit(pattern))

    def starts_with(self, value: exp.Expr, prefix: str) -> exp.Expr:
        return exp.StartsWith(this=value, expression=lit(prefix))

    def ends_with(self, value: exp.Expr, suffix: str) -> exp.Expr:
        return exp.EndsWith(this=value, expression=lit(suffix))

    def contains(self, value: exp.Expr, needle: str) -> exp.Expr:
        return exp.GT(this=exp.StrPosition(this=value, substr=lit(needle)), expression=lit(0))

    # -- numbers ------------------------------------------------------------------------
    def bucket(self, external_id: exp.Expr, salt: str) -> exp.Expr:
        """int(first 8 hex digits of md5(salt || id), 16) mod 10000, by portable arithmetic.

        Each hex digit is looked up with POSITION in '0123456789abcdef', so every engine
        computes the same integer without a hex-parsing function of its own.
        """
        digest = exp.MD5(this=exp.DPipe(this=lit(salt), expression=external_id, safe=True))
        total: exp.Expr | None = None
        for i in range(8):
            digit = exp.paren(exp.Sub(
                this=exp.StrPosition(this=lit(HEX_DIGITS), substr=exp.Substring(this=digest.copy(), start=lit(i + 1), length=lit(1))),
                expression=lit(1),
            ))
            term = exp.Mul(this=digit, expression=lit(16 ** (7 - i))) if i < 7 else digit
            total = term if total is None else exp.Add(this=total, expression=term)
        assert total is not None
        return exp.Mod(this=exp.paren(total), expression=lit(10000))

    def seconds_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        """`end − start` in seconds, fractions kept (microsecond steps are counted exactly)."""
        micros = exp.TimestampDiff(this=end, expression=start, unit=exp.var("MICROSECOND"))
        return exp.Div(this=exp.cast(micros, exp.DataType.Type.DOUBLE), expression=lit(1_000_000.0))

    # -- exact money (SPEC 3.4: sum, avg, revenue and RFM monetary add decimals) ---------
    #: What every summed value is rounded to (half away from zero) and added as.
    money_type = "DECIMAL(38, 6)"
    #: Room for a value's own digits (a price, price × quantity) before it is rounded.
    exact_type = "DECIMAL(38, 12)"

    def exact(self, value: exp.Expr) -> exp.Expr:
        """A number as a decimal with 12 places, so that a product of it is exact."""
        return decimal_cast(value, self.exact_type)

    def as_money(self, value: exp.Expr) -> exp.Expr:
        """CAST to the money type, for a value that is money already or must become it."""
        return decimal_cast(value, self.money_type)

    def money(self, value: exp.Expr) -> exp.Expr:
        """A number (of any numeric type, or numeric text) rounded half away from zero to 6
        places. ROUND is explicit because what CAST does to the digits it drops differs:
        Redshift truncates when `enable_numeric_rounding` is off, Snowflake does not say."""
        return self.as_money(exp.Round(this=self.exact(value), decimals=lit(6)))

    def json_money(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        """The JSON number at `path` as money; NULL for a value of another kind (strict)."""
        return exp.If(this=self.json_kind_is(column, path, JSON_NUMBER), true=self.money(self.json_text(column.copy(), path)))

    def money_literal(self, value: int | float | Decimal) -> exp.Expr:
        """A comparison value as the exact decimal it is written as (a bare 0.3 is exact here)."""
        return exp.Literal.number(decimal_text(value))

    # -- windows ------------------------------------------------------------------------
    def count_at_or_below(self, value: exp.Expr) -> exp.Expr:
        """Rows whose `value` is <= this row's, ties included: CUME_DIST's numerator, exact."""
        return exp.Window(
            this=exp.Count(this=exp.Star()),
            order=exp.Order(expressions=[exp.Ordered(this=value)]),
            spec=exp.WindowSpec(kind="RANGE", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
        )

    def haversine_km(self, lat: exp.Expr, lon: exp.Expr, lat0: float, lon0: float) -> exp.Expr:
        """Great-circle distance with R = 6371.0 km; LEAST guards ASIN against rounding above 1."""

        def rad(e: exp.Expr) -> exp.Expr:
            return exp.Anonymous(this="RADIANS", expressions=[e])

        def sin2(e: exp.Expr) -> exp.Expr:
            return exp.Pow(this=exp.Anonymous(this="SIN", expressions=[exp.Div(this=e, expression=lit(2.0))]), expression=lit(2))

        dlat = rad(exp.paren(exp.Sub(this=lat, expression=lit(lat0))))
        dlon = rad(exp.paren(exp.Sub(this=lon, expression=lit(lon0))))
        cosines = exp.Mul(
            this=exp.Mul(this=exp.Anonymous(this="COS", expressions=[rad(lit(lat0))]), expression=exp.Anonymous(this="COS", expressions=[rad(lat)])),
            expression=sin2(dlon),
        )
        inner = exp.Least(this=lit(1.0), expressions=[exp.Add(this=sin2(dlat), expression=cosines)])
        return exp.Mul(
            this=lit(2 * EARTH_RADIUS_KM),
            expression=exp.Anonymous(this="ASIN", expressions=[exp.Sqrt(this=inner)]),
        )


class DuckDBRules(DialectRules):
    """DuckDB: the base rules, plus a JSON number read with one parse of the document and ASOF joins."""

    asof_join = True

    def json_number(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        # JSON_VALUE gives a scalar's JSON text: a number bare, a string with its quotes, true /
        # false as words, so only a JSON number survives TRY_CAST to DOUBLE; JSON_TYPE plus
        # JSON_EXTRACT_STRING parse the document twice (~5 % of a 10M-event scan, bench/README).
        value = exp.Anonymous(this="JSON_VALUE", expressions=[column, exp.Literal.string(self.json_path(path))])
        return exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))

    def money(self, value: exp.Expr) -> exp.Expr:
        # DuckDB's CAST to DECIMAL rounds half away from zero from DOUBLE, DECIMAL and VARCHAR
        # alike (tests/compiler/test_money.py runs it), so no ROUND is needed.
        return self.as_money(value)

    def json_money(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        # As json_number: only a bare JSON number's text survives TRY_CAST (a string keeps its quotes).
        value = exp.Anonymous(this="JSON_VALUE", expressions=[column, exp.Literal.string(self.json_path(path))])
        return exp.TryCast(this=value, to=exp.DataType.build(self.money_type))


class SnowflakeRules(DialectRules):
    """Snowflake: REGEXP_LIKE is anchored, JSON lives in VARIANT, arrays are ARRAY."""

    name = "snowflake"
    timestamp_type = exp.DataType.Type.TIMESTAMPNTZ
    naive_timestamps = frozenset({"TIMESTAMP_NTZ"})

    def to_utc(self, value: exp.Expr, unit: str | None) -> exp.Expr:
        if unit is not None:
            return super().to_utc(value, unit)
        converted = exp.Anonymous(this="CONVERT_TIMEZONE", expressions=[exp.Literal.string("UTC"), value])
        return exp.cast(converted, self.timestamp_type)

    def text_to_utc(self, value: exp.Expr) -> exp.Expr:
        parsed = exp.TryCast(this=exp.cast(value, exp.DataType.Type.VARCHAR), to=exp.DataType.build("TIMESTAMP_TZ", dialect="snowflake"))
        converted = exp.Anonymous(this="CONVERT_TIMEZONE", expressions=[exp.Literal.string("UTC"), parsed])
        return exp.cast(converted, self.timestamp_type)

    def _variant(self, column: exp.Expr) -> exp.Expr:
        """Native VARIANT or a string holding JSON, as one VARIANT (TO_VARCHAR then parse)."""
        return exp.Anonymous(this="TRY_PARSE_JSON", expressions=[exp.Anonymous(this="TO_VARCHAR", expressions=[column])])

    def json_path(self, path: tuple[str, ...]) -> str:
        return "".join(f'["{key}"]' for key in path)

    def _at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return exp.Anonymous(this="GET_PATH", expressions=[self._variant(column), exp.Literal.string(self.json_path(path))])

    def json_kind_is(self, column: exp.Expr, path: tuple[str, ...], kind: str) -> exp.Expr:
        # TO_JSON's first character tells the JSON kind; unlike TYPEOF it also runs on fakesnow.
        first = exp.Substring(this=exp.Anonymous(this="TO_JSON", expressions=[self._at(column, path)]), start=lit(1), length=lit(1))
        chars = {JSON_STRING: '"', JSON_NUMBER: "-0123456789", JSON_BOOLEAN: "tf", JSON_ARRAY: "["}[kind]
        return exp.In(this=first, expressions=[lit(c) for c in chars])

    def json_text(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return exp.cast(self._at(column, path), exp.DataType.Type.VARCHAR)

    def json_array_at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return self._at(column, path)

    def json_money(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        """The VARIANT number itself is cast (no detour through its text)."""
        return exp.If(this=self.json_kind_is(column, path, JSON_NUMBER), true=self.money(self._at(column.copy(), path)))

    def as_json_array(self, column: exp.Expr) -> exp.Expr:
        return self._variant(column)

    def is_json_array(self, array: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="IS_ARRAY", expressions=[array])

    def array_includes(self, array: exp.Expr, value: str) -> exp.Expr:
        return exp.Anonymous(this="ARRAY_CONTAINS", expressions=[exp.cast(lit(value), exp.DataType.Type.VARIANT), array])

    def array_includes_any(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.Anonymous(this="ARRAYS_OVERLAP", expressions=[array, exp.Anonymous(this="ARRAY_CONSTRUCT", expressions=[lit(v) for v in values])])

    def array_includes_all(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.and_(*(self.array_includes(array.copy(), v) for v in values))

    def array_size(self, array: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="ARRAY_SIZE", expressions=[array])

    def regex_search(self, value: exp.Expr, pattern: str) -> exp.Expr:
        body, insensitive = split_case_flag(pattern)
        instr = exp.Anonymous(
            this="REGEXP_INSTR",
            expressions=[value, lit(body), lit(1), lit(1), lit(0), lit("i" if insensitive else "c")],
        )
        return exp.GT(this=instr, expression=lit(0))

    def starts_with(self, value: exp.Expr, prefix: str) -> exp.Expr:
        return exp.Anonymous(this="STARTSWITH", expressions=[value, lit(prefix)])

    def ends_with(self, value: exp.Expr, suffix: str) -> exp.Expr:
        return exp.Anonymous(this="ENDSWITH", expressions=[value, lit(suffix)])


class PostgresRules(DialectRules):
    """PostgreSQL (and the base of Redshift's rules): JSON through jsonb functions, arrays as JSON arrays.

    JSON columns may be JSONB, JSON or text holding JSON: every use goes through
    CAST(col AS JSONB). Time values are converted explicitly with AT TIME ZONE 'UTC'
    (TO_TIMESTAMP and TIMESTAMPTZ are zoned); naive columns are UTC already.
    """

    name = "postgres"
    naive_timestamps = frozenset({"TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE"})
    #: The ISO-8601 forms Python's `datetime.fromisoformat` reads; anything else (PostgreSQL
    #: would also read 'yesterday' or 'epoch') is not a time, so missing.
    ISO_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"

    def _utc(self, zoned: exp.Expr) -> exp.Expr:
        """A TIMESTAMPTZ as the naive UTC timestamp of the same instant."""
        return exp.AtTimeZone(this=zoned, zone=exp.Literal.string("UTC"))

    def to_utc(self, value: exp.Expr, unit: str | None) -> exp.Expr:
        if unit == "epoch_seconds":
            return self._utc(exp.Anonymous(this="TO_TIMESTAMP", expressions=[exp.cast(value, exp.DataType.Type.DOUBLE)]))
        if unit == "epoch_millis":
            seconds = exp.Div(this=exp.cast(value, exp.DataType.Type.DOUBLE), expression=lit(1000.0))
            return self._utc(exp.Anonymous(this="TO_TIMESTAMP", expressions=[seconds]))
        return self._utc(exp.cast(value, exp.DataType.Type.TIMESTAMPTZ))

    def text_to_utc(self, value: exp.Expr) -> exp.Expr:
        """PostgreSQL has no TRY_CAST: only text of an ISO-8601 shape is cast."""
        text = exp.cast(value, exp.DataType.Type.VARCHAR)
        iso = exp.RegexpLike(this=text, expression=lit(self.ISO_TIME))
        return exp.If(this=iso, true=self._utc(exp.cast(text.copy(), exp.DataType.Type.TIMESTAMPTZ)))

    # -- JSON -----------------------------------------------------------------------------
    def _jsonb(self, column: exp.Expr) -> exp.Expr:
        return exp.cast(column, exp.DataType.build("JSONB"))

    def _at(self, column: exp.Expr, path: tuple[str, ...], function: str = "JSONB_EXTRACT_PATH") -> exp.Expr:
        """The value at `path`, one key literal per level (no path syntax to escape)."""
        return exp.Anonymous(this=function, expressions=[self._jsonb(column), *(lit(key) for key in path)])

    def json_kind_is(self, column: exp.Expr, path: tuple[str, ...], kind: str) -> exp.Expr:
        names = {JSON_STRING: "string", JSON_NUMBER: "number", JSON_BOOLEAN: "boolean", JSON_ARRAY: "array"}[kind]
        return exp.EQ(this=exp.Anonymous(this="JSONB_TYPEOF", expressions=[self._at(column, path)]), expression=lit(names))

    def json_text(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return self._at(column, path, "JSONB_EXTRACT_PATH_TEXT")

    def json_array_at(self, column: exp.Expr, path: tuple[str, ...]) -> exp.Expr:
        return self._at(column, path)

    # -- arrays (JSONB arrays; elements compared as text, like DuckDB's VARCHAR[] cast) ---
    def as_json_array(self, column: exp.Expr) -> exp.Expr:
        return self._jsonb(column)

    def is_json_array(self, array: exp.Expr) -> exp.Expr:
        return exp.EQ(this=exp.Anonymous(this="JSONB_TYPEOF", expressions=[array]), expression=lit("array"))

    def _has_element(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        """EXISTS an element whose text (strings unquoted, 5 → '5') is one of `values`."""
        elements = exp.Table(
            this=exp.Anonymous(this="JSONB_ARRAY_ELEMENTS_TEXT", expressions=[array]),
            alias=exp.TableAlias(this=exp.to_identifier("__el"), columns=[exp.to_identifier("v")]),
        )
        match = exp.In(this=exp.column("v", table="__el"), expressions=[lit(v) for v in values])
        return exp.Exists(this=exp.select(lit(1)).from_(elements).where(match))

    def array_includes(self, array: exp.Expr, value: str) -> exp.Expr:
        return self._has_element(array, (value,))

    def array_includes_any(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return self._has_element(array, values)

    def array_includes_all(self, array: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        return exp.and_(*(self._has_element(array.copy(), (v,)) for v in values))

    def array_size(self, array: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="JSONB_ARRAY_LENGTH", expressions=[array])

    # -- numbers --------------------------------------------------------------------------
    def money(self, value: exp.Expr) -> exp.Expr:
        """CAST to NUMERIC(38, 6) rounds half away from zero from numeric, float8 (by its
        15-digit text) and text; PostgreSQL has no ROUND(double precision, int) anyway."""
        return self.as_money(value)

    def bucket(self, external_id: exp.Expr, salt: str) -> exp.Expr:
        """The portable form with each digit as BIGINT: 15 × 16^7 overflows PostgreSQL's INTEGER."""
        return super().bucket(external_id, salt).transform(
            lambda node: exp.cast(node, exp.DataType.Type.BIGINT) if isinstance(node, exp.StrPosition) and node.this.is_string else node,
            copy=False,
        )

    def seconds_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        """PostgreSQL has no TIMESTAMPDIFF: the epoch of the interval between the two."""
        return exp.cast(exp.Extract(this=exp.var("EPOCH"), expression=exp.paren(exp.Sub(this=end, expression=start))), exp.DataType.Type.DOUBLE)

    # -- strings --------------------------------------------------------------------------
    def regex_search(self, value: exp.Expr, pattern: str) -> exp.Expr:
        """`~` is an unanchored ARE search; a leading `(?i)` is an ARE embedded option."""
        return exp.RegexpLike(this=value, expression=lit(pattern))

    def starts_with(self, value: exp.Expr, prefix: str) -> exp.Expr:
        return exp.EQ(this=exp.Left(this=value, expression=lit(len(prefix))), expression=lit(prefix))

    def ends_with(self, value: exp.Expr, suffix: str) -> exp.Expr:
        """PostgreSQL has no ENDS_WITH; RIGHT(v, 0) is '' so an empty suffix always matches."""
        return exp.EQ(this=exp.Right(this=value, expression=lit(len(suffix))), expression=lit(suffix))
