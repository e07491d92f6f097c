"""Demo: the policy set (thresholds and parameters, idempotent) and indicators for every submitted or
accepted filing present (the filings demo creates them)."""

from . import indicators as ind
from .models import IndicatorRun, PolicyParameter, Threshold
from .policy_data import load_policy_data
from .services.compute import Policy, counted_filings, indicators_compute_batch


def liability_on(policy: Policy | None = None):
    """The weighted liability balance under the parameters in force on a day, as the demo filings report
    it: `reporting.demo.series(..., liability_on=liability_on())`."""
    policy = policy or Policy()
    return lambda values, day: ind.fin_liability_balance(values, policy.params(day))


def forget_runs(filings) -> None:
    """Indicator runs keep their version (PROTECT, for lineage): drop them before the demo rebuilds
    these filings; `seed` recomputes them afterwards."""
    IndicatorRun.objects.filter(filing__in=filings).delete()


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
