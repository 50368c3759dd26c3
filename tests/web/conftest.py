import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Personas hash five passwords; PBKDF2 makes that a second per test, and it is not what these test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
