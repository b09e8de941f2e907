# Distilled from github.com/fastapi/full-stack-fastapi-template at 68adb40d37425f6f8668ec7e5a054500d045e43e
# (backend/app/core/config.py); the settings the template requires get defaults so it starts without them.
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file="../.env", env_ignore_empty=True, extra="ignore")
    API_V1_STR: str = "/api/v1"
    PROJECT_NAME: str = "Full Stack FastAPI Project"


settings = Settings()
