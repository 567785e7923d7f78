"""Field types shared by the spec models: each validates one value and says clearly what is wrong.

Every failure is a ``PydanticCustomError`` whose type is a :class:`~dcctl.spec.problems.Kind`, so
the loader can tell an invalid CIDR from a wrong type without parsing messages. Free text is
normalised to Unicode NFC (Vietnamese typed on different systems arrives composed or decomposed;
the planner must see one form so that plans stay stable).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError

from dcctl.spec.problems import Kind

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def fail(kind: Kind, reason: str) -> PydanticCustomError:
    # The reason goes through the context so that braces in user input are not a template.
    return PydanticCustomError(kind.value, "{reason}", {"reason": reason})


_SCALARS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: a bool is an int
    (int, "an integer"),
    (float, "a number"),
)


def describe(value: Any) -> str:
    """A value as the YAML author wrote it: ``a string ('x')``, ``a list``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, date):  # a datetime is a date too
        return f"a date ({value.isoformat()})"
    if isinstance(value, list | tuple | dict):
        return "a mapping" if isinstance(value, dict) else "a list"
    for kind, name in _SCALARS:
        if isinstance(value, kind):
            return f"{name} ({str(value).lower() if isinstance(value, bool) else value})"
    return type(value).__name__


def _string(value: Any, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise fail(Kind.WRONG_TYPE, f"expected {what}, got {describe(value)}")
    return value


def _integer(value: Any, what: str = "an integer") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(Kind.WRONG_TYPE, f"expected {what}, got {describe(value)}")
    return value


# -- text and identifiers --------------------------------------------------------------------------


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _text(value: Any) -> str:
    text = nfc(_string(value)).strip()
    if not text:
        raise fail(Kind.INVALID_VALUE, "must not be empty")
    return text


Text = Annotated[str, PlainValidator(_text)]
"""Free text (names of agencies and people, descriptions): non-empty, stripped, NFC."""


def _pattern(regex: str, rule: str) -> Callable[[Any], str]:
    compiled = re.compile(regex)

    def validate(value: Any) -> str:
        text = _string(value)
        if not compiled.fullmatch(text):
            raise fail(Kind.INVALID_VALUE, f"{text!r} is not valid: {rule}")
        return text

    return validate


Code = Annotated[
    str,
    PlainValidator(
        _pattern(
            r"[a-z][a-z0-9-]{0,30}[a-z0-9]",
            "an agency code is 2-32 lowercase ASCII letters, digits or '-', starting with a letter",
        )
    ),
]
"""A stable agency code (``soyte``): the file name, the project name, the Ansible group."""

Name = Annotated[
    str,
    PlainValidator(
        _pattern(
            r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}",
            "a name is 1-64 ASCII letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit",
        )
    ),
]
"""An OpenStack resource or cross-reference name (user, network, security group, template…)."""

Email = Annotated[
    str,
    PlainValidator(
        _pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address looks like name@agency.gov.vn")
    ),
]


# -- numbers ---------------------------------------------------------------------------------------


def _level(value: Any) -> int:
    level = _integer(value, "a security level 1-5")
    if not 1 <= level <= 5:
        raise fail(
            Kind.OUT_OF_RANGE, f"security level (cấp độ) must be 1-5 (Decree 85/2016), got {level}"
        )
    return level


Level = Annotated[int, PlainValidator(_level)]


def _count(value: Any) -> int:
    number = _integer(value, "a whole number")
    if number < 0:
        raise fail(
            Kind.OUT_OF_RANGE,
            f"must be 0 or more, got {number} (-1, unlimited, is never allowed in a spec)",
        )
    return number


Count = Annotated[int, PlainValidator(_count)]
"""A limit or size ≥ 0 (quotas, disk sizes)."""


def _positive(value: Any) -> int:
    number = _integer(value, "a whole number")
    if number < 1:
        raise fail(Kind.OUT_OF_RANGE, f"must be 1 or more, got {number}")
    return number


Positive = Annotated[int, PlainValidator(_positive)]


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        raise fail(Kind.WRONG_TYPE, f"expected a date (YYYY-MM-DD), got {describe(value)}")
    if isinstance(value, date):
        return value
    text = _string(value, "a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(Kind.INVALID_VALUE, f"{text!r} is not a date (YYYY-MM-DD)") from None


Day = Annotated[date, PlainValidator(_day), PlainSerializer(date.isoformat)]


# -- roles -----------------------------------------------------------------------------------------

Role = Literal["member", "reader"]
ALLOWED_ROLES: tuple[Role, ...] = ("member", "reader")


def _role(value: Any) -> Role:
    role = _string(value, "a role name")
    if role in ALLOWED_ROLES:
        return role
    if role.lower() == "admin":
        raise fail(
            Kind.ROLE_NOT_ALLOWED,
            "the admin role is never granted inside an agency project: keystone's admin on any "
            "project is admin of the whole cloud; use member (or reader)",
        )
    raise fail(Kind.ROLE_NOT_ALLOWED, f"role {role!r} is not allowed; use member or reader")


AgencyRole = Annotated[Role, PlainValidator(_role)]


# -- networks --------------------------------------------------------------------------------------


def _cidr(value: Any) -> IPNetwork:
    text = _string(value, "a CIDR such as 10.11.0.0/24")
    if "/" not in text:
        raise fail(Kind.INVALID_CIDR, f"{text!r} is not a CIDR: add the prefix length (/24)")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        raise fail(Kind.INVALID_CIDR, f"{text!r} is not a valid CIDR: {error}") from None


Cidr = Annotated[IPNetwork, PlainValidator(_cidr), PlainSerializer(str)]


def _ip(value: Any) -> IPAddress:
    text = _string(value, "an IP address")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise fail(Kind.INVALID_VALUE, f"{text!r} is not an IP address") from None


IP = Annotated[IPAddress, PlainValidator(_ip), PlainSerializer(str)]


class PortRange(NamedTuple):
    """An inclusive port range; a single port has ``low == high``."""

    low: int
    high: int

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def _port(text: str, original: Any) -> int:
    if not text.isdigit():
        raise fail(
            Kind.INVALID_PORT_RANGE,
            f"{original!r} is not a port or range: write 443 or 8000-8080",
        )
    return int(text)


def _port_range(value: Any) -> PortRange:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise fail(
            Kind.WRONG_TYPE,
            f"expected a port (443) or a range ('8000-8080'), got {describe(value)}",
        )
    if isinstance(value, int):
        low = high = value
    else:
        low_text, _, high_text = value.strip().partition("-")
        low = _port(low_text.strip(), value)
        high = _port(high_text.strip(), value) if high_text else low
    for port in (low, high):
        if not 1 <= port <= 65535:
            raise fail(Kind.INVALID_PORT_RANGE, f"port {port} is outside 1-65535")
    if low > high:
        raise fail(Kind.INVALID_PORT_RANGE, f"range {low}-{high} runs backwards")
    return PortRange(low, high)


PortRangeField = Annotated[PortRange, PlainValidator(_port_range), PlainSerializer(str)]

Protocol = Literal["tcp", "udp", "icmp", "icmpv6", "any"]
Direction = Literal["ingress", "egress"]
Ethertype = Literal["IPv4", "IPv6"]
