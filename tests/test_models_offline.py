"""Model specs, prompts and code extraction: what needs no model."""

from __future__ import annotations

import ast

import pytest

from bombe.models.extract import code_blocks, program_from_reply, sanitize, truncate_completion
from bombe.models.prompts import Templates, build_prompt
from bombe.models.spec import ModelSpecError, parse_model_spec
from bombe.task import Task

PROMPT = '''from typing import List

def helper(x: int) -> int:
    return x + 1


def total(xs: List[int]) -> int:
    """Sum of helper(x) over xs."""
'''
TASK = Task(task_id="t/0", prompt=PROMPT, entry_point="total", test="def check(c):\n    assert c([1]) == 2\n")


def run_program(code: str, *args):
    namespace: dict = {}
    exec(compile(code, "<program>", "exec"), namespace)  # our own test strings, not candidates
    return namespace["total"](*args)


@pytest.mark.parametrize("text, kind, name, url", [
    ("openai:gpt-4o-mini", "openai", "gpt-4o-mini", None),
    ("openai:Qwen/Qwen2.5-Coder-7B@http://gpu:8000/v1/", "openai", "Qwen/Qwen2.5-Coder-7B", "http://gpu:8000/v1"),
    ("local:qwen2.5-coder-0.5b", "local", "qwen2.5-coder-0.5b", None),
])
def test_model_specs_parse(text, kind, name, url):
    spec = parse_model_spec(text)
    assert (spec.kind, spec.name, spec.base_url) == (kind, name, url)


def test_gguf_spec_needs_an_existing_file(tmp_path):
    with pytest.raises(ModelSpecError, match="no such file"):
        parse_model_spec(f"gguf:{tmp_path}/missing.gguf")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert parse_model_spec(f"gguf:{model}").name == str(model)


@pytest.mark.parametrize("text, message", [
    ("gpt-4", "expected one of"),
    ("local:gpt-5", "unknown local model"),
    ("vllm:foo", "unknown kind"),
    ("openai:m@ftp://x", "openai:MODEL@http"),
])
def test_bad_model_specs_say_what_is_expected(text, message):
    with pytest.raises(ModelSpecError, match=message):
        parse_model_spec(text)


def test_cache_identity_separates_servers():
    a = parse_model_spec("openai:m@http://a:1/v1")
    b = parse_model_spec("openai:m@http://b:1/v1")
    assert a.identity != b.identity


def test_chat_prompt_carries_the_task_and_completion_prompt_is_the_task(tmp_path):
    templates = Templates.load()
    chat = build_prompt(TASK, "chat", templates)
    assert chat.messages[0][0] == "system" and PROMPT in chat.messages[-1][1]
    assert build_prompt(TASK, "completion", templates).text == PROMPT
    (tmp_path / "chat_user.txt").write_text("Write {entry_point}. {prompt} {braces: kept}")
    custom = build_prompt(TASK, "chat", Templates.load(tmp_path))
    assert custom.messages[-1][1].startswith("Write total. from typing") and "{braces: kept}" in custom.messages[-1][1]
    assert custom.messages[0] == chat.messages[0]  # files not overridden keep our default


def test_fenced_block_amid_prose_keeps_prompt_helpers_and_drops_example_calls():
    reply = ("Here is the solution:\n```python\ndef total(xs):\n    return sum(helper(x) for x in xs)\n\n"
             "print(total([1, 2]))\nassert total([]) == 0\n```\nIt uses the helper.")
    program = program_from_reply(reply, PROMPT, "total", "chat")
    assert "print(" not in program and "assert" not in program
    assert run_program(program, [1, 2]) == 5


def test_several_blocks_and_several_functions_are_joined():
    reply = ("First a helper:\n```python\ndef double(x):\n    return 2 * x\n```\nThen:\n"
             "```python\ndef total(xs):\n    return sum(double(x) for x in xs)\n```\n"
             "Usage:\n```\n>>> total([1])\n2\n```")
    program = program_from_reply(reply, PROMPT, "total", "chat")
    assert run_program(program, [1, 2]) == 6


def test_unfenced_reply_with_prose_before_the_code():
    reply = "Sure, here you go.\n\ndef total(xs):\n    return len(xs)\n\nThis counts."
    assert run_program(program_from_reply(reply, PROMPT, "total", "chat"), [5, 5, 5]) == 3


def test_body_only_reply_continues_the_prompt_signature():
    program = program_from_reply("```python\nreturn sum(xs) * 10\n```", PROMPT, "total", "chat")
    assert run_program(program, [1, 2]) == 30


def test_completion_mode_cuts_where_the_model_leaves_the_function():
    completion = "    return sum(xs)\n\n\ndef test():\n    raise SystemExit\n\nprint(total([1]))\n"
    assert truncate_completion(completion) == "    return sum(xs)\n\n"
    program = program_from_reply(completion, PROMPT, "total", "completion")
    assert "SystemExit" not in program and run_program(program, [4]) == 4


def test_sanitize_keeps_what_the_entry_point_reaches_in_order():
    code = ("import math\nimport os\nLIMIT = 3\nUNUSED = 9\n\ndef unused():\n    return 1\n\n"
            "def inner(x):\n    return min(x, LIMIT)\n\ndef total(xs):\n    return math.floor(sum(map(inner, xs)))\n\n"
            "total([1])\n")
    kept = sanitize(code, "total")
    names = [getattr(n, "name", None) or ast.unparse(n) for n in ast.parse(kept).body]
    assert names == ["import math", "import os", "LIMIT = 3", "inner", "total"]
    assert sanitize(code, "absent") == code  # nothing to anchor on: left for the judge to refuse


def test_later_definition_replaces_the_prompt_stub():
    program = program_from_reply("```python\ndef helper(x):\n    return x * 100\n\ndef total(xs):\n"
                                 "    return sum(map(helper, xs))\n```", PROMPT, "total", "chat")
    assert run_program(program, [1]) == 100


def test_reply_with_no_code_yields_a_program_the_judge_will_fail():
    assert code_blocks("I cannot help with that.") == []
    program = program_from_reply("I cannot help with that.", PROMPT, "total", "chat")
    assert run_program(program, [1]) is None  # the prompt's stub: it returns nothing
