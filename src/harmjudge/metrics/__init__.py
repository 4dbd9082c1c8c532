"""Agreement, intervals, annotators, calibration and corrected rates, from verdicts and gold
labels. See docs/metrics.md."""

from harmjudge.metrics.agreement import Agreement, Coverage, Estimate, agreement
from harmjudge.metrics.annotators import (
    AltTest,
    alt_test,
    cohen_kappa,
    krippendorff_alpha_nominal,
    pairwise_kappas,
)
from harmjudge.metrics.binary import METRICS, UndefinedMetricWarning, metric
from harmjudge.metrics.calibration import Reliability, Threshold, reliability, threshold_for
from harmjudge.metrics.compare import McNemar, mcnemar_exact
from harmjudge.metrics.confusion import Confusion
from harmjudge.metrics.evaluate import Evaluation, evaluate
from harmjudge.metrics.intervals import wilson
from harmjudge.metrics.kinds import KindAgreement, kind_agreement
from harmjudge.metrics.prevalence import CorrectedRate, corrected_rate, rogan_gladen
from harmjudge.metrics.rates import GoldCounts, GroupRate, group_rates
from harmjudge.metrics.verdicts import (
    VerdictRow,
    VerdictTable,
    read_verdicts,
    table_from_classifications,
    table_from_records,
)

__all__ = [
    "METRICS",
    "Agreement",
    "AltTest",
    "Confusion",
    "CorrectedRate",
    "Coverage",
    "Estimate",
    "Evaluation",
    "GoldCounts",
    "GroupRate",
    "KindAgreement",
    "McNemar",
    "Reliability",
    "Threshold",
    "UndefinedMetricWarning",
    "VerdictRow",
    "VerdictTable",
    "agreement",
    "alt_test",
    "cohen_kappa",
    "corrected_rate",
    "evaluate",
    "group_rates",
    "kind_agreement",
    "krippendorff_alpha_nominal",
    "mcnemar_exact",
    "metric",
    "pairwise_kappas",
    "read_verdicts",
    "reliability",
    "rogan_gladen",
    "table_from_classifications",
    "table_from_records",
    "threshold_for",
    "wilson",
]
