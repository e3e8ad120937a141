"""Checks of the built distributions, run by ``nox -s build`` (not collected by pytest)."""
