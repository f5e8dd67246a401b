"""Finding a claim's verifier without importing it: module file, function line, local imports.

The parent process never imports user code (an import can crash or hang). Reading the
module's syntax tree is enough to report a `verify=` that names nothing at the claim's
line, to link the badge to the function's line, and to list the local modules a verifier
depends on, transitively, for the cache key.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from qed.errors import QedError, did_you_mean, display_path, read_source


class BrokenModule(ValueError):
    """A verifier module that cannot even be parsed: one error at its line, however many
    claims name it."""

    def __init__(self, message: str, path: Path, line: int, col: int):
        super().__init__(message)
        self.path, self.line, self.col = path, line, col


@dataclass(frozen=True)
class VerifierRef:
    """A resolved `verify="module:function"`."""

    spec: str
    module: str
    function: str
    path: Path  # the module's file
    line: int  # first line of the function (its first decorator), 0 if not found statically

    @property
    def page_slug(self) -> str:
        return self.module


def verifier_roots(project_root: Path) -> list[Path]:
    """Where verifier modules are looked up, in import order (as the worker sets sys.path)."""
    return [project_root / "verifiers", project_root]


def parse_spec(spec: str) -> tuple[str, str]:
    """("module", "function") from "module:function" or "verifiers/module.py:function"."""
    if ":" not in spec:
        raise ValueError(f"verify='{spec}' must be \"module:function\"")
    module, _, function = spec.rpartition(":")
    module, function = module.strip(), function.strip()
    if module.endswith(".py"):
        module = module[:-3]
        parts = Path(module).parts
        if parts and parts[0] == "verifiers":
            parts = parts[1:]
        module = ".".join(parts)
    if not module or not function.isidentifier() or not all(p.isidentifier() for p in module.split(".")):
        raise ValueError(f"verify='{spec}' must be \"module:function\" with Python names")
    return module, function


def find_module(name: str, roots: list[Path]) -> Path | None:
    """The file of a dotted module name under one of `roots` (module.py or package/__init__.py)."""
    parts = name.split(".")
    for root in roots:
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def find_verifier(spec: str, project_root: Path) -> VerifierRef:
    """Resolve a spec statically; `ValueError` with a user-facing message when it cannot be."""
    module, function = parse_spec(spec)
    path = find_module(module, verifier_roots(project_root))
    if path is None:
        raise ValueError(f"verify='{spec}': no module '{module}' (looked for verifiers/{module.replace('.', '/')}.py)"
                         f"{did_you_mean(module, _verifier_modules(project_root))}")
    shown = display_path(path, project_root)
    try:
        tree = ast.parse(read_source(path, shown).text, filename=str(path))
    except QedError as exc:  # not UTF-8, unreadable
        where = exc.location
        raise BrokenModule(exc.message, path, where.line if where else 0, where.col if where else 0) from None
    except SyntaxError as exc:
        raise BrokenModule(f"syntax error: {exc.msg}", path, exc.lineno or 0, exc.offset or 0) from None
    line = _definition_line(tree, function)
    if line is None:
        raise ValueError(f"verify='{spec}': {shown} has no function '{function}'"
                         f"{did_you_mean(function, _top_level_functions(tree))}")
    if any(isinstance(n, ast.ClassDef) and n.name == function for n in tree.body):
        raise ValueError(f"verify='{spec}': '{function}' is a class in {shown}; "
                         "verify= must name a function")
    for source in local_imports(path, project_root):
        _refuse_vacuous_asserts(source, project_root, spec)
    return VerifierRef(spec, module, function, path, line)


def _refuse_vacuous_asserts(path: Path, project_root: Path, spec: str) -> None:
    """`assert (x, "msg")` asserts a non-empty tuple, which is always true: the check it was
    meant to make never runs (Python only warns, and not when bytecode is cached)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and _always_true(node.test):
            shown = display_path(path, project_root)
            raise ValueError(f"verify='{spec}': {shown}:{node.lineno}: this assert can never "
                             "fail (it asserts a tuple or a constant); write `assert condition, \"message\"`")


def _always_true(test: ast.expr) -> bool:
    if isinstance(test, ast.Tuple):
        return bool(test.elts)
    return isinstance(test, ast.Constant) and bool(test.value) and not isinstance(test.value, bool)


def _verifier_modules(project_root: Path) -> list[str]:
    """The top-level module names a `verify=` may name, for suggestions."""
    folder = project_root / "verifiers"
    return [p.stem for p in folder.glob("*.py")] if folder.is_dir() else []


def _top_level_functions(tree: ast.Module) -> list[str]:
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _definition_line(tree: ast.Module, name: str) -> int | None:
    """Line where `name` is defined at top level; 0 if it may exist dynamically; None if absent."""
    dynamic = False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return min([d.lineno for d in node.decorator_list] + [node.lineno])
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return node.lineno
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    dynamic = True
                elif (alias.asname or alias.name.split(".")[0]) == name:
                    return node.lineno
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            dynamic = True
    return 0 if dynamic else None


def local_imports(path: Path, project_root: Path) -> list[Path]:
    """`path` and every module under the project it imports, transitively, sorted."""
    roots = verifier_roots(project_root)
    seen: set[Path] = set()
    todo = [path.resolve()]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(dep for dep in _direct_imports(current, roots) if dep not in seen)
    root = project_root.resolve()
    return sorted(p for p in seen if p.is_relative_to(root))


def _direct_imports(path: Path, roots: list[Path]) -> list[Path]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return []
    names: list[tuple[str, list[Path]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, roots) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            search = roots if node.level == 0 else [_package_dir(path, node.level)]
            base = node.module or ""
            if base:
                names.append((base, search))
            names += [(f"{base}.{alias.name}" if base else alias.name, search)
                      for alias in node.names if alias.name != "*"]
    found = []
    for name, search in names:
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # a package's __init__ runs too
            hit = find_module(".".join(parts[:depth]), search)
            if hit is not None:
                found.append(hit.resolve())
    return found


def _package_dir(path: Path, level: int) -> Path:
    base = path.parent
    for _ in range(level - 1):
        base = base.parent
    return base
