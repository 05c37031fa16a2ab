"""The plan's part of the workload file: `contract:`, `cutover:` and `owners:`, as pydantic models.

The workload model keeps these three as loose mappings; `plan_inputs(workload)` validates them
here and turns any problem into one `BadWorkload` line naming the field
(`contract.producers.acks`). Unknown keys are errors everywhere.

Contract items take a scalar (`acks: all`) or a mapping with the evidence the team has:
`rehearsal` (one or a list of `{result: pass|fail, date, platform, note}`) and `document`
(a reference: runbook page, ticket, design doc). Export evidence is never written here: the
plan fills it from the store. The workload's required boundary lives in
`contract.security.boundary` (a security requirement of the applications).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exitkit.errors import BadWorkload
from exitkit.workload.fields import MIGRATION_TOOLS, Duration, Tool, check_platform

if TYPE_CHECKING:  # only for the annotation of plan_inputs: the model builds on these sections
    from exitkit.workload.model import Workload

TOOLS = MIGRATION_TOOLS
GATES = ("contract_rehearsal", "cost_model", "data_boundary", "cutover_runbook", "ownership")
AREAS = ("producers", "consumers", "security", "operations")
PLACES = ("customer-account", "cloud-provider", "vendor-account")
RUNNERS = ("customer", "cloud-provider", "vendor")

Result = Literal["pass", "fail"]
Place = Literal["customer-account", "cloud-provider", "vendor-account"]
Runner = Literal["customer", "cloud-provider", "vendor"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _platform_or_none(v: str | None) -> str | None:
    if v is not None:
        check_platform(v)
    return v


class Rehearsal(_Strict):
    """One rehearsal run: its result, when, against which platform (None: applies to every candidate)."""

    result: Result
    date: dt.date
    platform: str | None = None
    note: str | None = None

    _check_platform = field_validator("platform")(classmethod(lambda cls, v: _platform_or_none(v)))


class Document(_Strict):
    """A reference to where something is written down (URL, wiki page, ticket, file)."""

    ref: str = Field(min_length=1)
    date: dt.date | None = None
    note: str | None = None


def _as_document(v: Any) -> Any:
    return {"ref": v} if isinstance(v, str) else v


def _as_list(v: Any) -> Any:
    return [] if v is None else [v] if isinstance(v, dict) else v


class Item(_Strict):
    """One thing the applications rely on: its declared value and the evidence for it."""

    value: Any = None
    rehearsal: list[Rehearsal] = Field(default_factory=list)
    document: Document | None = None
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return {"value": v}
        return v

    _docs = field_validator("document", mode="before")(classmethod(lambda cls, v: _as_document(v)))
    _rehearsals = field_validator("rehearsal", mode="before")(classmethod(lambda cls, v: _as_list(v)))


class Producers(_Strict):
    client_libraries: Item | None = None
    acks: Item | None = None
    idempotence: Item | None = None
    retries: Item | None = None
    compression: Item | None = None
    transactions: Item | None = None
    batching: Item | None = None


class Consumers(_Strict):
    group_protocol: Item | None = None
    offset_commit: Item | None = None
    reset_policy: Item | None = None
    replay_window: Item | None = None
    lag_alerts: Item | None = None


def _requirement(values: tuple[str, ...]) -> Any:
    def check(v: Any) -> Any:
        if v is None or v == "any":
            return "any"
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not items:
            raise ValueError(f"expected 'any', one of {', '.join(values)} or a list of them")
        bad = [x for x in items if x not in values]
        if bad:
            raise ValueError(f"{bad[0]!r} is not allowed; expected 'any' or one of {', '.join(values)}")
        return list(dict.fromkeys(items))

    return check


class Boundary(_Strict):
    """The boundary the workload requires: accepted places (a list) or `any` for each plane.

    `data_plane: customer-account` accepts only your own cloud account;
    `[customer-account, cloud-provider]` also accepts the cloud's managed service (MSK) but
    no third-party vendor account; `network: private` requires a private path.
    """

    data_plane: list[Place] | Literal["any"] = "any"
    control_plane: list[Runner] | Literal["any"] = "any"
    metadata: list[Place] | Literal["any"] = "any"
    logs: list[Place] | Literal["any"] = "any"
    metrics: list[Place] | Literal["any"] = "any"
    backups: list[Place] | Literal["any"] = "any"
    network: Literal["private", "any"] = "any"
    document: Document | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out = dict(v)
        for key in ("data_plane", "metadata", "logs", "metrics", "backups"):
            if key in out:
                out[key] = _requirement(PLACES)(out[key])
        if "control_plane" in out:
            out["control_plane"] = _requirement(RUNNERS)(out["control_plane"])
        if "document" in out:
            out["document"] = _as_document(out["document"])
        return out

    def required(self) -> dict[str, list[str] | str]:
        """Only the constrained fields: {field: accepted values} (and `network: private`)."""
        out: dict[str, list[str] | str] = {}
        for key in ("data_plane", "control_plane", "metadata", "logs", "metrics", "backups"):
            v = getattr(self, key)
            if v != "any":
                out[key] = list(v)
        if self.network != "any":
            out["network"] = self.network
        return out


class Security(_Strict):
    acls: Item | None = None
    authentication: Item | None = None
    private_connectivity: Item | None = None
    audit: Item | None = None
    boundary: Boundary | None = None


class Operations(_Strict):
    dashboards: Item | None = None
    slos: Item | None = None
    runbooks: Item | None = None
    quotas: Item | None = None
    topic_automation: Item | None = None


class Contract(_Strict):
    """The frozen Kafka contract: four areas, each with the items the applications rely on."""

    producers: Producers = Field(default_factory=Producers)
    consumers: Consumers = Field(default_factory=Consumers)
    security: Security = Field(default_factory=Security)
    operations: Operations = Field(default_factory=Operations)

    def items(self) -> list[tuple[str, str, Item | None]]:
        """(area, item, Item or None) for every worksheet item, in worksheet order."""
        out = []
        for area in AREAS:
            model = getattr(self, area)
            for name in type(model).model_fields:
                if name != "boundary":
                    out.append((area, name, getattr(model, name)))
        return out


class Rollback(_Strict):
    """How to go back, and how long the source is held after producers move."""

    plan: Document | None = None
    window: Duration | None = None
    reverse_replication: bool | None = None

    _docs = field_validator("plan", mode="before")(classmethod(lambda cls, v: _as_document(v)))


class Cutover(_Strict):
    """The rehearsed cutover: tool, target, runbook, rehearsals, rollback, sync staleness, offset checks."""

    tool: Tool | None = None  # default: assumptions.migration.tool
    target: str | None = None  # the candidate the cutover is planned for
    target_cluster: str | None = None  # the destination's cluster name in the store
    runbook: Document | None = None
    rehearsals: list[Rehearsal] = Field(default_factory=list)
    rollback: Rollback | None = None
    sync_staleness: Duration | None = None  # seconds between the last offset copy and the switch
    offset_validation: list[Rehearsal] = Field(default_factory=list)

    _check_target = field_validator("target")(classmethod(lambda cls, v: _platform_or_none(v)))
    _docs = field_validator("runbook", mode="before")(classmethod(lambda cls, v: _as_document(v)))
    _lists = field_validator("rehearsals", "offset_validation", mode="before")(classmethod(lambda cls, v: _as_list(v)))


Gate = Literal["contract_rehearsal", "cost_model", "data_boundary", "cutover_runbook", "ownership"]


class Owners(_Strict):
    """Who answers for the workload, each contract area, the cutover, and (optionally) each gate."""

    workload: str | None = None
    producers: str | None = None
    consumers: str | None = None
    security: str | None = None
    operations: str | None = None
    cutover: str | None = None
    gates: dict[Gate, str] = Field(default_factory=dict)

    ROLES: ClassVar[tuple[str, ...]] = ("workload", "producers", "consumers", "security", "operations", "cutover")

    def named(self) -> dict[str, str]:
        """Roles with a non-empty owner name."""
        return {r: getattr(self, r) for r in self.ROLES if getattr(self, r) and str(getattr(self, r)).strip()}


class PlanInputs(_Strict):
    contract: Contract
    cutover: Cutover
    owners: Owners


def plan_inputs(workload: Workload) -> PlanInputs:
    """Validate the workload's `contract`, `cutover` and `owners` mappings; errors name the field."""
    parts = {}
    for key, model in (("contract", Contract), ("cutover", Cutover), ("owners", Owners)):
        data = getattr(workload, key, None)
        if isinstance(data, BaseModel):  # already typed by the workload model
            data = data.model_dump(exclude_unset=True)
        try:
            parts[key] = model.model_validate(data or {})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(x) for x in (key, *err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key; see templates/contract.example.yaml"
            elif err["type"] == "missing":
                msg = "missing; this key is required (see templates/contract.example.yaml)"
            raise BadWorkload(workload.path, loc, msg) from None
    return PlanInputs(**parts)
