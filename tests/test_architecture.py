"""The package's dependency rules, read from the code (every `import`, top-level or inside a function).

- The stages before the deployment (source, plan, Dockerfile, unkey.yaml) import nothing from `api/`, `image/`,
  `local/`, `cli/` or the pipeline; `image/` nothing from `api/`, `local/` or `cli/`; `api/` and `local/`
  nothing from `cli/`.
- No command module imports another command module (`cli/main.py` registers them all; shared plumbing lives in
  `cli/_*.py` and `cli/options.py`), and the shared CLI modules import no command module.
- A package's `_private` modules are used only inside that package.
- unkey.yaml is read in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "unkey_deploy"

EARLY = ("source", "plan", "dockerfile", "config", "settings_code", "imageref", "errors")
LATE = ("api", "image", "local", "cli", "pipeline", "build_stage")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    **{stage: LATE for stage in EARLY if stage != "errors"},
    "image": ("api", "local", "cli", "pipeline"),
    "api": ("cli",),
    "local": ("cli",),
}
CLI_SHARED = ("options", "api_flags")  # besides cli/_*.py: flag types and request-flag helpers


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every unkey_deploy module `path` imports (a `from X import name` counts X.name when that is a module)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "unkey_deploy" and name in MODULES}


MODULES = {_module_name(path) for path in PACKAGE.rglob("*.py")}
GRAPH = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_graph_was_read() -> None:
    assert "unkey_deploy.cli.main" in GRAPH
    assert "unkey_deploy.cli.deploy" in GRAPH["unkey_deploy.cli.main"]


@pytest.mark.parametrize(
    "stage",
    sorted(FORBIDDEN),
)
def test_stages_import_only_what_comes_before_them(stage: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _top(module) == stage
        for target in targets
        if _top(target) in FORBIDDEN[stage]
    )
    assert wrong == []


def _is_command(module: str) -> bool:
    parts = module.split(".")
    return len(parts) == 3 and parts[1] == "cli" and not parts[2].startswith("_") and parts[2] not in (
        *CLI_SHARED, "main")


def test_no_command_module_imports_another() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _is_command(module)
        for target in targets
        if _is_command(target) and target != module
    )
    assert wrong == []


def _is_shared_cli(module: str) -> bool:
    parts = module.split(".")
    return len(parts) == 3 and parts[1] == "cli" and (parts[2].startswith("_") or parts[2] in CLI_SHARED)


def test_shared_cli_modules_import_no_command_module() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _is_shared_cli(module)
        for target in targets
        if _is_command(target)
    )
    assert wrong == []


def test_private_modules_stay_inside_their_package() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        for target in targets:
            parts = target.split(".")
            private = next((i for i, part in enumerate(parts) if part.startswith("_") and part != "__init__"), None)
            if private is None:
                continue
            owner = ".".join(parts[:private])
            if module != owner and not module.startswith(owner + "."):
                wrong.append(f"{module} imports {target}")
    assert sorted(wrong) == []


def test_unkey_yaml_is_read_in_one_place() -> None:
    """Only `config.py` opens unkey.yaml; everything else is handed the parsed `ProjectConfig`."""
    readers = sorted(
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if "load_project_config(" in path.read_text(encoding="utf-8")
        and _module_name(path) != "unkey_deploy.config"
    )
    assert len(readers) <= 1, readers
