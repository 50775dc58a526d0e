import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reference: needs the AlphaFold2 reference environment (slow to build once, then cached)")
