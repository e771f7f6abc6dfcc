# django-scim2 leaves authentication to the project: a request with the
# configured bearer token is a logged-in client, anything else anonymous.
import hmac

from django.conf import settings
from django.contrib.auth.models import AnonymousUser


class _Client:
    is_authenticated = True
    is_active = True
    pk = None


class BearerTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("Authorization", "")
        wanted = "Bearer " + settings.SCIM_TOKEN
        ok = hmac.compare_digest(given.encode(), wanted.encode())
        request.user = _Client() if ok else AnonymousUser()
        return self.get_response(request)
