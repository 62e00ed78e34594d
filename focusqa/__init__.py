"""focusqa: qualitative analysis of focus-group transcripts for evaluators.

Data flows one way: files -> ParsedDocument/Segment (ingest) -> codings (tagging,
store) -> tables (analysis) -> exports. The package never imports Streamlit; the
app in ``app.py`` and ``views/`` is a thin layer over it.
"""

__version__ = "0.1.0"
