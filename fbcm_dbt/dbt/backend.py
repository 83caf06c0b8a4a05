"""The only module that imports dbt.

dbt is imported lazily (it costs over a second, which `fbcm --help` must not pay) and every dbt
call runs on one dedicated thread: dbtRunner and the adapter factory keep global state and are not
safe to use from two threads, even one after the other without care.
"""

from __future__ import annotations

import os
import threading
from argparse import Namespace
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

from fbcm_dbt.errors import DbtError, WarehouseError
from fbcm_dbt.table import Column, RawTable

T = TypeVar("T")
_dbt_thread: ThreadPoolExecutor | None = None
_dbt_thread_lock = threading.Lock()
# dialects whose string literals treat a backslash as an escape character
_BACKSLASH_ESCAPING_ADAPTERS = frozenset({"bigquery", "databricks", "spark", "mysql", "clickhouse"})


@dataclass(frozen=True)
class DbtProject:
    """Where the dbt project is and how dbt should be invoked, resolved as dbt itself would."""

    project_dir: Path
    profiles_dir: Path
    target: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    target_path: Path | None = None

    @property
    def target_dir(self) -> Path:
        if self.target_path is None:
            return self.project_dir / "target"
        return self.target_path if self.target_path.is_absolute() else self.project_dir / self.target_path

    def common_args(self) -> list[str]:
        args = ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.profiles_dir)]
        if self.target:
            args += ["--target", self.target]
        if self.vars:
            import json

            args += ["--vars", json.dumps(dict(self.vars))]
        if self.target_path is not None:
            args += ["--target-path", str(self.target_path)]
        return args


@dataclass(frozen=True)
class BuildOutcome:
    success: bool
    statuses: Mapping[str, str]
    error: str | None


def _on_dbt_thread(fn: Callable[..., T], *args: Any) -> T:
    global _dbt_thread
    with _dbt_thread_lock:
        if _dbt_thread is None:
            _dbt_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fbcm-dbt")
    return _dbt_thread.submit(fn, *args).result()


def select_unique_ids(project: DbtProject, select: Sequence[str], exclude: Sequence[str],
                      selector: str | None) -> set[str]:
    """The models dbt's own selection syntax picks, from the manifest of the last run."""
    return _on_dbt_thread(_select, project, tuple(select), tuple(exclude), selector)


def invoke_build(project: DbtProject, command: str, extra_args: Sequence[str]) -> BuildOutcome:
    """Run `dbt build` or `dbt run` in-process; the result comes from dbt, not from a file."""
    return _on_dbt_thread(_build, project, command, tuple(extra_args))


def read_relation(project: DbtProject, relation_name: str, database: str | None, schema: str | None,
                  identifier: str | None) -> RawTable:
    """Every row and the column types of a relation, through the user's profile and target."""
    return _on_dbt_thread(_read, project, relation_name, database, schema, identifier)


def _select(project: DbtProject, select: tuple[str, ...], exclude: tuple[str, ...], selector: str | None) -> set[str]:
    import json

    from dbt.cli.main import dbtRunner

    args = ["ls", *project.common_args(), "--resource-type", "model", "--output", "json",
            "--output-keys", "unique_id", "--log-level", "none", "--no-write-json"]
    for value in select:
        args += ["--select", value]
    for value in exclude:
        args += ["--exclude", value]
    if selector:
        args += ["--selector", selector]
    result = dbtRunner().invoke(args)
    if not result.success:
        raise DbtError(f"dbt could not apply the selection: {result.exception or 'see dbt logs'}")
    return {json.loads(line)["unique_id"] for line in result.result or []}


def _build(project: DbtProject, command: str, extra_args: tuple[str, ...]) -> BuildOutcome:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke([command, *project.common_args(), *extra_args])
    statuses: dict[str, str] = {}
    for node_result in getattr(result.result, "results", None) or []:
        statuses[node_result.node.unique_id] = str(getattr(node_result.status, "value", node_result.status))
    error = str(result.exception) if result.exception else None
    return BuildOutcome(success=bool(result.success), statuses=statuses, error=error)


def _read(project: DbtProject, relation_name: str, database: str | None, schema: str | None,
          identifier: str | None) -> RawTable:
    try:
        with _adapter(project) as adapter:
            with adapter.connection_named("fbcm-read"):
                relation = adapter.Relation.create(database=database, schema=schema, identifier=identifier)
                columns = tuple(Column(c.name, str(c.dtype)) for c in adapter.get_columns_in_relation(relation))
                _response, table = adapter.execute(f"select * from {relation_name}", fetch=True)
                rows = tuple(tuple(row) for row in table.rows)
                names = tuple(table.column_names)
    except DbtError:
        raise
    except Exception as exc:  # dbt and drivers raise many types; the message is what the user needs
        raise _warehouse_error(exc, relation_name) from None
    by_name = {c.name.lower(): c for c in columns}
    ordered = tuple(by_name.get(n.lower(), Column(n, "unknown")) for n in names)
    return RawTable(columns=ordered, rows=rows)


def _warehouse_error(exc: Exception, relation_name: str) -> WarehouseError:
    text = str(exc).strip()
    if "Could not set lock" in text or "database is locked" in text.lower():
        return WarehouseError(
            f"cannot open the DuckDB file to read {relation_name}: another process holds it. "
            f"Is dbt still running? ({text.splitlines()[0]})"
        )
    if "database does not exist" in text:
        return WarehouseError(
            f"reading {relation_name} failed: {text}. A relative DuckDB `path:` resolves against the "
            "current directory, as in dbt: run fbcm from where you ran dbt"
        )
    return WarehouseError(f"reading {relation_name} failed: {text}")


class _adapter:
    """Context manager: a registered adapter for the project's profile/target, macros loaded."""

    def __init__(self, project: DbtProject, read_only: bool = True):
        self.project = project
        self.read_only = read_only
        self.adapter: Any = None

    def __enter__(self) -> Any:
        from dbt.adapters.factory import get_adapter, register_adapter, reset_adapters
        from dbt.config.runtime import RuntimeConfig, load_profile, load_project
        from dbt.context.providers import generate_runtime_macro_context
        from dbt.flags import get_flags, set_from_args
        from dbt.mp_context import get_mp_context
        from dbt.parser.manifest import ManifestLoader
        from dbt_common.context import set_invocation_context
        from dbt_common.events.event_manager_client import cleanup_event_logger

        project_dir = str(self.project.project_dir)
        cli_vars = dict(self.project.vars)
        cleanup_event_logger()
        set_invocation_context(os.environ.copy())
        set_from_args(Namespace(project_dir=project_dir, profiles_dir=str(self.project.profiles_dir),
                                target=self.project.target, vars=cli_vars), None)
        try:
            profile = load_profile(project_dir, cli_vars, None, self.project.target)
            config = RuntimeConfig.from_parts(load_project(project_dir, False, profile, cli_vars), profile, get_flags())
        except Exception as exc:
            raise DbtError(f"dbt profile/target could not be loaded: {str(exc).strip()}") from None
        if config.credentials.type == "duckdb":
            _pin_duckdb(config.credentials, self.read_only)
        reset_adapters()
        register_adapter(config, get_mp_context())
        adapter = get_adapter(config)
        macros = ManifestLoader.load_macros(config, adapter.connections.set_query_header, base_macros_only=True)
        adapter.set_macro_resolver(macros)
        adapter.set_macro_context_generator(generate_runtime_macro_context)
        self.adapter = adapter
        return adapter

    def __exit__(self, *exc_info: Any) -> None:
        from dbt.adapters.factory import reset_adapters

        if self.adapter is not None:
            self.adapter.cleanup_connections()
            # dbt-duckdb keeps its database open at class level; let the file go for the next user
            close_all = getattr(type(self.adapter.connections), "close_all_connections", None)
            if close_all is not None:
                close_all()
        reset_adapters()


def _pin_duckdb(credentials: Any, read_only: bool) -> None:
    """Resolve a relative DuckDB path against the cwd now, as dbt did when it built the file.

    dbt-duckdb reuses its open database while the credentials compare equal, so two projects with
    the same relative `path:` in one process would otherwise read the first project's file.
    """
    path = getattr(credentials, "path", None)
    if path and path != ":memory:" and "://" not in path and not os.path.isabs(path):
        credentials.path = os.path.abspath(path)
    if read_only:
        credentials.config_options = {**(credentials.config_options or {}), "access_mode": "READ_ONLY"}


class WarehouseSession:
    """A read-write connection through the user's profile, for fbcm's own tables (the ledger).

    Each method runs on the dbt thread; the adapter stays open between calls so rows can be
    appended batch by batch while a sync runs.
    """

    def __init__(self, project: DbtProject):
        self.project = project
        self._context: _adapter | None = None
        self._adapter: Any = None

    def __enter__(self) -> "WarehouseSession":
        _on_dbt_thread(self._open)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._context is not None:
            _on_dbt_thread(self._context.__exit__, None, None, None)
            self._context = self._adapter = None

    @property
    def target_schema(self) -> str:
        return str(self._adapter.config.credentials.schema)

    def relation(self, schema: str, identifier: str) -> str:
        database = getattr(self._adapter.config.credentials, "database", None)
        return str(self._adapter.Relation.create(database=database, schema=schema, identifier=identifier))

    def type_name(self, generic: str) -> str:
        """A generic column type (STRING, TIMESTAMP, BIGINT) in this warehouse's dialect."""
        return str(self._adapter.Column.translate_type(generic))

    def string_literal(self, text: str) -> str:
        """A SQL string literal in this warehouse's dialect (some read backslashes as escapes)."""
        if self._adapter.type() in _BACKSLASH_ESCAPING_ADAPTERS:
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def exists(self, schema: str, identifier: str) -> bool:
        return _on_dbt_thread(self._exists, schema, identifier)

    def ensure_schema(self, schema: str) -> None:
        _on_dbt_thread(self._ensure_schema, schema)

    def execute(self, sql: str) -> None:
        _on_dbt_thread(self._execute, sql)

    def fetch(self, sql: str) -> RawTable:
        return _on_dbt_thread(self._fetch, sql)

    def _open(self) -> None:
        self._context = _adapter(self.project, read_only=False)
        try:
            self._adapter = self._context.__enter__()
        except DbtError:
            raise
        except Exception as exc:
            raise _warehouse_error(exc, "the ledger") from None

    def _exists(self, schema: str, identifier: str) -> bool:
        database = getattr(self._adapter.config.credentials, "database", None)
        try:
            with self._adapter.connection_named("fbcm-ledger"):
                return self._adapter.get_relation(database, schema, identifier) is not None
        except Exception as exc:
            raise _warehouse_error(exc, "the ledger") from None

    def _ensure_schema(self, schema: str) -> None:
        database = getattr(self._adapter.config.credentials, "database", None)
        relation = self._adapter.Relation.create(database=database, schema=schema)
        try:
            with self._adapter.connection_named("fbcm-ledger"):
                self._adapter.create_schema(relation)  # commits on its own where the warehouse has transactions
        except Exception as exc:
            raise _warehouse_error(exc, "the ledger") from None

    def _execute(self, sql: str) -> None:
        try:
            with self._adapter.connection_named("fbcm-ledger"):
                self._adapter.execute(sql, auto_begin=True)
                self._adapter.commit_if_has_connection()
        except Exception as exc:
            raise _warehouse_error(exc, "the ledger") from None

    def _fetch(self, sql: str) -> RawTable:
        try:
            with self._adapter.connection_named("fbcm-ledger"):
                _response, table = self._adapter.execute(sql, fetch=True)
        except Exception as exc:
            raise _warehouse_error(exc, "the ledger") from None
        columns = tuple(Column(name, "unknown") for name in table.column_names)
        return RawTable(columns=columns, rows=tuple(tuple(row) for row in table.rows))
