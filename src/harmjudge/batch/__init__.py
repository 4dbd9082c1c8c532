"""The batch engine: classify many transcripts concurrently, resumably, within a budget.

:class:`BatchRun` runs one judge over any number of transcripts with bounded concurrency,
HTTP retries that honour Retry-After, an output journal to resume from, a verdict cache and
spending limits; see docs/batch.md.
"""

from harmjudge.batch.budget import Budget, Price, PriceTable
from harmjudge.batch.cache import VerdictCache, default_cache_path
from harmjudge.batch.engine import BatchInput, BatchOptions, BatchRun, DryRun, ItemResult, Origin
from harmjudge.batch.estimate import ItemEstimate, LengthPolicy, estimate_tokens
from harmjudge.batch.journal import Journal
from harmjudge.batch.progress import LineProgress, NoProgress, Progress, RichProgress, progress_for
from harmjudge.batch.records import ItemError, classification_from_json
from harmjudge.batch.redact import Redactor
from harmjudge.batch.retry import AdaptiveLimiter, RetryPolicy
from harmjudge.batch.summary import BatchSummary, render_summary

__all__ = [
    "AdaptiveLimiter",
    "BatchInput",
    "BatchOptions",
    "BatchRun",
    "BatchSummary",
    "Budget",
    "DryRun",
    "ItemError",
    "ItemEstimate",
    "ItemResult",
    "Journal",
    "LengthPolicy",
    "LineProgress",
    "NoProgress",
    "Origin",
    "Price",
    "PriceTable",
    "Progress",
    "Redactor",
    "RetryPolicy",
    "RichProgress",
    "VerdictCache",
    "classification_from_json",
    "default_cache_path",
    "estimate_tokens",
    "progress_for",
    "render_summary",
]
