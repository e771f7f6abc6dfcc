# A minimal Django project serving django-scim2 (an independent SCIM 2.0
# implementation from PyPI) for tests/it/django_scim2.rs. Everything SCIM is
# django-scim2's own; this file only wires it up: its documented custom
# user and group models, a bearer token, and a SQLite file per test run.
import os

SECRET_KEY = "scimitar-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_scim", "app"]
MIDDLEWARE = ["app.auth.BearerTokenMiddleware", "django_scim.middleware.SCIMAuthCheckMiddleware"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["SCIM_DB"],
        "OPTIONS": {"timeout": 30},
    }
}
AUTH_USER_MODEL = "app.User"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
SCIM_TOKEN = os.environ["SCIM_TOKEN"]
SCIM_SERVICE_PROVIDER = {
    "NETLOC": os.environ["SCIM_NETLOC"],
    "SCHEME": "http",
    "GROUP_MODEL": "app.models.Group",
    "AUTHENTICATION_SCHEMES": [
        {"type": "oauthbearertoken", "name": "Bearer token", "description": "A static bearer token"}
    ],
}
