"""Workloads: the YAML file that names topics, traffic, candidates and assumptions.

- `fields`: human-unit field types and the platform / tool ids (from `exitkit.platforms`);
- `model`: the pydantic model of the file;
- `sections`: its `contract`, `cutover` and `owners` sections (what the plan reads);
- `loader`: reading YAML with line numbers, one-line errors, the editor's JSON schema.
"""

from __future__ import annotations

from exitkit.workload.loader import load_workload, parse_workload, workload_json_schema
from exitkit.workload.model import Workload

__all__ = ["Workload", "load_workload", "parse_workload", "workload_json_schema"]
