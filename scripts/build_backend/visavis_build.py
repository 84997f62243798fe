"""The build backend of `python -m build`: setuptools, after building the frontend.

The wheel carries the built browser apps (src/visavis/static/app, made by Vite and not
in git), so installing it needs no Node.js. Built from a checkout (frontend/ present),
the sdist and the wheel first run `npm ci` (when frontend/node_modules is missing or
older than the lock) and `npm run build`: a wheel never carries a stale frontend.
Built from the sdist (no frontend/, the built files inside), the files are checked,
not rebuilt. Editable installs (`pip install -e .`, scripts/setup.sh) build nothing:
setup.sh builds the frontend itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
APP = ROOT / "src" / "visavis" / "static" / "app"
# What the server serves from the built frontend; a wheel without them is broken.
REQUIRED = ("widget.js", "chat.html", "console.html", "demo.html", "cobrowse.js")

get_requires_for_build_wheel = _setuptools.get_requires_for_build_wheel
get_requires_for_build_sdist = _setuptools.get_requires_for_build_sdist
get_requires_for_build_editable = _setuptools.get_requires_for_build_editable
prepare_metadata_for_build_wheel = _setuptools.prepare_metadata_for_build_wheel
prepare_metadata_for_build_editable = _setuptools.prepare_metadata_for_build_editable
build_editable = _setuptools.build_editable


def check_node() -> str:
    """The npm to run; fails naming the Node.js version found and the one needed."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise RuntimeError(
            "building visavis from a checkout builds its frontend: Node.js >= 20.19 and npm "
            "are needed (or build the wheel from the sdist, which carries the built files)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+", version)
    if match is None or (int(match[1]), int(match[2])) < (20, 19):
        raise RuntimeError(
            f"Node.js {version or '?'} found at {node}; the frontend build (Vite) needs >= 20.19"
        )
    return npm


def do_build_frontend() -> None:
    npm = check_node()
    modules, lock = FRONTEND / "node_modules", FRONTEND / "package-lock.json"
    if not modules.is_dir() or lock.stat().st_mtime > modules.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, check=True
        )
    subprocess.run([npm, "run", "--silent", "build"], cwd=FRONTEND, check=True)


def check_frontend_built() -> None:
    missing = [name for name in REQUIRED if not (APP / name).is_file()]
    if missing:
        raise RuntimeError(
            f"the built frontend is missing in {APP} ({', '.join(missing)}): build from a "
            "checkout with Node.js >= 20.19 (scripts/setup.sh), or from a complete sdist"
        )


def do_frontend() -> None:
    if (FRONTEND / "package.json").is_file():
        do_build_frontend()
    check_frontend_built()


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    do_frontend()
    return str(_setuptools.build_sdist(sdist_directory, config_settings))


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    do_frontend()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))
