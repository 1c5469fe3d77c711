"""Read-only views of a project and its warehouse state, returned as typed results."""
