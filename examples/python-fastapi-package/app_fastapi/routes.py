from app_fastapi.main import app
from database.database import todos


@app.get("/")
def home() -> dict[str, list[str]]:
    return {"todos": todos}
