"""`python -m segsql` runs the command line."""

from segsql.cli.main import main

main()
