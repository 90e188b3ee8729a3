"""The test suite. Importing it finds the real services the run may use (see
services_found): that must happen before whaticket.config reads its environment."""

from tests import services_found

services_found.probe()
