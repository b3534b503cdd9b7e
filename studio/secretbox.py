"""Provider secrets at rest: encrypted with a key the database never holds.

The key is SLATE_SECRETS_KEY when set (a Fernet key), else derived from
SECRET_KEY. Changing either makes stored API keys unreadable: Slate then says
so and asks for the key again rather than failing obscurely.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    pass


def _fernet() -> Fernet:
    if key := getattr(settings, "SLATE_SECRETS_KEY", ""):
        return Fernet(key)
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"slate-secretbox", info=b"provider secrets"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "A stored provider secret can't be read (SECRET_KEY or SLATE_SECRETS_KEY changed). "
            "Remove the provider and add it again."
        ) from error


def hint(secret: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"


def fingerprint(*parts: str) -> str:
    """A stable, non-reversible name for a credential (rate-limit buckets, logs)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
