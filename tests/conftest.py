"""Shared fixtures: the example dbt project built for real, the emulator over loopback, the fbcm CLI
as a subprocess (exactly as a user runs it), and a throwaway PostgreSQL server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "dbt_project_example"
BIN = Path(sys.executable).parent
TOKEN = "example-token"


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def run_fbcm(args, cwd: Path, graph_url: str | None = None, token: str | None = TOKEN, extra_env=None) -> Completed:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FBCM_", "DBT_"))}
    env.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "COLUMNS": "200"})
    if token is not None:
        env["FBCM_ACCESS_TOKEN"] = token
    if graph_url:
        env["FBCM_GRAPH_URL"] = graph_url
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, "-m", "fbcm_dbt", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def run_dbt(args, cwd: Path, extra_env=None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(extra_env or {})}
    proc = subprocess.run([str(BIN / "dbt"), *args, "--profiles-dir", "."], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def example_state() -> dict:
    return yaml.safe_load((EXAMPLE / "emulator_state.yml").read_text())


def build_copy(source: Path, project: Path) -> Path:
    """A copy of a dbt project's sources at `project`, after a real `dbt build` on DuckDB."""
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    run_dbt(["build"], project)
    return project


def private_copy(built: Path, project: Path) -> Path:
    """A copy of a built project, warehouse file and artifacts included: its ledger starts as the build left it."""
    shutil.copytree(built, project)
    return project


@pytest.fixture(scope="session")
def built_example(tmp_path_factory) -> Path:
    """The example project after a real `dbt build`; take `example_copy` before changing anything."""
    return build_copy(EXAMPLE, tmp_path_factory.mktemp("example") / "project")


@pytest.fixture
def example_copy(built_example, tmp_path) -> Path:
    return private_copy(built_example, tmp_path / "project")


@pytest.fixture
def emulator():
    from fbcm_dbt.emulator import Emulator

    with Emulator(example_state()) as emu:
        yield emu


@dataclass
class Postgres:
    host: str
    port: int
    user: str = "postgres"
    database: str = "fbcm"

    def env(self) -> dict[str, str]:
        return {"FBCM_PG_HOST": self.host, "FBCM_PG_PORT": str(self.port), "FBCM_PG_USER": self.user,
                "FBCM_PG_DATABASE": self.database, "FBCM_PG_PASSWORD": ""}


def _pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server on a free loopback port, trust auth, stopped at the end."""
    import socket

    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing; scripts/test installs them")
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    import tempfile

    # not under pytest's tmp dir: that is private to root, and the server runs as `postgres`
    root = Path(tempfile.mkdtemp(prefix="fbcm-pg-"))
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "fbcm"],
                       check=True, capture_output=True)
        yield Postgres("127.0.0.1", port)
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
