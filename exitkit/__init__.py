"""exitkit: evidence and cost for Kafka platform exit planning, one workload at a time."""

__version__ = "0.1.0"
