"""What people see: the quiet run with its progress and explained warnings, dbt's own
output of a failing node, a fast --help with examples and exit codes, the refusal to
generate demo data into a database path set on purpose, and the Makefile's set-up."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from audience.cli import main
from audience.export import EXPORT_DIR_ENV
from audience.progress import EXPECTED_WARNINGS, BuildDisplay, build
from audience.project import DATABASE_ENV, PROJECT_DIR, PUBLISHED_ENV, run_dbt
from conftest import load_raw

SUBCOMMANDS = ("run", "generate", "backfill", "export", "summary", "preview", "ci-slim", "ci-empty")
#: A line of dbt's own console output starts with its clock.
DBT_LOG_LINE = re.compile(r"^\S*\d\d:\d\d:\d\d  ", re.MULTILINE)


def _use(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = folder / "working.duckdb"
    monkeypatch.setenv(DATABASE_ENV, str(database))
    monkeypatch.setenv(PUBLISHED_ENV, str(folder / "audience.duckdb"))
    monkeypatch.setenv(EXPORT_DIR_ENV, str(folder / "exports"))
    return database


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``run --demo`` into an explicitly set path that does not exist yet (S profile):
    what it printed."""
    folder = tmp_path_factory.mktemp("quiet")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use(folder, monkeypatch)
        monkeypatch.setattr(sys, "stdout", out)
        code = main(["run", "--demo", "--profile", "S", "--no-history-seed"])
    assert code == 0, out.getvalue()
    return out.getvalue()


def test_a_quiet_run_shows_progress_explained_warnings_and_the_summary(quiet_run: str) -> None:
    assert "generated " in quiet_run, "--demo generated the raw tables into the explicit path"
    assert not DBT_LOG_LINE.search(quiet_run), "no line of dbt's own output"
    assert "START" not in quiet_run and "Done. PASS=" not in quiet_run
    assert re.search(r"^  (25|50|75) % \(\d+ of \d+ nodes\) after \d+ s$", quiet_run, re.MULTILINE)
    assert re.search(r"^built \d+ models in \d+ s; tests: \d+ passed, \d+ warned, 0 failed$", quiet_run, re.MULTILINE)
    warned = int(re.search(r"(\d+) warned", quiet_run).group(1))
    assert warned > 0, "the demo data warns"
    header = quiet_run.index("warnings (rows), expected on the demo data")
    explained = set(EXPECTED_WARNINGS.values())
    warning_lines = quiet_run[header:].splitlines()[1 : warned + 1]
    for line in warning_lines:
        text = line[9:]
        assert text in explained or text.endswith("(not expected on the demo data)"), line
    assert "Segments and their members" in quiet_run and "rejected by reason" in quiet_run
    assert "Rows per mart" not in quiet_run, "the full summary is python -m audience summary"
    assert len(quiet_run.splitlines()) < 100


def test_a_failing_node_shows_dbt_output_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "broken.duckdb"
    load_raw(database, {})
    with duckdb.connect(str(database)) as con:
        con.execute("alter table raw.crm_accounts drop column industry")
    monkeypatch.setenv(DATABASE_ENV, str(database))
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    result = build(["build", "--select", "base_crm__accounts", *paths], verbose=False)
    assert not result.success
    out = capsys.readouterr().out
    assert "Runtime Error in model base_crm__accounts" in out
    assert re.search(r'Binder Error: .*"industry"', out)
    assert "compiled code at " in out and "base_crm__accounts.sql" in out
    assert re.search(r"^built 0 models in \d+ s \(1 failed\)", out, re.MULTILINE)

    build(["build", "--select", "base_crm__accounts", *paths], verbose=True)
    verbose = capsys.readouterr().out
    assert DBT_LOG_LINE.search(verbose) and "START sql table model staging.base_crm__accounts" in verbose
    assert "built 0 models" not in verbose, "--verbose is dbt's output unchanged"


def _event(name: str, level: str = "debug", **data: object) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(name=name, level=level, msg=""), data=SimpleNamespace(**data))


def _feed(display: BuildDisplay, nodes: int) -> None:
    display(_event("LogStartLine", "info", total=nodes))
    for _ in range(nodes):
        display(_event("NodeFinished"))
    display.close()


def test_a_terminal_gets_one_updating_line_a_log_gets_milestones() -> None:
    terminal = io.StringIO()
    _feed(BuildDisplay(terminal, tty=True), 8)
    shown = terminal.getvalue()
    assert shown.count("\n") == 1 and shown.endswith("\n"), "one line, rewritten in place"
    assert shown.startswith("\r  [") and "8/8 nodes" in shown.rsplit("\r", 1)[-1]

    log = io.StringIO()
    _feed(BuildDisplay(log, tty=False), 8)
    assert "\r" not in log.getvalue()
    assert [line.split(" (")[0] for line in log.getvalue().splitlines()] == ["  25 %", "  50 %", "  75 %"]


def test_every_expected_warning_is_a_test_of_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(tmp_path, monkeypatch)
    listed = run_dbt(
        ["ls", "--resource-type", "test", "--output", "name", "--quiet", "--target-path", str(tmp_path)]
    )
    assert listed.success, listed.exception
    tests = set(listed.result)
    assert set(EXPECTED_WARNINGS) - tests == set()


def _help(*args: str) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "audience", *args, "--help"], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, time.perf_counter() - started


def test_help_answers_within_a_second_with_examples_and_exit_codes() -> None:
    text, _ = _help()
    fastest = min(_help()[1] for _ in range(3))
    assert fastest < 1.0, f"--help took {fastest:.2f} s"
    assert "Exit codes: 0 done" in text and "4 a database is held open" in text
    for command in SUBCOMMANDS:
        assert f"python -m audience {command}" in text, command
        assert f"  python -m audience {command}" in _help(command)[0], command


def test_help_imports_neither_dbt_nor_duckdb() -> None:
    probe = (
        "import sys\nfrom audience.cli import main\ntry:\n    main(['run', '--help'])\nexcept SystemExit:\n"
        "    pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('dbt', 'duckdb')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_an_explicit_database_path_without_raw_tables_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _use(tmp_path, monkeypatch)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert f"error: check: {database} (set by ${DATABASE_ENV}) does not exist" in err and "run --demo" in err
    assert not database.exists(), "no demo data was generated"

    duckdb.connect(str(database)).close()
    assert main(["run"]) == 2
    assert "has no raw tables" in capsys.readouterr().err


def test_a_half_created_venv_is_rebuilt(tmp_path: Path) -> None:
    shutil.copy(PROJECT_DIR / "Makefile", tmp_path)
    (tmp_path / "requirements.txt").write_text("# nothing to install\n")
    env = {**os.environ, "PYTHON": sys.executable}

    def make() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", ".venv/.installed"], cwd=tmp_path, env=env, capture_output=True, text=True)

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=tmp_path, check=True)
    (tmp_path / ".venv" / ".installed").touch()  # even a stamp does not hide the missing pip
    done = make()
    assert done.returncode == 0 and "is incomplete" in done.stdout, done.stdout + done.stderr
    assert subprocess.run([tmp_path / ".venv/bin/python", "-c", "import pip"]).returncode == 0
    assert "is incomplete" not in make().stdout, "a working .venv is left alone"

    for python in (tmp_path / ".venv/bin").glob("python*"):
        python.unlink()
    done = make()
    assert done.returncode == 0 and "is incomplete" in done.stdout, done.stdout + done.stderr
