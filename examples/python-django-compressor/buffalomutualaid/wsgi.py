# Distilled from github.com/CodeForBuffalo/buffalo_mutual_aid at beba21fd9c74f58468f92eba2c69fd0be9a58b80: the server loads the production
# settings (the deployed app had DJANGO_SETTINGS_MODULE set to them).
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buffalomutualaid.settings.production")

application = get_wsgi_application()
