"""What the built wheel and sdist contain: ``python tests/packaging/check_wheel.py dist/``.

The wheel must carry the package, its typing marker, the RDS CA bundle with its manifest (and
the bundle must be the pinned one) and the licence; never tests, examples, benchmarks, docs
or byte code. Exits 1 with one line per problem.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

PINNED_SHA256 = "e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3"
REQUIRED = (
    "rds_iam_auth/__init__.py",
    "rds_iam_auth/py.typed",
    "rds_iam_auth/_data/global-bundle.pem",
    "rds_iam_auth/_data/manifest.json",
)
FORBIDDEN = re.compile(r"(^|/)(tests|examples|benchmarks|docs)/|__pycache__|\.pyc$")
SDIST_REQUIRED = ("LICENSE", "pyproject.toml", "rds_iam_auth/_data/global-bundle.pem")


def _version(root: Path) -> str:
    text = (root / "rds_iam_auth" / "_version.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    assert match, "no __version__ in _version.py"
    return match.group(1)


def wheel_problems(wheel: Path, version: str) -> list[str]:
    """Everything wrong with ``wheel``; empty when it is right."""
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = f"rds_iam_auth-{version}.dist-info/"
        problems += [f"missing {name}" for name in REQUIRED if name not in names]
        problems += [f"should not be in the wheel: {n}" for n in names if FORBIDDEN.search(n)]
        problems += [
            f"outside the package: {n}"
            for n in names
            if not n.startswith(("rds_iam_auth/", dist_info))
        ]
        if f"{dist_info}licenses/LICENSE" not in names:
            problems.append(f"missing {dist_info}licenses/LICENSE")
        if not problems:
            bundle = archive.read("rds_iam_auth/_data/global-bundle.pem")
            manifest = json.loads(archive.read("rds_iam_auth/_data/manifest.json"))
            digest = hashlib.sha256(bundle).hexdigest()
            if not digest == manifest["sha256"] == PINNED_SHA256:
                problems.append(f"bundle sha256 {digest} is not the pinned {PINNED_SHA256}")
            if bundle.count(b"-----BEGIN CERTIFICATE-----") != manifest["certificates"]:
                problems.append("the manifest's certificate count does not match the bundle")
            metadata = archive.read(f"{dist_info}METADATA").decode()
            for line in (f"Version: {version}", "License-Expression: Apache-2.0"):
                if line not in metadata.splitlines():
                    problems.append(f"METADATA lacks {line!r}")
    return problems


def sdist_problems(sdist: Path, version: str) -> list[str]:
    with tarfile.open(sdist) as archive:
        prefix = f"rds_iam_auth-{version}/"
        names = {n.removeprefix(prefix) for n in archive.getnames()}
    return [f"sdist lacks {name}" for name in SDIST_REQUIRED if name not in names]


def main(dist: Path) -> int:
    version = _version(Path(__file__).resolve().parents[2])
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
        return 1
    problems = wheel_problems(wheels[0], version) + sdist_problems(sdists[0], version)
    for problem in problems:
        print(f"{wheels[0].name}: {problem}")
    if not problems:
        with zipfile.ZipFile(wheels[0]) as archive:
            count = len(archive.namelist())
        print(f"{wheels[0].name}: {count} files, bundle and manifest present, py.typed, licence")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist")))
