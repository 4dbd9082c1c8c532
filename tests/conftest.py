"""Shared fixtures: no test may leave loopback; a local OpenAI-compatible server on demand."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import netguard
from harmjudge.testing.server import FakeOpenAI

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def pytest_configure(config: pytest.Config) -> None:
    netguard.install()  # before collection, so import-time connections are caught too


def pytest_unconfigure(config: pytest.Config) -> None:
    netguard.uninstall()


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    """Fail the test if it tried to leave loopback, even if a library swallowed the error."""
    earlier = netguard.take_violations()
    if earlier:
        pytest.fail(
            "network access outside any test (import time or a background thread):\n"
            + "\n".join(earlier),
            pytrace=False,
        )
    yield
    leaked = netguard.take_violations()
    if leaked:
        pytest.fail("test tried to reach the network:\n" + "\n".join(leaked), pytrace=False)


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a real provider's settings from the environment."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HARMJUDGE_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default verdict cache of every test is a fresh temporary one, never the user's."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("HARMJUDGE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(seed=0) as server:
        yield server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite tests/snapshots/ from the current output instead of comparing",
    )


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with a file (NAME under tests/snapshots/, or a path from the repository
    root when NAME contains a slash); ``--update-snapshots`` rewrites it."""
    update = bool(request.config.getoption("--update-snapshots"))

    def check(name: str, text: str) -> None:
        path = ROOT / name if "/" in name else ROOT / "tests" / "snapshots" / name
        if update:
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no snapshot {name}; run pytest --update-snapshots and review it"
        assert text == path.read_text(encoding="utf-8"), f"{name} changed; review, then update"

    return check
