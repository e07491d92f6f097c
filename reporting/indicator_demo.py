"""Demo: the policy set (thresholds and parameters, idempotent) and indicators for every submitted or
accepted filing present (the filings demo creates them)."""

from .indicator_data import load_policy_data
from .indicator_models import PolicyParameter, Threshold
from .indicator_services import counted_filings, indicators_compute_batch


def seed() -> dict:
    thresholds, parameters = load_policy_data(Threshold, PolicyParameter)
    institution_ids = sorted(set(counted_filings().values_list("institution_id", flat=True)))
    filings = len(indicators_compute_batch(institution_ids=institution_ids))
    return {
        "thresholds_created": thresholds,
        "parameters_created": parameters,
        "institutions": len(institution_ids),
        "filings": filings,
    }
