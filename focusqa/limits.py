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
MAX_YAML_BYTES = 256 * 1024        # YAML text: a codebook, a transcript's front matter (PyYAML
                                    # reads some 60 KB a second; the interview guide is 7 KB)
MAX_YAML_ALIASES = 20               # `*alias` references in front matter, a codebook or manifest
MAX_NUMBER_DIGITS = 12              # digits in a number read from user data (YAML, REFI attributes)

# A transcript (a .txt/.md/.docx file, or one source of a .qdpx). Six hours of talk,
# hard-wrapped, are about 6,000 lines and 3,000 turns; 100,000 characters are some
# 15,000 words, two hours of one person talking.
MAX_TRANSCRIPT_CHARS = 3_000_000    # characters of text (some 50 hours of talk)
MAX_TRANSCRIPT_LINES = 20_000       # lines of a text
MAX_WORD_PARAGRAPHS = 10_000        # paragraphs of a Word document (python-docx reads ~2,500 a second)
MAX_TURNS = 10_000                  # speaker turns (or paragraphs of a text without labels)
MAX_TURN_CHARS = 100_000            # characters in one turn

# A codebook (.yaml, .qdc, .csv, or the codes of a .qdpx). The interview guide has 12
# codes in two levels; large NVivo projects have a few hundred codes in four or five.
MAX_CODEBOOK_BYTES = 2 * MB         # a .qdc or .csv codebook on disk
MAX_CODES = 2_000                   # codes in one codebook
MAX_CODE_DEPTH = 12                 # levels of codes under codes (a top-level code is level 1)
MAX_TERMS = 20_000                  # search terms of all codes together
