"""Items 4, 5 and 9: in-process signing, cache hits and contention (no server needed)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from .common import FAKE_KEY_ID, FAKE_SECRET, HOST, PORT, REGION, USER, Row, median, percentile

THREADS = 64
SLOW_SIGN_S = 0.05


def _credentials() -> Any:
    from botocore.credentials import Credentials

    return Credentials(FAKE_KEY_ID, FAKE_SECRET)


def _ca() -> str:
    import certifi

    return str(certifi.where())


def _per_call_us(fn: Any, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number * 1e6


def signing(rounds: int, number: int) -> tuple[list[Row], float]:
    """Item 4 (and the reference for 5 and 9): uncached signing, µs per token."""
    import boto3

    from rds_iam_auth import SigV4Signer, generate_auth_token, parse_endpoint
    from rds_iam_auth.credentials import CredentialSource

    creds = _credentials()
    signer = SigV4Signer(CredentialSource(credentials=creds))
    endpoint = parse_endpoint(HOST, PORT, REGION)
    client = boto3.client(
        "rds",
        region_name=REGION,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
    )
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    # Distinct signing times: a signer cannot reuse anything from the previous token.
    nows = iter([base + timedelta(seconds=i) for i in range(number * (rounds + 1) * 2 + 10)])

    def ours_sign() -> None:
        signer.sign(endpoint, USER, now=next(nows))

    def ours_generate() -> None:
        generate_auth_token(HOST, PORT, USER, region=REGION, credentials=creds)

    def recipe() -> None:
        client.generate_db_auth_token(HOST, PORT, USER, Region=REGION)

    # Same token bytes at the same time: we measure the same work.
    fixed = base + timedelta(days=1)
    ours_token = generate_auth_token(HOST, PORT, USER, region=REGION, credentials=creds, now=fixed)
    assert ours_token.startswith(HOST)

    for fn in (ours_sign, ours_generate, recipe):
        _per_call_us(fn, max(10, number // 10))
    sign_us: list[float] = []
    gen_us: list[float] = []
    recipe_us: list[float] = []
    for _ in range(rounds):
        sign_us.append(_per_call_us(ours_sign, number))
        recipe_us.append(_per_call_us(recipe, number))
        gen_us.append(_per_call_us(ours_generate, number))
        recipe_us.append(_per_call_us(recipe, number))
    from .common import ratio_row

    rows = [
        ratio_row(
            "4",
            "warm uncached signing: SigV4Signer.sign(now=...)",
            sign_us,
            recipe_us,
            "us/token",
            0.85,
        ),
        ratio_row(
            "4",
            "warm uncached: generate_auth_token(credentials=)",
            gen_us,
            recipe_us,
            "us/token",
            0.85,
            note="includes validation and a CredentialSource per call",
        ),
    ]
    return rows, median(sign_us)


def cache_hits(rounds: int, number: int, sign_us: float) -> list[Row]:
    """Item 5: Connector.token() and connect_kwargs() when the token is cached."""
    from rds_iam_auth import Connector

    connector = Connector(credentials=_credentials(), region=REGION, ca=_ca())
    connector.token(HOST, PORT, USER)
    connector.connect_kwargs(HOST, USER, driver="psycopg", port=PORT)

    def hit() -> None:
        connector.token(HOST, PORT, USER)

    def kwargs_hit() -> None:
        connector.connect_kwargs(HOST, USER, driver="psycopg", port=PORT)

    _per_call_us(hit, number // 10)
    _per_call_us(kwargs_hit, number // 10)
    hit_us, kw_us = [], []
    for _ in range(rounds):
        hit_us.append(_per_call_us(hit, number))
        kw_us.append(_per_call_us(kwargs_hit, number))
    signings = connector.stats.signings
    rows = []
    for metric, samples, divisor in (
        ("cache hit: Connector.token()", hit_us, 100),
        ("cache hit: connect_kwargs(driver='psycopg')", kw_us, 15),
    ):
        value = median(samples)
        rows.append(
            Row(
                item="5",
                metric=metric,
                ours=value,
                recipe=sign_us,
                unit="us",
                ratio=value / sign_us,
                goal=f"<= 1/{divisor} of ours uncached ({sign_us / divisor:.2f} us)",
                met=value <= sign_us / divisor,
                note=f"'recipe' column = ours uncached sign(); signings={signings}",
                samples={"ours": samples},
            )
        )
    return rows


class _SlowSigner:
    """The real signer plus a sleep: stands in for slow credential refresh (I/O, no GIL)."""

    def __init__(self, delay_s: float) -> None:
        from rds_iam_auth import SigV4Signer
        from rds_iam_auth.credentials import CredentialSource

        self._inner = SigV4Signer(CredentialSource(credentials=_credentials()))
        self._delay = delay_s

    def sign(self, endpoint: Any, user: str, *, now: datetime) -> Any:
        time.sleep(self._delay)
        return self._inner.sign(endpoint, user, now=now)


def _storm(connector: Any, users: list[str]) -> list[float]:
    """Start len(users) threads at a barrier; each returns its time inside token()."""
    waits = [0.0] * len(users)
    barrier = threading.Barrier(len(users))
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            start = time.perf_counter()
            connector.token(HOST, PORT, users[i])
            waits[i] = time.perf_counter() - start
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise RuntimeError(f"{len(errors)} contention workers failed: {errors[0]!r}")
    return waits


def contention(repeats: int) -> list[Row]:
    """Item 9: 64 threads on one cold key, and on 64 keys; real and slow signer."""
    from rds_iam_auth import Connector

    ca = _ca()
    creds = _credentials()

    def real() -> Any:
        return Connector(credentials=creds, region=REGION, ca=ca)

    def slow() -> Any:
        return Connector(signer=_SlowSigner(SLOW_SIGN_S), region=REGION, ca=ca)

    # One cold-key token() on a fresh Connector, single-threaded: the reference.
    singles = []
    for _ in range(max(5, repeats)):
        c = real()
        start = time.perf_counter()
        c.token(HOST, PORT, USER)
        singles.append((time.perf_counter() - start) * 1e6)
    single_us = median(singles)

    one_key = [USER] * THREADS
    many_keys = [f"user{i}" for i in range(THREADS)]
    rows = []
    for label, factory, ref_us in (
        ("real signer", real, single_us),
        (f"signer + {SLOW_SIGN_S * 1000:.0f} ms sleep", slow, SLOW_SIGN_S * 1e6),
    ):
        p99s, signings1 = [], []
        maxes, signings64 = [], []
        for _ in range(repeats):
            c = factory()
            p99s.append(percentile(_storm(c, one_key), 99) * 1e6)
            signings1.append(c.stats.signings)
            c = factory()
            maxes.append(max(_storm(c, many_keys)) * 1e6)
            signings64.append(c.stats.signings)
        rows.append(
            Row(
                item="9",
                metric=f"64 threads, 1 cold key ({label}): signings",
                ours=float(max(signings1)),
                unit="signings",
                goal="1",
                met=max(signings1) == 1,
                samples={"ours": signings1},
            )
        )
        rows.append(
            Row(
                item="9",
                metric=f"64 threads, 1 cold key ({label}): p99 wait",
                ours=median(p99s),
                recipe=ref_us,
                unit="us",
                ratio=median(p99s) / ref_us,
                note="'recipe' column = one single-threaded cold token()",
                samples={"ours": p99s},
            )
        )
        if factory is slow:
            goal = "max wait <= 2x one signing (no cross-key waiting)"
            met: bool | None = median(maxes) <= 2 * ref_us
            note = "serialised keys would take ~64x"
        else:
            goal, met = "", None
            note = "each thread's own time in token(); signings are CPU-bound under the GIL"
        rows.append(
            Row(
                item="9",
                metric=f"64 threads, 64 cold keys ({label}): max wait",
                ours=median(maxes),
                recipe=ref_us,
                unit="us",
                ratio=median(maxes) / ref_us,
                goal=goal,
                met=met,
                note=note + f"; signings={max(signings64)}",
                samples={"ours": maxes, "signings": signings64},
            )
        )
    return rows
