"""`segsql docs`: a static site of the project's models that opens offline."""
