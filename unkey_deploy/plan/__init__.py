"""Build plans: what an app is and how to build and start it.

    from unkey_deploy.plan import make_plan
    plan = make_plan(Path("."), root_dir="apps/api")
    plan.to_json()

Each ecosystem is a unit in buildpacks/<name>.yaml plus a provider module here named after it
(node.py, python.py, ...) with `plan(ctx) -> Plan` and optionally `detect(src, pack)` and
`refine(plan, ctx)`. DETECTION_ORDER decides which one wins when several match.
"""

from unkey_deploy.plan._engine import DETECTION_ORDER, make_plan
from unkey_deploy.plan._images import ImageMap, load_image_map
from unkey_deploy.plan._model import CONTEXT, DEFAULT_PORT, FrontendStage, Plan, Recipe

__all__ = [
    "CONTEXT", "DEFAULT_PORT", "DETECTION_ORDER", "FrontendStage", "ImageMap", "Plan", "Recipe", "load_image_map",
    "make_plan",
]
