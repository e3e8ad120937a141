"""Benchmarks for rds_iam_auth against the boto3 recipe from the AWS guide (issue #5).

Run with ``python -m benchmarks`` (or ``nox -s bench``) from the repository root. Every
comparison alternates runs (ours, recipe, ours, recipe, ...) in one process on one machine
and reports ratios of medians; results go to ``benchmarks/results/latest.json``. These are
not tests and are never collected by pytest.
"""
