"""segsql: customer segments and funnels as code, compiled by sqlglot for your warehouse."""

__version__ = "0.1.0"
