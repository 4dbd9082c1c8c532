"""The public facade stays small, sorted and honest."""

from __future__ import annotations

import inspect

import harmjudge


def test_all_is_sorted_and_unique() -> None:
    names = [n for n in harmjudge.__all__ if n != "__version__"]
    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    assert len(set(harmjudge.__all__)) == len(harmjudge.__all__)


def test_every_export_exists_and_is_public() -> None:
    for name in harmjudge.__all__:
        assert hasattr(harmjudge, name), name
    public = {n for n in vars(harmjudge) if not n.startswith("_")}
    modules = {n for n in public if inspect.ismodule(getattr(harmjudge, n))}
    assert public - modules == set(harmjudge.__all__) - {"__version__"}


def test_exported_members_belong_to_harmjudge() -> None:
    for name in harmjudge.__all__:
        member = getattr(harmjudge, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__.startswith("harmjudge."), name


def test_classify_and_aclassify_share_a_signature() -> None:
    for sync, asynchronous in [
        (harmjudge.classify, harmjudge.aclassify),
        (harmjudge.classify_many, harmjudge.aclassify_many),
    ]:
        assert inspect.signature(sync).parameters == inspect.signature(asynchronous).parameters
