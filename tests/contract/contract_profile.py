"""Hypothesis profiles for the contract corpus.

`default` (used by `make test`): a handful of derandomised examples, no example database, so CI
is stable and tests/contract stays short.  `fuzz` (HYPOTHESIS_PROFILE=fuzz, `make fuzz`):
thousands of random examples with the example database on.
"""
import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    print_blob=True,
)
# no shrinking by default: one product run takes seconds, a shrink takes minutes (fuzz shrinks)
settings.register_profile("default", max_examples=3, derandomize=True, database=None,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
settings.register_profile("fuzz", max_examples=3000, derandomize=False, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)

# examples per test: (single month, sequence of 2-3 months); ZHIBU_FUZZ_EXAMPLES=N,M bounds a
# fuzz session that has minutes, not hours
EXAMPLES = {"default": (3, 1), "fuzz": (3000, 1000)}[PROFILE]
if os.environ.get("ZHIBU_FUZZ_EXAMPLES"):
    EXAMPLES = tuple(int(x) for x in os.environ["ZHIBU_FUZZ_EXAMPLES"].split(","))
