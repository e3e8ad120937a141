"""tests/packaging/check_wheel.py, which nox -s build runs on the real wheel, catches what a
broken build would produce (checked here on small hand-made wheels)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from rds_iam_auth import __version__
from tests.packaging.check_wheel import wheel_problems

DATA = Path(__file__).resolve().parents[2] / "rds_iam_auth" / "_data"
DIST_INFO = f"rds_iam_auth-{__version__}.dist-info"
METADATA = (
    f"Metadata-Version: 2.4\nName: rds-iam-auth\nVersion: {__version__}\n"
    "License-Expression: Apache-2.0\n"
)


def make_wheel(path: Path, *, drop: str = "", add: str = "", bundle: bytes | None = None) -> Path:
    files = {
        "rds_iam_auth/__init__.py": b"",
        "rds_iam_auth/py.typed": b"",
        "rds_iam_auth/_data/global-bundle.pem": bundle or (DATA / "global-bundle.pem").read_bytes(),
        "rds_iam_auth/_data/manifest.json": (DATA / "manifest.json").read_bytes(),
        f"{DIST_INFO}/METADATA": METADATA.encode(),
        f"{DIST_INFO}/licenses/LICENSE": b"Apache License",
    }
    files.pop(drop, None)
    if add:
        files[add] = b""
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return path


def test_a_complete_wheel_has_no_problems(tmp_path: Path) -> None:
    assert wheel_problems(make_wheel(tmp_path / "ok.whl"), __version__) == []


@pytest.mark.parametrize(
    "drop",
    [
        "rds_iam_auth/_data/global-bundle.pem",
        "rds_iam_auth/_data/manifest.json",
        "rds_iam_auth/py.typed",
        f"{DIST_INFO}/licenses/LICENSE",
    ],
)
def test_a_missing_file_is_named(tmp_path: Path, drop: str) -> None:
    problems = wheel_problems(make_wheel(tmp_path / "w.whl", drop=drop), __version__)
    assert problems == [f"missing {drop}"]


@pytest.mark.parametrize(
    "extra",
    ["tests/unit/test_x.py", "benchmarks/run.py", "rds_iam_auth/__pycache__/x.pyc", "conftest.py"],
)
def test_tests_benchmarks_and_strays_are_refused(tmp_path: Path, extra: str) -> None:
    problems = wheel_problems(make_wheel(tmp_path / "w.whl", add=extra), __version__)
    assert problems
    assert all(extra in problem for problem in problems)


def test_a_bundle_other_than_the_pinned_one_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w.whl", bundle=b"-----BEGIN CERTIFICATE-----\n")
    assert any("not the pinned" in p for p in wheel_problems(wheel, __version__))
