from flask import current_app

from app.main import bp


@bp.route("/")
@bp.route("/index")
def index():
    current_app.logger.info("index requested")
    return "<h1>Microblog</h1><p>Hi, welcome to microblog!</p>"
