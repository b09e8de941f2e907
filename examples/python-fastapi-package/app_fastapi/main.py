# Distilled from github.com/GuselnikovGeorgiy/fastapi_todo at 9bb740fbb5449aa850083e66e571427787edc8de
# (app_fastapi/main.py): the app object lives in a package, so it is served as app_fastapi.main:app.
from fastapi import FastAPI

app = FastAPI()

from app_fastapi.routes import home  # noqa: E402,F401  (registers the routes, as the original does)
