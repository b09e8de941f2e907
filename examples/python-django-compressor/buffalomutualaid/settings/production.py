# Distilled from github.com/CodeForBuffalo/buffalo_mutual_aid at beba21fd9c74f58468f92eba2c69fd0be9a58b80 (buffalomutualaid/settings/production.py).
from .base import *  # noqa: F401,F403
import os

DEBUG = False

env = os.environ.copy()
SECRET_KEY = env['SECRET_KEY']

COMPRESS_OFFLINE = True
COMPRESS_CSS_FILTERS = [
    'compressor.filters.css_default.CssAbsoluteFilter',
    'compressor.filters.cssmin.CSSMinFilter',
]
COMPRESS_CSS_HASHING_METHOD = 'content'

import dj_database_url  # noqa: E402
if 'DATABASE_URL' in os.environ:
    DATABASES['default'] = dj_database_url.config()  # noqa: F405

ALLOWED_HOSTS = ['*']
