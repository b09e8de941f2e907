# Distilled from github.com/fastapi/full-stack-fastapi-template at 68adb40d37425f6f8668ec7e5a054500d045e43e
# (backend/app/main.py).
from fastapi import FastAPI

from app.api.main import api_router
from app.core.config import settings

app = FastAPI(title=settings.PROJECT_NAME, openapi_url=f"{settings.API_V1_STR}/openapi.json")
app.include_router(api_router, prefix=settings.API_V1_STR)
