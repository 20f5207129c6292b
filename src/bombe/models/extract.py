"""From a model's reply to a program: find the code, then keep the entry point and what it needs.

Replies mix prose, several code blocks, tests and example calls. We take the fenced Python
blocks (or the reply itself when it has none), put the task prompt's own definitions first
(helpers the prompt gives, like HumanEval's `encode_cyclic`), and keep, through the AST, the
imports, the entry point and the top-level definitions it reaches. Example calls and prints
the model added are dropped, so they neither run nor slow the check.
"""

from __future__ import annotations

import ast
import re

from bombe.models.prompts import COMPLETION_STOP

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_START = re.compile(r"^(def |async def |class |import |from |@)", re.MULTILINE)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _longest_parsing_prefix(code: str) -> str:
    lines = code.splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end])
        if _parses(candidate):
            return candidate
    return ""


def code_blocks(reply: str) -> list[str]:
    """The reply's code: its fenced Python (or unlabeled) blocks that parse, else its code-looking tail."""
    blocks = [body for lang, body in _FENCE.findall(reply) if lang.lower() in ("", "python", "py", "python3")]
    good = [b for b in blocks if _parses(b)] or [p for p in (_longest_parsing_prefix(b) for b in blocks) if p]
    if good:
        return good
    if _parses(reply):
        return [reply]
    start = _CODE_START.search(reply)
    if start:
        prefix = _longest_parsing_prefix(reply[start.start():])
        if prefix:
            return [prefix]
    return []


def truncate_completion(completion: str) -> str:
    """A base model's continuation, cut where it leaves the function (for servers that ignore stop)."""
    cut = len(completion)
    for stop in COMPLETION_STOP:
        at = completion.find(stop)
        if at != -1:
            cut = min(cut, at)
    return completion[:cut]


def defines(tree: ast.Module, name: str) -> bool:
    """Whether the module defines `name` at its top level (a function or a class)."""
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name
               for node in tree.body)


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    names: set[str] = set()
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    for target in targets:
        if target is not None:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def sanitize(code: str, entry_point: str) -> str:
    """Imports, then the entry point and the top-level definitions it reaches, in source order.
    A later definition of a name replaces an earlier one, as it would when the code runs."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    if not defines(tree, entry_point):
        return code
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    definitions: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)):
            for name in _bound_names(node):
                definitions[name] = node
    wanted: list[ast.stmt] = []
    seen: set[int] = set()
    todo = [entry_point]
    while todo:
        node = definitions.get(todo.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        wanted.append(node)
        todo.extend(_used_names(node))
    kept = [n for n in tree.body if n in imports or id(n) in seen]
    texts = [ast.get_source_segment(code, n) or ast.unparse(n) for n in kept]
    unique_imports = [t for i, t in enumerate(texts) if kept[i] not in imports or t not in texts[:i]]
    return "\n\n".join(unique_imports) + "\n"


def program_from_reply(reply: str, prompt: str, entry_point: str, mode: str) -> str:
    """The full program a reply stands for."""
    if mode == "completion":
        return sanitize(prompt + truncate_completion(reply), entry_point)
    blocks = code_blocks(reply)
    code = "\n\n".join(blocks)
    if code and not defines(ast.parse(code), entry_point) and f"def {entry_point}" in prompt:
        # The model wrote only the body: it continues the prompt's signature.
        body = code if code.startswith((" ", "\t")) else "\n".join("    " + line for line in code.splitlines())
        return sanitize(prompt.rstrip() + "\n" + body + "\n", entry_point)
    # The prompt's helpers and imports first; the reply's definitions replace the prompt's.
    combined = (prompt.rstrip() + "\n    pass\n\n" if f"def {entry_point}" in prompt else prompt + "\n") + code
    if not _parses(combined):
        combined = code
    return sanitize(combined, entry_point)
