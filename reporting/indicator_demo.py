"""Demo: the policy set (thresholds and parameters, idempotent) and indicators for every submitted or
accepted filing present (the filings demo creates them)."""

from .indicator_data import load_policy_data
from .indicator_models import PolicyParameter, Threshold
from .indicator_services import Policy, counted_filings, institution_indicators_compute


def seed() -> dict:
    thresholds, parameters = load_policy_data(Threshold, PolicyParameter)
    policy = Policy()
    institution_ids = sorted(set(counted_filings().values_list("institution_id", flat=True)))
    filings = 0
    for institution_id in institution_ids:
        filings += len(institution_indicators_compute(institution_id=institution_id, policy=policy))
    return {"thresholds_created": thresholds, "parameters_created": parameters,
            "institutions": len(institution_ids), "filings": filings}
