"""Run the real ``dcctl`` entry point in a subprocess, as an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_dcctl(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
    input_text: str | None = None,
) -> Result:
    merged = {**os.environ, **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "dcctl", *args],
        capture_output=True,
        text=True,
        env=merged,
        cwd=cwd,
        timeout=timeout,
        input=input_text,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def write_clouds_yaml(path: Path, clouds: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path
