"""What an authenticator app does: RFC 6238 codes from the key, written here independently of
django-otp so the tests prove that a real app, given the page's key, would get in."""

import base64
import hashlib
import hmac
import re
import time


def code(key: bytes, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def device_code(device, at: float | None = None) -> str:
    return code(bytes.fromhex(device.key), at)


def key_from_page(html: str) -> bytes:
    """The manual key as the page shows it (base32 in groups of four), as a user would type it."""
    shown = re.search(r'<code class="[^"]*totp-key">([A-Z2-7 ]+)</code>', html).group(1)
    return base64.b32decode(shown.replace(" ", ""))
