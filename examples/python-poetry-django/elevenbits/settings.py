# Distilled from github.com/jw/zink at b1bcce059b85d28547e6b1b52a92c752fdf95211 (elevenbits/settings.py).
import os
from pathlib import Path

import dj_database_url
from dotenv import load_dotenv

load_dotenv()

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["SECRET_KEY"]

DEBUG = bool(os.environ.get("DEBUG", False))
RENDER = os.environ.get("RENDER", False)

ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "core",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "elevenbits.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    },
]

WSGI_APPLICATION = "elevenbits.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"postgresql://{os.getenv('POSTGRES_USER', default='zink')}:"
        f"{os.getenv('POSTGRES_PASSWORD', default='zink')}@"
        f"{os.getenv('POSTGRES_HOST', default='localhost')}:"
        f"{os.getenv('POSTGRES_PORT', default=5432)}/"
        f"{os.getenv('POSTGRES_DB', default='zink')}",
        conn_max_age=600,
    )
}

USE_TZ = True

STATIC_URL = "static/"

if RENDER:
    # Tell Django to copy statics to the `staticfiles` directory
    # in your application directory on Render.
    STATIC_ROOT = BASE_DIR / "staticfiles"
    STATICFILES_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
