"""The ERR_ catalogue matches the source (every code, no stale one, the statuses raised) and
`docs/errors.md` matches the catalogue."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from whaticket import error_codes
from whaticket.error_codes import CATALOGUE, PATTERNS, markdown_table, meaning, status_of

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "whaticket"
CATALOGUE_FILE = PACKAGE / "error_codes.py"
DOC = ROOT / "docs" / "errors.md"
API = "whaticket/api/"

LITERAL = re.compile(r'"(ERR_[A-Z0-9_]+)"')
#: The constant head of a code built at run time, e.g. f"ERR_EFI_HTTP_{status}".
FSTRING_HEAD = re.compile(r'f"(ERR_[A-Z0-9_]+)\{')
DOC_TOKEN = re.compile(r"\bERR_[A-Z0-9_]+")

#: Calls that answer a code with a status: name -> (index of the code argument, index of
#: the status argument or None when it is keyword-only or absent, the status when left out).
STATUS_ARG: dict[str, tuple[int, int | None, int | None]] = {
    "AppError": (0, 1, 400),
    "TextError": (0, 2, 400),
    "PaymentError": (0, None, 502),
    "_err": (0, 1, None),  # security.py's JWT refusals: _err(code, status)
    "get_owned": (3, None, 404),  # get_owned(model, id, company_id, code, *, status=404)
    "enforce_limit": (3, None, 400),  # enforce_limit(company_id, model, limit, code)
}

PREFIXES = {key.split("<")[0]: key for key in PATTERNS}


def _sources() -> dict[str, str]:
    """Every module of the package but the catalogue, by path relative to the repository."""
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != CATALOGUE_FILE
    }


SOURCES = _sources()


def _int_values(node: ast.expr | None) -> set[int] | None:
    """The statuses an expression can take: an int, or `a if cond else b` of ints."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _int_values(node.body), _int_values(node.orelse)
        if body is not None and orelse is not None:
            return body | orelse
    return None


def _constants(tree: ast.Module) -> dict[str, str]:
    """A module's top-level `NAME = "ERR_..."` constants."""
    out: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
            value = stmt.value.value
            if isinstance(value, str) and value.startswith("ERR_"):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        out[target.id] = value
    return out


TREES = {path: ast.parse(text, filename=path) for path, text in SOURCES.items()}
LOCAL_CONSTANTS = {path: _constants(tree) for path, tree in TREES.items()}


def _unique_constants() -> dict[str, str]:
    """Constants whose name means one code across the package (`standing.EXPIRED`)."""
    seen: dict[str, set[str]] = {}
    for consts in LOCAL_CONSTANTS.values():
        for name, value in consts.items():
            seen.setdefault(name, set()).add(value)
    return {name: next(iter(values)) for name, values in seen.items() if len(values) == 1}


GLOBAL_CONSTANTS = _unique_constants()


def _code(node: ast.expr, path: str) -> str | None:
    """The ERR_ code an argument names: a literal, or a constant of this module or unique."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if node.value.startswith("ERR_") else None
    if isinstance(node, ast.Name):
        return LOCAL_CONSTANTS[path].get(node.id) or GLOBAL_CONSTANTS.get(node.id)
    if isinstance(node, ast.Attribute):
        return GLOBAL_CONSTANTS.get(node.attr)
    if isinstance(node, ast.JoinedStr) and node.values:
        # f"ERR_EFI_HTTP_{status}": its constant head, which status_of resolves by prefix
        head = node.values[0]
        if isinstance(head, ast.Constant) and str(head.value).startswith("ERR_"):
            return str(head.value)
    return None


def _status_args() -> dict[str, tuple[int, int | None, int | None]]:
    """STATUS_ARG plus the AppError subclasses that keep their parent's constructor."""
    table = dict(STATUS_ARG)
    classes = [node for tree in TREES.values() for node in ast.walk(tree)]
    changed = True
    while changed:
        changed = False
        for node in classes:
            if not isinstance(node, ast.ClassDef) or node.name in table:
                continue
            own_init = any(
                isinstance(item, ast.FunctionDef) and item.name == "__init__" for item in node.body
            )
            bases = [b.id for b in node.bases if isinstance(b, ast.Name) and b.id in table]
            if bases and not own_init:
                table[node.name] = table[bases[0]]
                changed = True
    return table


def _callee(node: ast.Call) -> str | None:
    """The called name of `Name(...)` or `module.Name(...)`."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _raised_statuses() -> Iterator[tuple[str, int, str, set[int]]]:
    """(path, line, code, statuses) of every error built with a literal status."""
    table = _status_args()
    for path, tree in TREES.items():
        for node in ast.walk(tree):
            name = _callee(node) if isinstance(node, ast.Call) else None
            if isinstance(node, ast.Call) and name in table:
                code_index, index, default = table[name]
                if len(node.args) <= code_index:
                    continue
                code = _code(node.args[code_index], path)
                status: ast.expr | None = None
                if index is not None and len(node.args) > index:
                    status = node.args[index]
                status = next((k.value for k in node.keywords if k.arg == "status"), status)
                values = _int_values(status)
                if values is None and status is None and default is not None:
                    values = {default}
                if code and values:
                    yield path, node.lineno, code, values
            elif isinstance(node, ast.Tuple) and len(node.elts) >= 2:
                # return jsonify({"error": "ERR_X"}), NNN
                first, values = node.elts[0], _int_values(node.elts[1])
                if not (isinstance(first, ast.Call) and _callee(first) == "jsonify"):
                    continue
                if values and first.args and isinstance(first.args[0], ast.Dict):
                    body = first.args[0]
                    for key, value in zip(body.keys, body.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "error":
                            code = _code(value, path)
                            if code:
                                yield path, node.lineno, code, values
            elif isinstance(node, ast.Dict) and node.keys and path.startswith(API):
                # {status: "ERR_X"} tables of the HTTP face (werkzeug's errors); elsewhere
                # such a table maps a provider's status, not ours.
                for key, value in zip(node.keys, node.values, strict=True):
                    code, values = _code(value, path), _int_values(key)
                    if code and values:
                        yield path, node.lineno, code, values


def test_every_code_in_the_source_is_catalogued() -> None:
    """Each "ERR_..." literal under whaticket/ has an entry; each f"ERR_...{" a pattern."""
    missing = [
        f"{path}: {code}"
        for path, text in SOURCES.items()
        for code in sorted(set(LITERAL.findall(text)))
        if code not in CATALOGUE
    ]
    assert not missing, "codes missing from whaticket/error_codes.py:\n" + "\n".join(missing)
    unknown = [
        f"{path}: {head}"
        for path, text in SOURCES.items()
        for head in sorted(set(FSTRING_HEAD.findall(text)))
        if head not in PREFIXES
    ]
    assert not unknown, "built codes missing from error_codes.PATTERNS:\n" + "\n".join(unknown)


def test_no_stale_entry() -> None:
    """Every catalogued code and pattern is still used somewhere under whaticket/."""
    used = {code for text in SOURCES.values() for code in LITERAL.findall(text)}
    stale = sorted(set(CATALOGUE) - used)
    assert not stale, f"catalogued but never used: {stale}"
    heads = {head for text in SOURCES.values() for head in FSTRING_HEAD.findall(text)}
    stale_patterns = sorted(key for head, key in PREFIXES.items() if head not in heads)
    assert not stale_patterns, f"patterns never built: {stale_patterns}"


def test_raised_statuses_are_catalogued() -> None:
    """`AppError("ERR_X", NNN)` and friends use a status the catalogue lists for ERR_X."""
    checked = list(_raised_statuses())
    # A parser that stopped matching would pass vacuously.
    assert len(checked) > 200
    wrong = [
        f"{path}:{line}: {code} raised with {sorted(values)}, catalogued {status_of(code)}"
        for path, line, code, values in checked
        if not values <= set(status_of(code))
    ]
    assert not wrong, "statuses missing from whaticket/error_codes.py:\n" + "\n".join(wrong)


def test_code_forwarding_helpers_are_known() -> None:
    """A function that passes a parameter as the code of an error is in STATUS_ARG, so the
    codes its callers hand it are checked too (like `get_owned(..., "ERR_X")`)."""
    table = _status_args()
    unknown = []
    for path, tree in TREES.items():
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = {
                a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
            }
            for node in ast.walk(func):
                name = _callee(node) if isinstance(node, ast.Call) else None
                if not isinstance(node, ast.Call) or name not in table:
                    continue
                code_index = table[name][0]
                arg = node.args[code_index] if len(node.args) > code_index else None
                if isinstance(arg, ast.Name) and arg.id in params and func.name not in table:
                    unknown.append(f"{path}:{node.lineno}: {func.name}({arg.id}) -> {name}")
    assert not unknown, "add these helpers to STATUS_ARG:\n" + "\n".join(unknown)


def test_catalogue_shape() -> None:
    """Sorted, meanings that fit a table cell, and pure data (nothing from whaticket)."""
    assert list(CATALOGUE) == sorted(CATALOGUE)
    for code, entry in {**CATALOGUE, **PATTERNS}.items():
        assert re.fullmatch(r"ERR_[A-Z0-9_]+(<[a-z ]+>)?", code), code
        assert entry.meaning and "|" not in entry.meaning and "\n" not in entry.meaning, code
        assert all(400 <= s <= 599 for s in entry.statuses), code
        assert list(entry.statuses) == sorted(set(entry.statuses)), code
    tree = ast.parse(CATALOGUE_FILE.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not [name for name in imported if name.split(".")[0] == "whaticket"]
    assert len(CATALOGUE_FILE.read_text(encoding="utf-8").splitlines()) < 400


@pytest.mark.parametrize(
    ("code", "statuses"),
    [
        ("ERR_NO_WAPP_FOUND", (400, 404)),
        ("ERR_INVALID_TOKEN", (401, 403)),
        ("ERR_CLOUD_TIMEOUT", ()),
        ("ERR_CLOUD_131026", ()),
        ("ERR_CLOUD_HTTP_500", ()),
        ("ERR_EFI_HTTP_500", (502,)),
    ],
)
def test_status_of(code: str, statuses: tuple[int, ...]) -> None:
    """Exact codes first, then the longest pattern; each has a meaning."""
    assert status_of(code) == statuses
    assert meaning(code)


def test_unknown_code_is_a_key_error() -> None:
    """An unknown code is an error, not a silent default."""
    with pytest.raises(KeyError):
        status_of("ERR_NEVER_HEARD_OF")
    with pytest.raises(KeyError):
        error_codes.meaning("NOT_AN_ERR")


def test_doc_lists_exactly_the_catalogue() -> None:
    """docs/errors.md names every code, no other, and its table is `markdown_table()`."""
    text = DOC.read_text(encoding="utf-8")
    absent = [code for code in [*CATALOGUE, *PATTERNS] if f"`{code}`" not in text]
    assert not absent, f"docs/errors.md lacks: {absent}"
    known = set(CATALOGUE) | set(PREFIXES)
    foreign = sorted(set(DOC_TOKEN.findall(text)) - known)
    assert not foreign, f"docs/errors.md names uncatalogued codes: {foreign}"
    table = "".join(line + "\n" for line in text.splitlines() if line.startswith("|"))
    assert table == markdown_table(), (
        "docs/errors.md is stale: regenerate its table with markdown_table()"
    )
