"""PII scrubber: what is replaced, what is counted, and the near-misses left alone."""

from __future__ import annotations

import ipaddress
import random

import polars as pl
import pyarrow as pa
import pytest

from babelmill.processors.pii import IPV4_PATTERN, IPV6_PATTERN, NON_GLOBAL_V4, PIIScrubber


def scrub(texts: list[str | None], **kwargs) -> tuple[list[str | None], dict[str, int]]:
    stage = PIIScrubber(**kwargs)
    out = stage(pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())}))
    assert out.num_rows == len(texts) and "drop_reason" not in out.column_names
    return out.column("text").to_pylist(), dict(stage.take_counters())


def test_emails_ips_phones_replaced_and_counted() -> None:
    texts = [
        "Write to john.doe@example.com or jane_smith+news@mail.co.uk today.",
        "DNS 8.8.8.8 1.1.1.1,9.9.9.9 (ends with 8.8.4.4.)",
        "v6: 2606:4700:4700::1111 and 2001:4860:4860:0:0:0:0:8888",
        "Call +1 (555) 123-4567, 555-123-4567, +44 20 7946 0958, 020 7946 0958, +4915112345678 or 01 23 45 67 89.",
        None,
    ]
    out, counts = scrub(texts)
    assert out[0] == "Write to <EMAIL> or <EMAIL> today."
    assert out[1] == "DNS <IP_ADDRESS> <IP_ADDRESS>,<IP_ADDRESS> (ends with <IP_ADDRESS>.)"
    assert out[2] == "v6: <IP_ADDRESS> and <IP_ADDRESS>"
    assert out[3] == "Call " + ", ".join(["<PHONE_NUMBER>"] * 5) + " or <PHONE_NUMBER>."
    assert out[4] is None
    assert counts == {"email": 2, "ip": 6, "phone": 6}


def test_private_and_documentation_addresses_kept() -> None:
    text = "LAN 192.168.1.1, 10.0.0.1, 127.0.0.1, 172.16.5.4, 169.254.0.1, doc 192.0.2.10, 2001:db8::1, fe80::1, ::1 and fd00::1."
    out, counts = scrub([text])
    assert out == [text] and counts == {}


@pytest.mark.parametrize(
    "text",
    [
        "The meeting is on 2024-01-15 at 10:30:00, or 15.01.2024, or 15/01/2024.",
        "Upgrade from v1.2.3 to 2.0.1 and then 1.2.3.4.5 (build 20240115).",
        "It costs 1,000,000 dollars, 1 000 000 euros, 10 000 000 shillings or 1.000.000 lire.",
        "In 2019 2020 2021 the ranges were 1990-2000 and 1995-2000-2005; score 3-2.",
        "ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2, zip 12345-6789, pi 3.14159.",
        "Order number 1234567 and account 12345678901 shipped.",
        "Write at example dot com, or @handle, or a@b.",
    ],
)
def test_near_misses_untouched(text: str) -> None:
    out, counts = scrub([text])
    assert out == [text] and counts == {}


def test_kinds_can_be_switched_off_and_placeholders_configured() -> None:
    text = "mail me@example.org from 8.8.8.8 or call +1 555 123 4567"
    out, counts = scrub([text], emails=False, phones=False, ip_placeholder="[IP $1]")
    assert out == ["mail me@example.org from [IP $1] or call +1 555 123 4567"]
    assert counts == {"ip": 1}


def test_ipv4_pattern_agrees_with_ipaddress() -> None:
    """Public (global, non-multicast) addresses and nothing else, checked at every range edge."""
    rng = random.Random(7)
    addrs = [".".join(str(rng.randrange(256)) for _ in range(4)) for _ in range(3000)]
    for net in map(ipaddress.ip_network, NON_GLOBAL_V4):
        for a in (
            int(net.network_address) - 1,
            int(net.network_address),
            int(net.broadcast_address),
            int(net.broadcast_address) + 1,
        ):
            if 0 <= a < 2**32:
                addrs.append(str(ipaddress.ip_address(a)))
    found = pl.Series([f"host {a} up" for a in addrs]).str.count_matches(IPV4_PATTERN).to_list()
    for addr, n in zip(addrs, found, strict=True):
        ip = ipaddress.ip_address(addr)
        assert bool(n) == (ip.is_global and not ip.is_multicast), addr


def test_ipv6_pattern_global_unicast_only() -> None:
    public = ["2a00:1450:4001:82a::200e", "2400:cb00:2048:1:0:0:6ca2:c665", "2001:200::1", "2002::1", "3000::"]
    private = [
        "2001:db8::1",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "2001::1",
        "fe80::1",
        "::1",
        "fd00::1",
        "ff02::1",
    ]
    found = pl.Series([f"at {a} now" for a in public + private]).str.count_matches(IPV6_PATTERN).to_list()
    assert found == [1] * len(public) + [0] * len(private)
