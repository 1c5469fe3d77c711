"""The command line: a thin click layer over the run and reports packages."""
