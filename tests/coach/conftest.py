from tests.api.conftest import client_for

__all__ = ["client_for"]
