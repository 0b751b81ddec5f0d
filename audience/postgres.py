"""A throwaway PostgreSQL server on 127.0.0.1 for tests, and raw tables loaded into it.

The server runs as the ``postgres`` system user (initdb refuses root), listens on a free
loopback port only, and is stopped and deleted on exit, also after a failure. It is
installed from Debian's packages when absent and this process is root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2

from audience.raw_schema import RAW_SCHEMA, RAW_TABLES

SUPERUSER = "postgres"
PASSWORD = "audience"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be installed or started here; the message says why."""


@dataclass(frozen=True)
class Server:
    """Connection settings of the running throwaway server."""

    host: str
    port: int
    database: str
    user: str
    password: str

    def env(self) -> dict[str, str]:
        """The environment the project's ``postgres`` target reads."""
        return {
            "AUDIENCE_PG_HOST": self.host,
            "AUDIENCE_PG_PORT": str(self.port),
            "AUDIENCE_PG_USER": self.user,
            "AUDIENCE_PG_PASSWORD": self.password,
            "AUDIENCE_PG_DATABASE": self.database,
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Server:
        """The server ``env()`` describes: how a process of its own (a benchmark step)
        finds the server its parent started."""
        return cls(
            env["AUDIENCE_PG_HOST"],
            int(env["AUDIENCE_PG_PORT"]),
            env["AUDIENCE_PG_DATABASE"],
            env["AUDIENCE_PG_USER"],
            env["AUDIENCE_PG_PASSWORD"],
        )

    def connect(self, user: str | None = None, password: str | None = None) -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host=self.host,
            port=self.port,
            dbname=self.database,
            user=user or self.user,
            password=password or self.password,
        )


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def install_if_absent() -> None:
    """Install PostgreSQL with scripts/install_postgres.sh when initdb is missing."""
    if _binary("initdb") and _binary("pg_ctl"):
        return
    script = Path(__file__).resolve().parent.parent / "scripts" / "install_postgres.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    if done.returncode != 0 or not (_binary("initdb") and _binary("pg_ctl")):
        raise PostgresUnavailable(f"PostgreSQL could not be installed: {(done.stderr or done.stdout).strip()[-500:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user."""
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True)
    if done.returncode != 0:
        raise PostgresUnavailable(f"{Path(command[0]).name} failed: {(done.stderr or done.stdout).strip()[-800:]}")


@contextmanager
def throwaway_server(reader_role: str = "bi_reader") -> Iterator[Server]:
    """Start a fresh server with database ``audience`` owned by role ``audience`` and a
    login role ``reader_role`` (password ``audience``) that owns nothing."""
    install_if_absent()
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    assert initdb and pg_ctl
    base = Path(tempfile.mkdtemp(prefix="audience-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, SUPERUSER)
    pwfile = base / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, SUPERUSER)
    port = _free_port()
    started = False
    try:
        _run(
            [
                initdb,
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off"
        _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "server.log"), "-w", "-t", "60", "start"])
        started = True
        admin = Server("127.0.0.1", port, "postgres", SUPERUSER, PASSWORD).connect()
        try:
            admin.autocommit = True  # create database cannot run in a transaction
            with admin.cursor() as cur:
                cur.execute(f"create role audience login password '{PASSWORD}'")
                cur.execute(f"create role {reader_role} login password '{PASSWORD}'")
                cur.execute("create database audience owner audience")
        finally:
            admin.close()
        yield Server("127.0.0.1", port, "audience", "audience", PASSWORD)
    finally:
        if started:
            subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def load_raw(duckdb_path: Path, server: Server) -> dict[str, int]:
    """Copy the ten raw tables of a DuckDB file into schema raw of the server (replacing
    it), through CSV; returns rows per table."""
    counts: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix="audience-raw-") as folder,
        duckdb.connect(str(duckdb_path), read_only=True) as source,
    ):
        pg = server.connect()
        try:
            with pg.cursor() as cur:
                cur.execute(f"drop schema if exists {RAW_SCHEMA} cascade")
                cur.execute(f"create schema {RAW_SCHEMA}")
                for table, columns in RAW_TABLES.items():
                    ddl = ", ".join(f"{name} {data_type}" for name, data_type in columns)
                    cur.execute(f"create table {RAW_SCHEMA}.{table} ({ddl})")
                    csv = Path(folder) / f"{table}.csv"
                    source.execute(f"copy {RAW_SCHEMA}.{table} to '{csv}' (format csv, header true)")
                    with csv.open() as stream:
                        cur.copy_expert(f"copy {RAW_SCHEMA}.{table} from stdin with (format csv, header true)", stream)
                    cur.execute(f"select count(*) from {RAW_SCHEMA}.{table}")
                    (count,) = cur.fetchall()[0]
                    counts[table] = int(count)
            pg.commit()
        finally:
            pg.close()
    return counts
