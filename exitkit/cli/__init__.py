"""The `exitkit` command: the click group and its commands, one module per command family.

- `ingest`: `exitkit ingest`, `exitkit profile`;
- `bill`: `exitkit bill` (ingested bills per cluster and month, beside the model);
- `cost`: `exitkit cost`, `exitkit prices`;
- `plan`: `exitkit plan`;
- `rehearse`: `exitkit rehearse` (a workload's contract on a live candidate);
- `workload`: `exitkit schema` (and `profile --workload`);
- `report`: `exitkit report`, `exitkit demo`;
- `collect`: `exitkit collect confluent|cloudwatch|prometheus|kafka`;
- `common`: shared options, output formats and the one-line user errors (exit 2).
Command modules never import this one; it imports them and adds their commands to the group.
"""

from __future__ import annotations

import click

from exitkit.cli.bill import bill
from exitkit.cli.collect import collect
from exitkit.cli.cost import cost, prices
from exitkit.cli.ingest import ingest, profile
from exitkit.cli.plan import plan
from exitkit.cli.rehearse import rehearse
from exitkit.cli.report import demo, report
from exitkit.cli.workload import schema


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="exitkit")
def cli() -> None:
    """exitkit: evidence and cost for Kafka platform exit planning."""


for _command in (ingest, profile, bill, cost, prices, plan, rehearse, report, demo, schema, collect):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="exitkit")


if __name__ == "__main__":
    main()
