"""The test app's one model."""

from __future__ import annotations

from django.db import models


class Note(models.Model):
    """A row written by each step of the tests."""

    text = models.CharField(max_length=100)

    class Meta:
        app_label = "iamapp"
