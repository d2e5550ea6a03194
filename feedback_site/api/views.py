"""API endpoints that belong to no app: token sign-in and the documentation."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpResponse
from django.template import Context, Engine
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback_site.api.schema import RETRY_AFTER_HEADER, error_responses
from feedback_site.api.serializers import StrictCharField, StrictInputSerializer
from feedback_site.api.throttles import SignInRateLimit


class TokenObtainApi(APIView):
    """Exchange a username and password for the user's API token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [SignInRateLimit]
    throttle_scope = "token_obtain"

    class TokenObtainInputSerializer(StrictInputSerializer):
        username = StrictCharField(max_length=150)
        password = StrictCharField(max_length=4096, style={"input_type": "password"})

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        summary="Get your API token",
        description=(
            "Returns the user's token (the same one on every call). Send it as `Authorization: Token <token>`. "
            "Staff can also create tokens in the admin."
        ),
        auth=[],
        parameters=[RETRY_AFTER_HEADER],
        request=TokenObtainInputSerializer,
        responses={
            200: OpenApiResponse(
                inline_serializer("TokenOutput", {"token": serializers.CharField()}), description="The token."
            ),
            **error_responses(413, 415),
        },
        examples=[OpenApiExample("sign in", value={"username": "learner", "password": "…"}, request_only=True)],
    )
    def post(self, request):
        serializer = self.TokenObtainInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise serializers.ValidationError("Unable to sign in with these credentials.")
        # A successful sign-in, as the login page's: resets the lock-out count
        # of this username (django-axes) and sets last_login.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


def _swagger_ui_is_local() -> bool:
    return settings.SPECTACULAR_SETTINGS.get("SWAGGER_UI_DIST") == "SIDECAR"


_DOCS_PAGE = Engine(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:.6rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}
code,.p{font-family:monospace}.codes{color:#555;font-size:13px}
</style></head><body>
<h1>{{ title }} <small>{{ version }}</small></h1>
<p>{{ description }}</p>
<p>The OpenAPI 3 schema: <a href="{{ schema_url }}">{{ schema_url }}</a>
(<a href="{{ schema_url }}?format=json">JSON</a>). Load it into any OpenAPI tool to explore or generate a client.</p>
{% for op in operations %}<div class="op"><span class="m">{{ op.method }}</span> <span class="p">{{ op.path }}</span>
 — {{ op.summary }}<div>{{ op.description }}</div>
<div class="codes">responses: {{ op.codes|join:", " }}</div></div>{% endfor %}
</body></html>""")


@require_GET
def api_docs(request):
    """Swagger UI when its assets are installed locally (drf-spectacular-sidecar);
    otherwise a plain page listing every operation, built from the same schema.
    Never loads anything from a CDN."""
    if _swagger_ui_is_local():
        return SpectacularSwaggerView.as_view(url_name="api:schema")(request)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "codes": sorted(operation.get("responses", {})),
        }
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    info = schema["info"]
    return HttpResponse(_DOCS_PAGE.render(Context({
        "title": info.get("title", "API"),
        "version": info.get("version", ""),
        "description": info.get("description", ""),
        "schema_url": request.build_absolute_uri(reverse("api:schema")),
        "operations": operations,
    })))
