from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "change-me"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "mysite.urls"
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
