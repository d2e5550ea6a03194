"""The project's URLs plus an empty view: the floor of the API benchmark."""

from django.http import HttpResponse
from django.urls import path

from feedback_site import urls as project_urls


def empty(request):
    return HttpResponse(b"", content_type="text/plain")


urlpatterns = [path("bench/empty", empty, name="bench_empty"), *project_urls.urlpatterns]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
