"""The project database (SQLite by default, PostgreSQL for a team server)."""

from .coders import CoderInfo, NotAllowedError
from .repository import (AuditInfo, CodingInfo, DocumentInfo, Excerpt, MemoInfo, SavedSearchInfo,
                         SegmentInfo, Store, SynthesisInfo)

__all__ = ["Store", "CoderInfo", "NotAllowedError", "DocumentInfo", "SegmentInfo", "CodingInfo", "Excerpt", "MemoInfo", "AuditInfo", "SavedSearchInfo",
           "SynthesisInfo"]
