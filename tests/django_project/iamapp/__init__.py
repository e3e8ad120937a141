"""One model and its migration, so that ``migrate`` creates a table and queries use it."""
