"""Per-sample results and summaries in the formats people already use."""

from __future__ import annotations

import csv
import io
import json

from bombe.task import Result

RESULT_FIELDS = list(Result.model_fields)


def render(fmt: str, summary: dict, results: list[Result]) -> str:
    if fmt == "jsonl":
        return "".join(result.model_dump_json() + "\n" for result in results)
    if fmt == "json":
        return json.dumps({"summary": summary, "results": [r.model_dump() for r in results]}, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=RESULT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for result in results:
            writer.writerow(result.model_dump())
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}")
