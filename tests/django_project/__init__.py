"""A minimal Django project on the rds_iam_auth backends, configured from ``RIA_DJANGO_*``.

Django can be configured once per process, so the tests run it in subprocesses:
``python -m tests.django_project.manage <command>`` (see ``harness.py``).
"""
