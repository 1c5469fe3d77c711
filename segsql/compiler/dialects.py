"""Where SQL engines differ, one small class per dialect overrides only what differs.

Everything here returns sqlglot expressions; user values enter as literals only. The
base class holds the portable form; a subclass exists only where an engine's semantics
differ from the SPEC's (e.g. Snowflake anchors REGEXP_LIKE at both ends).
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

JSON_STRING, JSON_NUMBER, JSON_BOOLEAN, JSON_ARRAY = "string", "number", "boolean", "array"
EARTH_RADIUS_KM = 6371.0
HEX_DIGITS = "0123456789abcdef"


def lit(value: object) -> exp.Expression:
    """A SQL literal for a Python value (the only way user values enter SQL)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    return exp.Literal.string(str(value))


def split_case_flag(pattern: str) -> tuple[str, bool]:
    """A leading `(?i)` becomes a flag, for engines that take flags as a parameter."""
    if pattern.startswith("(?i)"):
        return pattern[4:], True
    return pattern, False


class DialectRules:
    """The portable SQL form of every construct whose spelling differs between engines."""

    name = "duckdb"
    timestamp_type = exp.DataType.Type.TIMESTAMP

    # -- literals and types -------------------------------------------------------------
    def timestamp(self, moment: dt.datetime) -> exp.Expression:
        """A UTC instant as a naive timestamp literal (all time values are UTC internally)."""
        text = moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return exp.cast(exp.Literal.string(text), self.timestamp_type)

    def to_text(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, exp.DataType.Type.VARCHAR)

    def to_number(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, exp.DataType.Type.DOUBLE)

    def to_boolean(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, exp.DataType.Type.BOOLEAN)

    def to_utc(self, value: exp.Expression, unit: str | None) -> exp.Expression:
        """A time column as a naive UTC timestamp (zoned columns converted, epochs decoded)."""
        if unit == "epoch_seconds":
            return exp.cast(exp.UnixToTime(this=value), self.timestamp_type)
        if unit == "epoch_millis":
            return exp.cast(exp.UnixToTime(this=value, scale=exp.UnixToTime.MILLIS), self.timestamp_type)
        return exp.cast(exp.cast(value, exp.DataType.Type.TIMESTAMPTZ), self.timestamp_type)

    def text_to_utc(self, value: exp.Expression) -> exp.Expression:
        """An ISO-8601 string (from JSON) as a naive UTC timestamp; unparsable → NULL."""
        return exp.cast(exp.TryCast(this=value, to=exp.DataType.build("TIMESTAMPTZ")), self.timestamp_type)

    # -- JSON ---------------------------------------------------------------------------
    def json_path(self, path: tuple[str, ...]) -> str:
        return "$" + "".join(f'."{key}"' for key in path)

    def json_kind_is(self, column: exp.Expression, path: tuple[str, ...], kind: str) -> exp.Expression:
        """True when the JSON value at `path` is of `kind` (strict: no coercion between kinds)."""
        json_type = exp.Anonymous(this="JSON_TYPE", expressions=[column, exp.Literal.string(self.json_path(path))])
        names = {
            JSON_STRING: ["VARCHAR"],
            JSON_NUMBER: ["BIGINT", "UBIGINT", "DOUBLE", "HUGEINT"],
            JSON_BOOLEAN: ["BOOLEAN"],
            JSON_ARRAY: ["ARRAY"],
        }[kind]
        return exp.In(this=json_type, expressions=[exp.Literal.string(n) for n in names])

    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        """The JSON value at `path` as text (strings unquoted)."""
        return exp.Anonymous(this="JSON_EXTRACT_STRING", expressions=[column, exp.Literal.string(self.json_path(path))])

    def json_array_at(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        return exp.Anonymous(this="JSON_EXTRACT", expressions=[column, exp.Literal.string(self.json_path(path))])

    # -- arrays (held as JSON arrays of strings) ----------------------------------------
    def as_json_array(self, column: exp.Expression) -> exp.Expression:
        """A native list or a JSON text column as one JSON value."""
        return exp.cast(column, exp.DataType.build("JSON"))

    def _elements(self, array: exp.Expression) -> exp.Expression:
        return exp.cast(array, exp.DataType.build("VARCHAR[]"))

    def is_json_array(self, array: exp.Expression) -> exp.Expression:
        return exp.EQ(this=exp.Anonymous(this="JSON_TYPE", expressions=[array]), expression=exp.Literal.string("ARRAY"))

    def array_includes(self, array: exp.Expression, value: str) -> exp.Expression:
        return exp.Anonymous(this="LIST_CONTAINS", expressions=[self._elements(array), lit(value)])

    def array_includes_any(self, array: exp.Expression, values: tuple[str, ...]) -> exp.Expression:
        return exp.Anonymous(this="LIST_HAS_ANY", expressions=[self._elements(array), exp.Array(expressions=[lit(v) for v in values])])

    def array_includes_all(self, array: exp.Expression, values: tuple[str, ...]) -> exp.Expression:
        return exp.Anonymous(this="LIST_HAS_ALL", expressions=[self._elements(array), exp.Array(expressions=[lit(v) for v in values])])

    def array_size(self, array: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="JSON_ARRAY_LENGTH", expressions=[array])

    # -- strings ------------------------------------------------------------------------
    def regex_search(self, value: exp.Expression, pattern: str) -> exp.Expression:
        """Unanchored RE2 search honouring a leading `(?i)`."""
        return exp.RegexpLike(this=value, expression=lit(pattern))

    def starts_with(self, value: exp.Expression, prefix: str) -> exp.Expression:
        return exp.StartsWith(this=value, expression=lit(prefix))

    def ends_with(self, value: exp.Expression, suffix: str) -> exp.Expression:
        return exp.EndsWith(this=value, expression=lit(suffix))

    def contains(self, value: exp.Expression, needle: str) -> exp.Expression:
        return exp.GT(this=exp.StrPosition(this=value, substr=lit(needle)), expression=lit(0))

    # -- numbers ------------------------------------------------------------------------
    def bucket(self, external_id: exp.Expression, salt: str) -> exp.Expression:
        """int(first 8 hex digits of md5(salt || id), 16) mod 10000, by portable arithmetic.

        Each hex digit is looked up with POSITION in '0123456789abcdef', so every engine
        computes the same integer without a hex-parsing function of its own.
        """
        digest = exp.MD5(this=exp.DPipe(this=lit(salt), expression=external_id, safe=True))
        total: exp.Expression | None = None
        for i in range(8):
            digit = exp.paren(exp.Sub(
                this=exp.StrPosition(this=lit(HEX_DIGITS), substr=exp.Substring(this=digest.copy(), start=lit(i + 1), length=lit(1))),
                expression=lit(1),
            ))
            term = exp.Mul(this=digit, expression=lit(16 ** (7 - i))) if i < 7 else digit
            total = term if total is None else exp.Add(this=total, expression=term)
        assert total is not None
        return exp.Mod(this=exp.paren(total), expression=lit(10000))

    def haversine_km(self, lat: exp.Expression, lon: exp.Expression, lat0: float, lon0: float) -> exp.Expression:
        """Great-circle distance with R = 6371.0 km; LEAST guards ASIN against rounding above 1."""

        def rad(e: exp.Expression) -> exp.Expression:
            return exp.Anonymous(this="RADIANS", expressions=[e])

        def sin2(e: exp.Expression) -> exp.Expression:
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


class SnowflakeRules(DialectRules):
    """Snowflake: REGEXP_LIKE is anchored, JSON lives in VARIANT, arrays are ARRAY."""

    name = "snowflake"
    timestamp_type = exp.DataType.Type.TIMESTAMPNTZ

    def to_utc(self, value: exp.Expression, unit: str | None) -> exp.Expression:
        if unit is not None:
            return super().to_utc(value, unit)
        converted = exp.Anonymous(this="CONVERT_TIMEZONE", expressions=[exp.Literal.string("UTC"), value])
        return exp.cast(converted, self.timestamp_type)

    def text_to_utc(self, value: exp.Expression) -> exp.Expression:
        parsed = exp.Anonymous(this="TRY_TO_TIMESTAMP_TZ", expressions=[exp.cast(value, exp.DataType.Type.VARCHAR)])
        converted = exp.Anonymous(this="CONVERT_TIMEZONE", expressions=[exp.Literal.string("UTC"), parsed])
        return exp.cast(converted, self.timestamp_type)

    def _variant(self, column: exp.Expression) -> exp.Expression:
        """Native VARIANT or a string holding JSON, as one VARIANT (TO_VARCHAR then parse)."""
        return exp.Anonymous(this="TRY_PARSE_JSON", expressions=[exp.Anonymous(this="TO_VARCHAR", expressions=[column])])

    def json_path(self, path: tuple[str, ...]) -> str:
        return "".join(f'["{key}"]' for key in path)

    def _at(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        return exp.Anonymous(this="GET_PATH", expressions=[self._variant(column), exp.Literal.string(self.json_path(path))])

    def json_kind_is(self, column: exp.Expression, path: tuple[str, ...], kind: str) -> exp.Expression:
        # TO_JSON's first character tells the JSON kind; unlike TYPEOF it also runs on fakesnow.
        first = exp.Substring(this=exp.Anonymous(this="TO_JSON", expressions=[self._at(column, path)]), start=lit(1), length=lit(1))
        chars = {JSON_STRING: '"', JSON_NUMBER: "-0123456789", JSON_BOOLEAN: "tf", JSON_ARRAY: "["}[kind]
        return exp.In(this=first, expressions=[lit(c) for c in chars])

    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        return exp.cast(self._at(column, path), exp.DataType.Type.VARCHAR)

    def json_array_at(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        return self._at(column, path)

    def as_json_array(self, column: exp.Expression) -> exp.Expression:
        return self._variant(column)

    def is_json_array(self, array: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="IS_ARRAY", expressions=[array])

    def array_includes(self, array: exp.Expression, value: str) -> exp.Expression:
        return exp.Anonymous(this="ARRAY_CONTAINS", expressions=[exp.cast(lit(value), exp.DataType.Type.VARIANT), array])

    def array_includes_any(self, array: exp.Expression, values: tuple[str, ...]) -> exp.Expression:
        return exp.Anonymous(this="ARRAYS_OVERLAP", expressions=[array, exp.Anonymous(this="ARRAY_CONSTRUCT", expressions=[lit(v) for v in values])])

    def array_includes_all(self, array: exp.Expression, values: tuple[str, ...]) -> exp.Expression:
        return exp.and_(*(self.array_includes(array.copy(), v) for v in values))

    def array_size(self, array: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="ARRAY_SIZE", expressions=[array])

    def regex_search(self, value: exp.Expression, pattern: str) -> exp.Expression:
        body, insensitive = split_case_flag(pattern)
        instr = exp.Anonymous(
            this="REGEXP_INSTR",
            expressions=[value, lit(body), lit(1), lit(1), lit(0), lit("i" if insensitive else "c")],
        )
        return exp.GT(this=instr, expression=lit(0))

    def starts_with(self, value: exp.Expression, prefix: str) -> exp.Expression:
        return exp.Anonymous(this="STARTSWITH", expressions=[value, lit(prefix)])

    def ends_with(self, value: exp.Expression, suffix: str) -> exp.Expression:
        return exp.Anonymous(this="ENDSWITH", expressions=[value, lit(suffix)])


class PostgresRules(DialectRules):
    """PostgreSQL and Redshift: JSON through jsonb operators (filled in by the engine issue)."""

    name = "postgres"

    def json_kind_is(self, column: exp.Expression, path: tuple[str, ...], kind: str) -> exp.Expression:
        at = exp.JSONBExtract(this=exp.cast(column, exp.DataType.build("JSONB")), expression=exp.Literal.string("{" + ",".join(path) + "}"))
        names = {JSON_STRING: ["string"], JSON_NUMBER: ["number"], JSON_BOOLEAN: ["boolean"], JSON_ARRAY: ["array"]}[kind]
        return exp.In(this=exp.Anonymous(this="JSONB_TYPEOF", expressions=[at]), expressions=[lit(n) for n in names])

    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        return exp.JSONBExtractScalar(this=exp.cast(column, exp.DataType.build("JSONB")), expression=exp.Literal.string("{" + ",".join(path) + "}"))


RULES: dict[str, type[DialectRules]] = {
    "duckdb": DialectRules,
    "snowflake": SnowflakeRules,
    "postgres": PostgresRules,
    "redshift": PostgresRules,
    "bigquery": DialectRules,
    "databricks": DialectRules,
}
COMPILE_DIALECTS = tuple(RULES)


def rules_for(dialect: str) -> DialectRules:
    return RULES[dialect]()
