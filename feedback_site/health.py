from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def liveness(request):
    """The process answers; readiness of its dependencies is checked elsewhere."""
    return JsonResponse({"status": "ok"})
