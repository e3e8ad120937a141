"""Keyword policy: which driver keywords a caller may pass, as an allowlist per driver.

Every adapter declares two things: the keywords it passes through unchanged (options that
cannot move the token or weaken TLS: ``dbname``, ``connect_timeout``, ``autocommit``, ...) and
the keywords the connector owns (target, credentials, TLS, key logging), each with the
supported way to get what the caller wanted. Anything else is refused by name. A denylist
fails open: a review found ``requiressl=``, ``"sslmode "`` with a trailing space and
``sslkeylogfile=`` all getting past one. An allowlist fails closed: an option a new driver
release adds stays refused until someone decides it is harmless.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError

__all__ = ["TARGET", "TLS", "KeywordPolicy", "check_text"]

# Why a keyword is the connector's, and what to use instead.
TARGET = "the connector dials host:port (or address=) itself; pass them as arguments of connect()"
CREDENTIALS = "the password is the IAM token the connector signs for host, port and user"
TLS = (
    "TLS is the connector's: choose the CA with ca= (or RDS_IAM_AUTH_CA_BUNDLE) and relax host "
    "name checks only with tls='verify-ca'; there is no plaintext mode"
)
KEYLOG = "writing TLS session keys would expose the session that carries the IAM token"
CONFIG_FILE = (
    "a configuration file could change the host, the TLS settings or the credentials behind the "
    "connector's back; pass those options as keywords instead"
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_text(what: str, value: str) -> str:
    """Refuse NUL and control characters in a string that reaches a driver.

    libpq stops reading a conninfo string at a NUL (dropping the TLS settings after it), and a
    newline or other control character in a host, user or option has no legitimate use.
    """
    match = _CONTROL.search(value)
    if match:
        raise ConfigurationError(
            f"{what} contains the control character {match.group()!r}; remove it"
        )
    return value


@dataclass(frozen=True)
class KeywordPolicy:
    """The keywords one driver accepts from callers.

    Attributes:
        driver: The driver name used in messages (``"psycopg"``).
        allowed: Keywords passed to the driver unchanged.
        owned: Keyword → why the connector sets it (and what to use instead).
        value_types: Types a passed-through value may have (strings are also checked with
            :func:`check_text`); driver objects such as ``row_factory`` are listed in
            ``any_value``.
        any_value: Keywords whose value is a driver object, passed as is.
    """

    driver: str
    allowed: frozenset[str]
    owned: Mapping[str, str]
    value_types: tuple[type, ...] = (str, int, float)
    any_value: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        overlap = self.allowed & set(self.owned)
        assert not overlap, f"keywords both allowed and owned: {sorted(overlap)}"

    def check(
        self, user_kwargs: Mapping[str, Any], known: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Return ``user_kwargs`` as a new dict after checking every name and value.

        Args:
            user_kwargs: What the caller passed.
            known: The options the loaded driver actually has, when that depends on its
                version (libpq); an allowed keyword it does not know is refused with a
                message that says so, instead of failing inside the driver.

        Raises:
            ConfigurationError: A keyword is owned by the connector, unknown, or has a value
                of the wrong type or with control characters.
        """
        checked: dict[str, Any] = {}
        known_set = None if known is None else frozenset(known) | self.any_value
        for name, value in user_kwargs.items():
            if name in self.owned:
                raise ConfigurationError(f"{self.driver}: do not pass {name}=; {self.owned[name]}")
            if name not in self.allowed:
                raise ConfigurationError(self._unknown(name))
            if known_set is not None and name not in known_set:
                raise ConfigurationError(
                    f"{self.driver}: {name}= is not an option of the installed driver "
                    "(its libpq is too old for it); upgrade the driver or leave it out"
                )
            checked[name] = self._value(name, value)
        return checked

    def _value(self, name: str, value: Any) -> Any:
        if name in self.any_value or value is None:
            return value
        if not isinstance(value, self.value_types):
            return self._bad(name)
        if isinstance(value, str):
            check_text(f"{self.driver}: {name}=", value)
        return value

    def _bad(self, name: str) -> Any:
        kinds = " or ".join(t.__name__ for t in self.value_types)
        raise ConfigurationError(f"{self.driver}: {name}= must be a {kinds}")

    def _unknown(self, name: object) -> str:
        shown = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."
        candidates = sorted(self.allowed | set(self.owned))
        close = difflib.get_close_matches(str(name).strip(), candidates, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return (
            f"{self.driver}: unknown or unsupported keyword {shown}{hint}. Accepted: "
            f"{', '.join(sorted(self.allowed))}"
        )
