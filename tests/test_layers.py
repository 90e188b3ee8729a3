"""Layer rules, until import-linter checks them: the adapters (`whaticket/whatsapp/`,
`whaticket/payments/`) import no models, services, jobs, database or extensions."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import whaticket

#: Packages the adapters must not reach, directly or through what they import.
FORBIDDEN = (
    "whaticket.models",
    "whaticket.services",
    "whaticket.jobs",
    "whaticket.db",
    "whaticket.extensions",
)
ADAPTER_PACKAGES = ("whaticket.whatsapp", "whaticket.payments")

#: Run in a fresh interpreter: import the package root (whatever it pulls in is not an
#: adapter's doing), then every adapter module, and report (a) the forbidden modules that
#: appeared in sys.modules meanwhile and (b) every import statement an adapter module ran
#: for a forbidden module, even one already loaded (so the root cannot hide it).
_PROBE = """
import builtins, importlib, json, sys
import whaticket
FORBIDDEN = tuple(sys.argv[1].split(","))
ADAPTERS = tuple(sys.argv[2].split(","))
MODULES = sys.argv[3].split(",")
def forbidden(name):
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
def adapter(name):
    return any(name == a or name.startswith(a + ".") for a in ADAPTERS)
direct = []
real_import = builtins.__import__
def spy(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "")
    if adapter(importer):
        package = (globals or {}).get("__package__") or importer
        target = importlib.util.resolve_name("." * level + name, package) if level else name
        targets = [target] + [f"{target}.{item}" for item in fromlist or () if item != "*"]
        direct.extend(f"{importer} -> {t}" for t in targets if forbidden(t))
    return real_import(name, globals, locals, fromlist, level)
before = set(sys.modules)
builtins.__import__ = spy
try:
    for module in MODULES:
        importlib.import_module(module)
finally:
    builtins.__import__ = real_import
loaded = sorted(m for m in set(sys.modules) - before if forbidden(m))
print(json.dumps({"loaded": loaded, "direct": sorted(set(direct)), "imported": MODULES}))
"""


def _adapter_modules() -> list[str]:
    """Every module of the adapter packages, found on disk (a new one is checked too)."""
    root = Path(whaticket.__file__).parent
    found: list[str] = []
    for package in ADAPTER_PACKAGES:
        path = root / package.split(".", 1)[1]
        found.append(package)
        for info in pkgutil.walk_packages([str(path)], prefix=f"{package}."):
            found.append(info.name)
    return sorted(found)


def _probe(modules: list[str], adapters: tuple[str, ...] = ADAPTER_PACKAGES) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(FORBIDDEN), ",".join(adapters), ",".join(modules)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=Path(whaticket.__file__).parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_adapters_are_found():
    modules = _adapter_modules()
    for expected in (
        "whaticket.whatsapp.cloud.client",
        "whaticket.whatsapp.cloud.parser",
        "whaticket.whatsapp.evolution.client",
        "whaticket.whatsapp.evolution.parser",
        "whaticket.whatsapp.fake.provider",
        "whaticket.payments.efi",
        "whaticket.payments.fake",
    ):
        assert expected in modules


def test_adapters_import_no_models_services_jobs_or_database():
    result = _probe(_adapter_modules())
    assert result["imported"] == _adapter_modules()
    assert result["direct"] == [], "adapter modules import: " + ", ".join(result["direct"])
    assert result["loaded"] == [], "importing the adapters loaded: " + ", ".join(result["loaded"])


def test_the_probe_sees_a_forbidden_import():
    """The check can fail: the services binding imports models and jobs, and taken for an
    adapter its own import statements are reported."""
    result = _probe(
        ["whaticket.services.connections.gateway"],
        adapters=("whaticket.services.connections.gateway",),
    )
    assert "whaticket.models" in result["loaded"] and "whaticket.jobs" in result["loaded"]
    assert "whaticket.services.connections.gateway -> whaticket.models" in result["direct"]
