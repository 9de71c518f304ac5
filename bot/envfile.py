"""Create `.env` from `.env.example` on first run, with random development secrets, then check it."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from bot.settings import PLACEHOLDER, PROJECT_ROOT, SettingsError, check_env_file, load_env, read_settings


def create_env(example: Path, target: Path) -> bool:
    """Write target from example once; every placeholder gets its own random secret."""
    if target.exists():
        return False
    lines = []
    for line in example.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and value.strip() == PLACEHOLDER and not line.lstrip().startswith("#"):
            line = f"{name}={secrets.token_urlsafe(32)}"
        lines.append(line)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target.chmod(0o600)
    return True


def main(root: Path = PROJECT_ROOT) -> int:
    env_path = root / ".env"
    if create_env(root / ".env.example", env_path):
        print(f"Created {env_path} with generated development secrets.")
    problems = check_env_file(env_path)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    load_env(env_path)
    try:
        read_settings()
    except SettingsError as error:
        print(f"error: .env: {error}", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
