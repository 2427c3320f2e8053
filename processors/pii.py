"""PII scrubbing: emails, public IP addresses and phone numbers become placeholders.

Every kind is one regex applied with polars ``str.replace_all`` over the whole text
column, counted with ``str.count_matches`` first.  The Rust regex engine has no
look-around, so the decisions datatrove's ``PIIFormatter`` makes in Python (only
*public* IPs are PII, ``ipaddress.ip_address(...).is_global``) are compiled into the
patterns themselves: the IPv4 pattern is generated from the list of non-global networks.
"""

from __future__ import annotations

import ipaddress
from typing import ClassVar

import polars as pl
import pyarrow as pa

from babelmill.processors.base import Stage

#: IPv4 networks that are not PII: what Python's ``ipaddress`` calls non-global
#: (RFC 1918 private, loopback, link-local, CGNAT, documentation, benchmarking,
#: reserved), plus multicast, which names a group, never a host.
NON_GLOBAL_V4: tuple[str, ...] = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/29",
    "192.0.0.170/31",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)

# Separators allowed inside a phone number: space, no-break space, dot, hyphen.
_SEP = r"[ \x{00A0}.\-]"


def _number_set(values: list[int]) -> str:
    """A regex matching exactly the decimal numbers in ``values`` (no leading zeros)."""
    trie: dict = {}
    for v in values:
        node = trie
        for ch in str(v):
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        groups: dict[str, list[str]] = {}
        for ch, child in node.items():
            if ch == "":
                continue
            groups.setdefault(emit(child), []).append(ch)
        branches = []
        for sub, chars in groups.items():
            head = chars[0] if len(chars) == 1 else "[" + "".join(sorted(chars)) + "]"
            branches.append(head + sub)
        if "" in node:
            branches.append("")
        if not branches:
            return ""
        if len(branches) == 1:
            return branches[0]
        # the empty branch last, so that longer numbers are tried first
        return "(?:" + "|".join(sorted(branches, key=lambda b: b == "")) + ")"

    return emit(trie)


def _public_ipv4_pattern(excluded: tuple[str, ...] = NON_GLOBAL_V4) -> str:
    """A regex for exactly the dotted-quad addresses outside ``excluded``.

    Walks the address space octet by octet: a prefix that overlaps no excluded network
    takes any remaining octets, one inside an excluded network is left out, and one that
    straddles a boundary is split on the next octet.
    """
    nets = [ipaddress.ip_network(n) for n in excluded]
    any_octet = _number_set(list(range(256)))

    def walk(prefix: tuple[int, ...]) -> str:
        depth = len(prefix)
        full: list[int] = []
        partial: list[str] = []
        for v in range(256):
            octets = (*prefix, v)
            bits = 8 * len(octets)
            net = ipaddress.ip_network(".".join(map(str, (*octets, *([0] * (4 - len(octets)))))) + f"/{bits}")
            if any(net.subnet_of(x) for x in nets):
                continue
            if not any(net.overlaps(x) for x in nets):
                full.append(v)
                continue
            partial.append(f"{v}\\.{walk(octets)}")
        tail = "".join([r"\." + any_octet] * (3 - depth))
        branches = [_number_set(full) + tail] if full else []
        branches += partial
        return "(?:" + "|".join(branches) + ")"

    return walk(())


def _public_ipv6_pattern() -> str:
    """Global-unicast IPv6 (2000::/3) in full or ``::``-compressed form.

    Documentation (2001:db8::/32) and IETF protocol (2001::/23) addresses are left out:
    after ``2001`` the second group must be 0x200 or above and not db8.
    """
    h = r"[0-9a-fA-F]{1,4}"
    first = r"(?:2(?:00[02-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]|[1-9a-fA-F][0-9a-fA-F]{2})|3[0-9a-fA-F]{3})"
    second_2001 = r"(?:[1-9a-fA-F][0-9a-fA-F]{3}|0?(?:[2-9a-cA-CeEfF][0-9a-fA-F]{2}|[dD][0-9aAc-fC-F][0-9a-fA-F]|[dD][bB][0-79a-fA-F]))"
    branches = []
    for head, used in ((first, 1), (r"2001:" + second_2001, 2)):
        rest = 8 - used
        branches.append(head + rf"(?::{h}){{{rest}}}")
        for before in range(rest):  # groups after the head and before "::"
            after_max = rest - before - 1  # "::" stands for at least one group
            after = rf"(?:{h}(?::{h}){{0,{after_max - 1}}})?" if after_max >= 1 else ""
            branches.append(head + (rf"(?::{h}){{{before}}}" if before else "") + "::" + after)
    return "(?:" + "|".join(branches) + ")"


EMAIL_PATTERN = (
    r"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})\b"
)

# Address bodies need context on both sides (not inside a longer dotted or hex run, a
# version such as 1.2.3.4.5 or a word); without look-around the context is captured and
# written back (${1}, ${2}).
IPV4_PATTERN = r"(^|[^\w.])" + _public_ipv4_pattern() + r"(\.?(?:[^\w.]|$))"
IPV6_PATTERN = r"(^|[^\w:.])" + _public_ipv6_pattern() + r"(\.?(?:[^\w:.]|$))"

PHONE_PATTERN = "|".join(
    (
        # international: +country code, then 6-14 digits, each optionally followed by a separator,
        # optionally an area code in parentheses after the country code
        rf"\+[1-9][0-9]{{0,2}}{_SEP}?(?:\(0?[0-9]{{1,4}}\){_SEP}?)?(?:[0-9]{_SEP}?){{5,13}}[0-9]\b",
        # national, three groups: area code (trunk 0 + 1-3 digits, or 3 digits from 2-9, or in
        # parentheses), 3-4 digits, 4 digits.  Dates (2024-01-15, 15-01-2024), years,
        # thousands ("10 000 000") and ISBN groups never have this shape.
        rf"(?:\b1{_SEP})?(?:\(0?[0-9]{{2,4}}\){_SEP}?|\b(?:0[0-9]{{1,3}}|[2-9][0-9]{{2}}){_SEP})[0-9]{{3,4}}{_SEP}[0-9]{{4}}\b",
        # the French/Belgian five pairs: 01 23 45 67 89
        rf"\b0[1-9](?:{_SEP}[0-9]{{2}}){{4}}\b",
    )
)


def _literal_replacement(text: str) -> str:
    """Escape ``$`` so a placeholder is never read as a capture-group reference."""
    return text.replace("$", "$$")


class PIIScrubber(Stage):
    """Replaces emails, public IPv4/IPv6 addresses and phone numbers with placeholders.

    Never drops a row.  Counters ``email``, ``ip`` and ``phone`` hold the number of
    replacements.  Private, loopback, documentation and other non-routable addresses are
    kept, as in datatrove's ``PIIFormatter`` (``only_remove_public_ips=True``): they say
    nothing about a person.
    """

    name: ClassVar[str] = "pii"

    def __init__(
        self,
        emails: bool = True,
        ips: bool = True,
        phones: bool = True,
        email_placeholder: str = "<EMAIL>",
        ip_placeholder: str = "<IP_ADDRESS>",
        phone_placeholder: str = "<PHONE_NUMBER>",
    ) -> None:
        self.emails = emails
        self.ips = ips
        self.phones = phones
        self.email_placeholder = email_placeholder
        self.ip_placeholder = ip_placeholder
        self.phone_placeholder = phone_placeholder

    def scrub(self, text: pl.Series) -> pl.Series:
        """The replaced column; counts go to the stage counters."""
        if self.emails:
            text = self._replace(text, "email", EMAIL_PATTERN, _literal_replacement(self.email_placeholder))
        if self.ips:
            ip = "${1}" + _literal_replacement(self.ip_placeholder) + "${2}"
            for pattern in (IPV4_PATTERN, IPV6_PATTERN):
                # A match consumes one character of context on each side, so of two
                # addresses one separator apart the second is found by a second pass.
                for _ in range(2):
                    text = self._replace(text, "ip", pattern, ip)
        if self.phones:
            text = self._replace(text, "phone", PHONE_PATTERN, _literal_replacement(self.phone_placeholder))
        return text

    def _replace(self, text: pl.Series, kind: str, pattern: str, replacement: str) -> pl.Series:
        found = int(text.str.count_matches(pattern).sum() or 0)
        if not found:
            return text
        self.count(kind, found)
        return text.str.replace_all(pattern, replacement)

    def __call__(self, batch: pa.Table) -> pa.Table:
        if not batch.num_rows:
            return batch
        text = pl.Series("text", pl.from_arrow(batch.column("text")), dtype=pl.String)
        scrubbed = self.scrub(text).to_arrow().cast(pa.string())
        return batch.set_column(batch.column_names.index("text"), "text", scrubbed)
