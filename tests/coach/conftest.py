from tests.api.conftest import _fast_password_hashing, client_for

__all__ = ["_fast_password_hashing", "client_for"]
