# Distilled from github.com/daanrod/ToDo_API_FastAPI at 6d173acda81875a8d0212def9ba7ab95c4586cd1 (main.py):
# a FastAPI app whose requirements.txt was written by `pip freeze` in PowerShell (UTF-16 with a BOM).
from fastapi import FastAPI

app = FastAPI()

todos: list[str] = ["read requirements.txt as UTF-16"]


@app.get("/")
def list_todos() -> dict[str, list[str]]:
    return {"todos": todos}
