"""Password hashing for the web UI's sign-in: argon2id through argon2-cffi."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_stand_in = []  # a hash to check against when there is no user: the same work either way


def hash_password(password):
    return _hasher.hash(password)


def verify_password(stored_hash, password):
    if not stored_hash:
        if not _stand_in:
            _stand_in.append(_hasher.hash("no such user"))
        try:
            _hasher.verify(_stand_in[0], password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
