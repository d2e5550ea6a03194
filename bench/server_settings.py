"""The project's settings, plus one empty view at /bench/empty (bench/urls.py).

gunicorn serves the API benchmark with these, so the empty view (the floor)
and the API endpoints go through the very same server, middleware, database
and environment; nothing else differs from feedback_site.settings.
"""

from feedback_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
