"""The README, CI and docs stay true to the code."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harmjudge.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup, re.DOTALL)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith("harmjudge evaluate")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == readme_commands()[1]


def _help(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main([*argv, "--help"])
    return out.getvalue()


CLI_PAGES = [
    (),
    ("classify",),
    ("taxonomy",),
    ("taxonomy", "list"),
    ("taxonomy", "show"),
    ("evaluate",),
    ("report",),
    ("calibrate",),
    ("correct",),
    ("rates",),
    ("labels",),
    ("labels", "validate"),
    ("labels", "split"),
    ("labels", "datasheet"),
    ("labels", "realism"),
    ("labels", "import-review"),
]


def render_cli_reference() -> str:
    parts = [
        "# Command line reference\n",
        "Generated from `harmjudge … --help`; `pytest --update-snapshots` rewrites it and "
        "`tests/test_docs.py` checks it.\n",
    ]
    for argv in CLI_PAGES:
        title = " ".join(("harmjudge", *argv))
        parts.append(f"## `{title}`\n\n```text\n{_help(*argv).rstrip()}\n```\n")
    return "\n".join(parts)


def test_cli_reference_is_current(
    snapshot: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    snapshot("docs/cli.md", render_cli_reference())


def test_docs_links_resolve() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def quickstart_server_commands() -> list[str]:
    text = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    section = text.split("## Try the LLM judge without a provider", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.+?)\n```", section, re.DOTALL)
    return block.splitlines()


def test_quickstart_llm_section_runs_as_written(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    commands = quickstart_server_commands()
    assert len(commands) == 3
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for command in commands:
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"{command}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
    assert {p.name for p in tmp_path.iterdir()} <= {"user-cache"}  # the tests' verdict cache
