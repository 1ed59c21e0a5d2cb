"""The Dockerfile, checked statically (no Docker engine here): what a build would copy,
install and run, and that it agrees with the chart."""

from __future__ import annotations

import fnmatch
import json
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field

import pytest
import yaml

from tests.helm.rendering import CHART_DIR, ROOT


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "a continuation line ends the file"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            base = words[0]
            for name, default in args.items():
                base = base.replace("${" + name + "}", default)
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(base, alias))
        elif keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, rest.strip()))
    return args, stages


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        matches = any(
            fnmatch.fnmatch(c, glob) or (glob.startswith("**/") and fnmatch.fnmatch(c, glob[3:]))
            for c in candidates
        )
        if matches:
            excluded = not negate
    return excluded


DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
IGNORE = [
    line.strip()
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
ARGS, STAGES = parse_dockerfile(DOCKERFILE)
BUILD, RUNTIME = STAGES[0], STAGES[-1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VALUES = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))


def test_multi_stage_on_a_slim_python():
    assert len(STAGES) >= 2
    assert BUILD.name == "build"
    for stage in STAGES:
        assert stage.base.startswith("python:3.11-slim"), stage.base
    # The runtime stage takes only the built virtualenv from the build stage.
    copies = RUNTIME.all("COPY")
    assert copies == ["--from=build /opt/synaps /opt/synaps"]


def test_no_compilers_or_packages_installed_in_the_runtime_image():
    for command in RUNTIME.all("RUN"):
        for word in ("apt-get", "apk", "gcc", "build-essential", "make ", "pip install"):
            assert word not in command, command
    # Dependencies install from wheels only, so the build stage needs no compiler either.
    (deps,) = [c for c in BUILD.all("RUN") if "-r requirements.txt" in c]
    assert "--only-binary=:all:" in deps


def test_every_pip_install_is_pinned_by_the_constraints():
    installs = [c for c in BUILD.all("RUN") if "pip install" in c]
    assert len(installs) == 2
    for command in installs:
        assert "-c constraints.txt" in command, command


def test_the_requirements_step_lists_the_project_dependencies():
    (command,) = [c for c in BUILD.all("RUN") if "> requirements.txt" in c]
    words = shlex.split(command)
    assert words[:2] == ["python", "-c"]
    result = subprocess.run(
        [sys.executable, "-c", words[2]], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:-1] == PYPROJECT["project"]["dependencies"]


def test_the_build_copies_every_package_and_the_metadata_setuptools_needs():
    copied = set()
    for args in BUILD.all("COPY"):
        *sources, _dest = args.split()
        copied.update(s.removeprefix("./") for s in sources)
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages <= copied
    assert {"pyproject.toml", "constraints.txt", PYPROJECT["project"]["readme"]} <= copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not dockerignore_excludes(source, IGNORE), f"{source} is .dockerignored"


@pytest.mark.parametrize(
    "path", [".git", ".venv", "tests", ".synaps", "synaps/__pycache__", "x.env"]
)
def test_the_context_leaves_out_local_state(path: str):
    assert dockerignore_excludes(path, IGNORE)


def test_runs_as_the_charts_non_root_user():
    (user,) = RUNTIME.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit()
    assert gid.isdigit()
    assert int(uid) == VALUES["podSecurityContext"]["runAsUser"]
    assert int(gid) == VALUES["podSecurityContext"]["runAsGroup"]
    # USER comes after everything that needs root.
    keywords = [kw for kw, _ in RUNTIME.instructions]
    assert "RUN" not in keywords[keywords.index("USER") :]


def test_entrypoint_runs_synaps_and_serves_the_api_by_default():
    assert [json.loads(e) for e in RUNTIME.all("ENTRYPOINT")] == [["synaps"]]
    assert [json.loads(c) for c in RUNTIME.all("CMD")] == [["api"]]
    assert RUNTIME.all("EXPOSE") == [str(VALUES["api"]["port"])]
    env = " ".join(RUNTIME.all("ENV"))
    assert "SYNAPS_HOST=0.0.0.0" in env
    assert "PATH=/opt/synaps/bin:$PATH" in env
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts["synaps"] == "synaps.cli:main"


def test_parser_reads_a_continuation_and_a_stage_alias():
    args, stages = parse_dockerfile("ARG B=img:1\nFROM ${B} AS one\nRUN a \\\n && b\nFROM one\n")
    assert args == {"B": "img:1"}
    assert [(s.base, s.name) for s in stages] == [("img:1", "one"), ("one", "")]
    assert stages[0].instructions == [("RUN", "a  && b")]
