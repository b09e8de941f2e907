from .base import *  # noqa: F401,F403

DEBUG = True

SECRET_KEY = 'vm9b2-@g98yxg9rh8*l-%e3k7w$&#jvmflrd$5a^fw!n-%^e31'

ALLOWED_HOSTS = ['*']
