"""Every size limit on user input, in one place: checked before the work they bound.

A transcript of a two-hour focus group is well under 1 MB, a thousand turns and a few
hundred codes; the limits sit far above that and far below what would make a small
hostile file take minutes or gigabytes. Hitting one is a one-line message that names
the file and the limit (see docs/trust.md).
"""

from __future__ import annotations

MB = 1024 * 1024

MAX_FILE_BYTES = 25 * MB            # a transcript, codebook, manifest or project file on disk
MAX_MEMBER_BYTES = 25 * MB          # any one part of a .docx/.qdpx once unpacked (media too)
MAX_ARCHIVE_BYTES = 100 * MB        # all parts of a .docx/.qdpx once unpacked, together
MAX_PROJECT_XML_BYTES = 40 * MB     # the project.qde of a .qdpx (parsed into memory whole)
MAX_YAML_ALIASES = 20               # `*alias` references in front matter, a codebook or manifest
MAX_NUMBER_DIGITS = 12              # digits in a number read from user data (in YAML)
