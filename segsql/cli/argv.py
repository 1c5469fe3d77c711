"""Global options may follow the command, as dbt users type them (`segsql run --target prod`).

click only reads a group's options before the command name; this moves them there, so
`segsql run --target prod` and `segsql --target prod run` mean the same thing.
"""

from __future__ import annotations

#: the group's options that take a value, and its flags (segsql/cli/main.py `cli`)
VALUED = ("--project-dir", "--profiles-dir", "--target", "-t", "--vars")
FLAGS = ("--debug",)


def _is_global(arg: str) -> bool:
    return arg in VALUED or arg in FLAGS or any(arg.startswith(f"{name}=") for name in VALUED if name.startswith("--"))


def hoist_global_options(args: list[str]) -> list[str]:
    """The same arguments with every global option placed before the command name."""
    front: list[str] = []
    position = 0
    while position < len(args) and args[position].startswith("-"):  # options already in front
        front.append(args[position])
        position += 1
        if front[-1] in VALUED and position < len(args):
            front.append(args[position])
            position += 1
    if position >= len(args):
        return list(args)
    command, rest = args[position], args[position + 1 :]
    moved: list[str] = []
    kept: list[str] = []
    index = 0
    while index < len(rest):
        arg = rest[index]
        if arg == "--":  # everything after a bare -- is an argument
            kept.extend(rest[index:])
            break
        if _is_global(arg):
            moved.append(arg)
            if arg in VALUED and index + 1 < len(rest):
                moved.append(rest[index + 1])
                index += 1
        else:
            kept.append(arg)
        index += 1
    return [*front, *moved, command, *kept]
