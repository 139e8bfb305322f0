"""Statistics: pure functions of samples (numpy only; no clocks, no printing, no files).

| module | one job |
|---|---|
| ``intervals.py`` | intervals: medians, Hodges–Lehmann, Wilson, paired proportions, bootstraps |
| ``stationarity.py`` | drift (Mann–Kendall, Theil–Sen) and lag-1 autocorrelation, effective n |
| ``sequential.py`` | the look schedule, error spending per look, the "more samples" hint |
| ``two_sample.py`` | two arms measured separately: Hodges–Lehmann shift, Mann–Whitney interval |
| ``proportions.py`` | Clopper–Pearson; Tango / Newcombe / Tang score intervals for paired items |
| ``dependence.py`` | Student t quantiles, Newey–West variance, the t and mean intervals |
| ``resolution.py`` | whether values sit on a clock's grid, and its step |
| ``location.py`` | the interval a verdict is decided on: rank ∪ t, widened for a grid |

Before 0.2 ``ryot.stats`` was the intervals module; its names still resolve here, with a
warning.
"""

from ryot.infra.moved import forwarding_getattr

__all__: list[str] = []

__getattr__ = forwarding_getattr(__name__, dict.fromkeys(
    ["Interval", "z_two_sided", "median", "half_binomial_cdf", "median_rank", "median_interval",
     "signed_rank_k", "hodges_lehmann_interval", "without_gross_outliers", "wilson_interval",
     "paired_proportions_interval", "bootstrap_median", "bootstrap_ratio_of_medians",
     "relative_spread", "mad", "RESAMPLES", "SEED", "HL_MAX_N", "EXACT_SIGNED_RANK_MAX",
     "TABLE_CELLS"], "ryot.stats.intervals"))
