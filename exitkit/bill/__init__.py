"""Bills: actual cost per cluster and month from ingested bill exports, beside the model.

`exitkit.bill.paths` classifies bill lines (category, byte path, cluster); `exitkit.bill.reconcile`
sums them per cluster and month, prices the model for the same cluster and allocates a cluster's
actual cost to a workload (docs/cost-model.md, "Actual baseline").
"""
