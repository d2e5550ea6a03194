"""Imported once by the scoring sandbox's fork server (scoring/sandbox.py):
Django and the scorers are loaded there, so every child forked from it
starts with them in memory instead of importing them per job."""

import contextlib

import django
from django.conf import settings

django.setup()


def _load_configured_scorer() -> None:
    from scoring.scorers import load_scorer  # after setup: a scorer may import models

    # A wrong SCORER fails `manage.py check`; here the child reports it per job.
    with contextlib.suppress(Exception):
        load_scorer(settings.SCORER)


_load_configured_scorer()
