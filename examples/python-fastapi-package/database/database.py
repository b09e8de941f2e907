todos = ["served from the app_fastapi package"]
