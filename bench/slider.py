"""One ipywidgets slider event, end to end, in a real kernel (bench/run.py's `slider` block).

What JupyterLab does when an architect drags the write-rate slider of `CostSliders`: it sends
a `comm_msg` (`{"method": "update", "state": {"value": v}}`) to the slider's model on the shell
channel; the kernel sets the value, the observer recomputes every platform with
`exitkit.cost.evaluate`, updates the FigureWidget's bars and the totals table, and sends those
updates back on iopub. One event is timed from sending the message to the kernel's `idle` for
it, with the figure's and the table's updates received by then (checked, not assumed).

The baseline in the same kernel is an empty round trip: `execute_request` of `pass` until its
`idle` (what any kernel message costs), so the ratio shows what the slider itself adds.

    .venv/bin/python bench/slider.py [--moves 50] [--workload exitkit/demo/workloads/whatif-ingest.yaml]
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
from exitkit.cost.adapter import workload_cost
from exitkit.notebook.sliders import CostSliders
from exitkit.workload.loader import load_workload
from IPython.display import display
_wl = load_workload({workload!r})
_s = CostSliders(workload_cost(_wl, None))
display(_s.widget)
_ids = {{"slider": _s.write_multiplier.model_id, "figure": _s.figure.model_id, "table": _s.table.model_id}}
"""


def _value(expression: dict):
    """A user expression's value: its text/plain repr, and JSON inside a string."""
    if expression.get("status") != "ok":
        raise RuntimeError(f"kernel: {expression.get('ename')}: {expression.get('evalue')}")
    v = ast.literal_eval(expression["data"]["text/plain"])
    return json.loads(v) if isinstance(v, str) else v


def nearest_rank(values: list[float], q: float) -> float:
    """The value at rank ceil(q × n) of the n values sorted ascending."""
    xs = sorted(values)
    return xs[max(0, -(-int(q * 100) * len(xs) // 100) - 1)]


class Kernel:
    """A python3 kernel with a blocking client; every call waits for its own `idle`."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def until_idle(self, msg_id: str, timeout: float = 60) -> list[dict]:
        """Every iopub message for `msg_id` up to and including its `idle` status."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen.append(msg)
            if msg["msg_type"] == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return seen

    def execute(self, code: str, expressions: dict | None = None) -> dict:
        msg_id = self.kc.execute(code, user_expressions=expressions or {})
        self.until_idle(msg_id)
        reply = self.kc.get_shell_msg(timeout=60)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
        return reply["content"].get("user_expressions", {})

    def comm_update(self, comm_id: str, state: dict) -> list[dict]:
        """Send what the frontend sends when a widget's value changes; the replies up to idle."""
        msg = self.kc.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}}
        )
        self.kc.shell_channel.send(msg)
        return self.until_idle(msg["header"]["msg_id"])


def measure(workload: Path, moves: int = 50) -> dict:
    k = Kernel()
    try:
        started = time.perf_counter()
        k.execute(SETUP.format(workload=str(workload)))
        setup_s = time.perf_counter() - started
        reply = k.execute("import json", {"ids": "json.dumps(_ids)", "totals": "json.dumps(_s.totals)"})
        ids = _value(reply["ids"])
        base_totals = _value(reply["totals"])
        # warm up: the first event pays for lazy imports and caches
        k.comm_update(ids["slider"], {"value": 1.05})
        values = [round(0.5 + (i % 40) * 0.1, 2) for i in range(moves)]  # 0.5 … 4.4, never the same twice in a row
        event_s, pings = [], []
        for v in values:
            t = time.perf_counter()
            replies = k.comm_update(ids["slider"], {"value": v})
            event_s.append(time.perf_counter() - t)
            targets = {m["content"].get("comm_id") for m in replies if m["msg_type"] == "comm_msg"}
            if not {ids["figure"], ids["table"]} <= targets:
                raise RuntimeError(f"slider event at {v}: no figure/table update came back ({targets})")
            t = time.perf_counter()
            k.execute("pass")
            pings.append(time.perf_counter() - t)
        reply = k.execute("pass", {"totals": "json.dumps(_s.totals)", "mult": "_s.write_multiplier.value"})
        last = _value(reply["totals"])
        if float(_value(reply["mult"])) != values[-1] or last == base_totals:
            raise RuntimeError("the slider events did not reach the model")
    finally:
        k.close()
    return {
        "workload": workload.stem,
        "moves": moves,
        "setup_s": setup_s,
        "event_median_s": statistics.median(event_s),
        "event_p95_s": nearest_rank(event_s, 0.95),
        "ping_median_s": statistics.median(pings),
        "vs_ping": statistics.median(event_s) / statistics.median(pings),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=50)
    ap.add_argument("--workload", type=Path, default=ROOT / "exitkit" / "demo" / "workloads" / "whatif-ingest.yaml")
    a = ap.parse_args(argv)
    r = measure(a.workload.resolve(), a.moves)
    print(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
