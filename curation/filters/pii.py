"""Mask e-mail addresses and public IP addresses (datatrove PIIFormatter's patterns and replacements).

Replacements cycle per document (datatrove cycles per process), so the output does not depend on
which worker saw which document. Private, loopback and reserved IPs are not personal: untouched.
"""

from __future__ import annotations

import ipaddress
import re

from curation.filters.config import PiiConfig

EMAIL = re.compile(
    r"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:["
    r"A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|["
    r"01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)])"
)
IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)")
EMAIL_REPLACEMENTS = ("email@example.com", "firstname.lastname@example.org")
# datatrove's list: random addresses that did not answer pings when it was made
IP_REPLACEMENTS = (
    "22.214.171.124", "126.96.36.199", "188.8.131.52", "184.108.40.206", "220.127.116.11", "18.104.22.168",
)


def is_public_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return False


def mask_pii(text: str, cfg: PiiConfig) -> tuple[str, int, int]:
    """(masked text, e-mails masked, public IPs masked)."""
    emails = ips = 0
    if cfg.emails and "@" in text:

        def email(match: re.Match) -> str:
            nonlocal emails
            emails += 1
            return EMAIL_REPLACEMENTS[(emails - 1) % len(EMAIL_REPLACEMENTS)]

        text = EMAIL.sub(email, text)
    if cfg.ips and "." in text:

        def ip(match: re.Match) -> str:
            nonlocal ips
            if not is_public_ip(match.group(0)):
                return match.group(0)
            ips += 1
            return IP_REPLACEMENTS[(ips - 1) % len(IP_REPLACEMENTS)]

        text = IPV4.sub(ip, text)
    return text, emails, ips
