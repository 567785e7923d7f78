"""Keep secrets out of every log line, whatever library writes it.

keystoneauth logs request bodies at debug level (``dcctl -vv``), and a user-create body holds
the new password. A filter on the log handlers masks password-like fields in any message and
every secret dcctl generated in this process, before the record is formatted.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "***"
_FIELDS = r"(?:password|original_password|new_password|secret|token|auth_token|admin_password)"
_PATTERNS = (
    re.compile(r'("' + _FIELDS + r'"\s*:\s*")((?:[^"\\]|\\.)*)(")', re.IGNORECASE),
    re.compile(r"('" + _FIELDS + r"'\s*:\s*')((?:[^'\\]|\\.)*)(')", re.IGNORECASE),
    re.compile(r"(\b" + _FIELDS + r"=)([^\s&,;]+)()", re.IGNORECASE),
    re.compile(r"(X-Auth-Token:\s*|X-Subject-Token:\s*)(\S+)()", re.IGNORECASE),
)

_known: set[str] = set()
_lock = threading.Lock()


def register_secret(secret: str) -> str:
    """Remember ``secret`` so that it is masked wherever it appears; returns it unchanged."""
    if len(secret) >= 6:
        with _lock:
            _known.add(secret)
    return secret


def redact_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install(handler: logging.Handler | None = None) -> None:
    """Attach the filter to ``handler`` or to every handler of the root logger."""
    handlers = [handler] if handler is not None else logging.getLogger().handlers
    for item in handlers:
        if not any(isinstance(f, RedactingFilter) for f in item.filters):
            item.addFilter(RedactingFilter())
