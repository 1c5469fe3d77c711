"""`segsql show NAME`: preview a segment's members without writing anything."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from segsql.engines import Adapter, EngineError
from segsql.run.session import Session
from segsql.run.source_check import engine_compiler


@dataclass(frozen=True)
class ShowResult:
    segment: str
    as_of: str
    size: int
    members: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"segment": self.segment, "as_of": self.as_of, "size": self.size, "members": self.members}


def show_segment(session: Session, adapter: Adapter, name: str, limit: int) -> ShowResult:
    compiler = engine_compiler(session, adapter)
    members = compiler.members(name).subquery("m")
    try:
        size = int(adapter.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(members))[0][0])
        rows = adapter.fetch(exp.select("external_user_id").from_(members.copy()).order_by("external_user_id").limit(limit))
    except EngineError as err:  # blamed where the user wrote the segment (a SQL segment: its SQL line)
        raise type(err)(str(err), session.definitions.segments[name].error_location(str(err))) from None
    return ShowResult(name, session.project.as_of, size, [str(r[0]) for r in rows])
