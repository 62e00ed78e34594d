"""Reading transcripts: files -> :class:`~focusqa.types.ParsedDocument` with segments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import FocusqaError, ManifestError, TranscriptError, reading
from ..types import DocumentMetadata, ParsedDocument
from .metadata import metadata_from_mapping, read_manifest
from .readers import SUPPORTED_SUFFIXES, read_raw
from .segments import build_document
from .turns import starts_turn

MANIFEST_NAME = "manifest.csv"


def read_transcript(path: str | Path, metadata: DocumentMetadata | None = None) -> ParsedDocument:
    """Read one transcript; YAML front matter fills metadata that ``metadata`` leaves empty.

    Raises :class:`~focusqa.errors.FocusqaError` naming the file and the problem.
    """
    path = Path(path)
    with reading(path, TranscriptError):
        raw = read_raw(path, starts_turn)
        meta = metadata_from_mapping(raw.front_matter).merged(metadata or DocumentMetadata())
        parsed = build_document(raw, path.name, meta, source=path)
    if not parsed.segments:
        raise TranscriptError("has no text to code (only labels, headings or blank lines); not imported",
                              path=path)
    return parsed


def parse_text(text: str, name: str = "text.txt", metadata: DocumentMetadata | None = None) -> ParsedDocument:
    """Parse transcript text held in memory (as a .txt file would be)."""
    from .readers import RawText, normalise_text, split_front_matter, text_paragraphs

    text = normalise_text(text)
    front, body = split_front_matter(text, Path(name))
    raw = RawText(body, text_paragraphs(body, starts_turn), "txt", front)
    meta = metadata_from_mapping(front).merged(metadata or DocumentMetadata())
    return build_document(raw, name, meta)


@dataclass
class ImportItem:
    """A file to import with its metadata, or the reason it cannot be."""

    path: Path
    metadata: DocumentMetadata
    error: FocusqaError | None = None


def _is_there(path: Path) -> bool:
    """Whether a file a manifest names exists; a name no file can have (too long) is not there."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def discover(paths: list[str | Path], manifest: str | Path | None = None,
             overrides: DocumentMetadata | None = None) -> list[ImportItem]:
    """Expand files and folders into import items.

    A folder's ``manifest.csv`` is used automatically; ``manifest`` applies to all
    paths. Command-line ``overrides`` win over the manifest. A manifest row naming a
    missing file becomes an item with an error, so the other files still import.
    """
    overrides = overrides or DocumentMetadata()
    items: list[ImportItem] = []
    explicit_manifest: dict[str, DocumentMetadata] = {}
    manifest_dir: Path | None = None
    if manifest is not None:
        explicit_manifest = read_manifest(Path(manifest))
        manifest_dir = Path(manifest).parent
    for raw_path in paths:
        path = Path(raw_path)
        if path.is_dir():
            rows = explicit_manifest
            folder_manifest = path / MANIFEST_NAME
            base = manifest_dir if manifest is not None else path
            if manifest is None and folder_manifest.exists():
                rows = read_manifest(folder_manifest)
            files = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                           and not p.name.startswith((".", "~$")) and p.name.lower() != "readme.md")
            for name in rows:
                if not _is_there(base / name):
                    items.append(ImportItem(base / name, rows[name], ManifestError(
                        f"manifest row names '{name}', which does not exist",
                        path=base / MANIFEST_NAME)))
            for f in files:
                meta = rows.get(f.name, DocumentMetadata())
                items.append(ImportItem(f, meta.merged(overrides)))
        else:
            meta = explicit_manifest.get(path.name, DocumentMetadata())
            items.append(ImportItem(path, meta.merged(overrides)))
    return items


__all__ = ["read_transcript", "parse_text", "discover", "ImportItem", "read_manifest"]
