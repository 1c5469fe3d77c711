"""Reading a project folder: Jinja rendering, YAML with line numbers, profiles, config."""

from segsql.project.loader import LoadedProject, ModelFile, load_project

__all__ = ["LoadedProject", "ModelFile", "load_project"]
