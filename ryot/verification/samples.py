"""Re-export: samples live on the ground floor, :mod:`ryot.samples` (training and providers use them too)."""
from ..samples import *  # noqa: F403
from ..samples import (  # noqa: F401
    KINDS,
    NON_FINITE,
    ONE_SHOT_KINDS,
    TABLE_CELLS,
    Samples,
    coerce,
    exact,
    from_json_number,
    is_number,
    paired_proportions,
    paired_proportions_from_items,
    proportion,
    to_json_number,
)
