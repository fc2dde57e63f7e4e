"""main.py for xlwings Lite: paste this into the add-in's editor (docs/lite.md).

xlwings Lite registers the functions and scripts this module holds: xl-aiindex's worksheet
functions (=AI_MODEL(...), =AI_INDEX(model, "北京")...) and its two scripts (Rebuild results,
Validate inputs). They come from the xl_aiindex_lite wheel that requirements.txt installs.
"""

from xl_aiindex.lite import (
    AI_INDEX,
    AI_MODEL,
    AI_RANK,
    AI_RANKING,
    AI_SCORES,
    AI_SUBINDEX,
    AI_TIER,
    AI_WEIGHT,
)
from xl_aiindex.lite.scripts import rebuild_results, validate_inputs

__all__ = ["AI_INDEX", "AI_MODEL", "AI_RANK", "AI_RANKING", "AI_SCORES", "AI_SUBINDEX",
           "AI_TIER", "AI_WEIGHT", "rebuild_results", "validate_inputs"]
