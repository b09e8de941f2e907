# Distilled from github.com/miguelgrinberg/microblog at a975ef64864354867c88e0ed3a17ba7d17dca752 (microblog.py).
from app import create_app

app = create_app()
