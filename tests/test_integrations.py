"""The integrations package as a whole: optional packages stay optional, the facade is honest,
and the examples in docs/integrations/ run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import harmjudge.integrations
from harmjudge.integrations import MissingExtraError

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs" / "integrations").glob("*.md"))

WITHOUT_EXTRAS = """
import importlib.abc
import sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in ("inspect_ai", "pandas"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
import harmjudge
import harmjudge.cli.main
import harmjudge.integrations
import harmjudge.integrations.dataframe
import harmjudge.integrations.inspect
from harmjudge.integrations import read_source

assert not {"inspect_ai", "pandas"} & set(sys.modules), "imported an optional package"
for call in (
    lambda: list(read_source("inspect", ["logs"])),
    lambda: harmjudge.integrations.inspect.harm_scorer(),
    lambda: harmjudge.integrations.dataframe.results_to_dataframe([]),
):
    try:
        call()
    except harmjudge.integrations.MissingExtraError as exc:
        print(exc)
    else:
        raise SystemExit("no error without the extra")
records = list(read_source("am-results", ["tests/fixtures/am_results/results/exp-flat"]))
print(len(records), "study records without the extras")
"""


def test_the_core_and_the_pure_readers_work_without_the_extras() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "harmjudge.integrations.inspect needs inspect-ai, which is not installed: pip install 'harmjudge[inspect]'",
        "harmjudge.integrations.inspect needs inspect-ai, which is not installed: pip install 'harmjudge[inspect]'",
        "harmjudge.integrations.dataframe needs pandas, which is not installed: pip install 'harmjudge[pandas]'",
        "1 study records without the extras",
    ]


def test_a_missing_extra_is_a_usage_error() -> None:
    error = MissingExtraError(feature="f", package="p", extra="x")
    assert isinstance(error, harmjudge.UsageError)
    assert (error.feature, error.package, error.extra) == ("f", "p", "x")


def test_all_is_sorted_and_complete() -> None:
    names = harmjudge.integrations.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n[0].islower(), n))
    assert all(hasattr(harmjudge.integrations, n) for n in names)


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)\n```", page.read_text(encoding="utf-8"), re.DOTALL)


def test_every_integration_has_a_page_with_a_runnable_example() -> None:
    assert [p.name for p in PAGES] == [
        "am-results.md",
        "index.md",
        "inspect.md",
        "jsonl.md",
        "pandas.md",
    ]
    for page in PAGES:
        if page.name != "index.md":
            assert python_blocks(page), f"{page.name} has no python example"


def test_integration_pages_link_to_real_files() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://")):
                assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


@pytest.mark.filterwarnings(
    # See tests/test_integrations_inspect.py: inspect-ai's own retry set-up and task runner.
    "ignore:The 'initial' parameter is deprecated:DeprecationWarning",
    "ignore:Unclosed <MemoryObjectReceiveStream:ResourceWarning",
)
@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "index.md"], ids=lambda p: p.stem)
def test_the_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page's python blocks run in order, in a scratch folder beside the repository's
    ``tests/fixtures`` (the examples read the fixtures and write their own files)."""
    (tmp_path / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in python_blocks(page):
        exec(compile(block, str(page), "exec"), namespace)
    import gc

    gc.collect()
