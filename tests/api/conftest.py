from tests.api.client import api  # noqa: F401 - the fixture every API test uses
