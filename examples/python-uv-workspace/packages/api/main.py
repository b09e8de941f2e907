from acme_core import GREETING
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def root() -> str:
    return GREETING
