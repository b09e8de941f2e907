"""Settings as code checked against the API's settings schema (`environments.updateSettings`): what `unkey
deploy` and `unkey environments apply` send from unkey.yaml is refused with the file, the line and the reason
before anything is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from unkey_deploy.api.schemas import Problem
    from unkey_deploy.config import ProjectConfig
    from unkey_deploy.settings_code import SettingsCode


def setting_problems(name: str, value: Any) -> list[Problem]:
    """What is wrong with `value` as the updateSettings field `name` (empty when nothing is)."""
    from unkey_deploy.api.schemas import SETTINGS_FIELDS, validate

    return validate(SETTINGS_FIELDS[name], value)


def checked_settings(project: ProjectConfig) -> SettingsCode:
    """`project:`, `app:` and `environments:` of an unkey.yaml already read, every value checked."""
    return project.settings(setting_problems)


def load_settings(directory: Path) -> SettingsCode:
    """The checked settings of `directory`'s unkey.yaml (empty when there is none); ConfigError naming file
    and line."""
    from unkey_deploy.config import ProjectConfig

    return checked_settings(ProjectConfig.find([directory]))
