"""Build the memo-interview dev set: the memo set's paragraphs as participant turns.

Paragraphs are grouped by reader A's primary code in guide order, and each point is opened
by an everyday moderator question from moderator_questions.yaml (written by a helper that
saw only the interview guide, not the codebook or the tool); every third answer is preceded
by a neutral follow-up. The labels are the memo set's two readers'.

Run from the project folder: python devsets/memo-interview/build.py
"""
import csv
from pathlib import Path

import yaml

from focusqa.ingest import read_transcript
from focusqa.tagging.devsets import fingerprint, load_devset

# Which of the four wordings opens point n: (n + WORDING) % 4, fixed before any figure was seen.
WORDING = 1
HERE = Path(__file__).parent


def main() -> None:
    memo = load_devset(HERE.parent / "memo")
    questions = yaml.safe_load((HERE / "moderator_questions.yaml").read_text(encoding="utf-8"))
    order = [c.id for c in sorted(memo.codebook.codes, key=lambda c: c.number or 99)]
    follow_ups = iter(questions["follow_ups"] * 5)
    lines = ["Moderator: Velkommen, og tak fordi I ville være med i dag. Vi skal tale om ordningen "
             "med socialrådgiverne på skoler og i dagtilbud, og jeg har nogle emner, jeg gerne vil igennem."]
    answers = []
    for number, code in enumerate(order, start=1):
        lines.append(f"Moderator: {questions['points'][number][(number + WORDING) % 4]}")
        for j, item in enumerate(it for it in memo.items if it.readers["a"][0] == code):
            if j and j % 3 == 0:
                lines.append(f"Moderator: {next(follow_ups)}")
            lines.append(f"Deltager {len(answers) % 5 + 1}: {item.text}")
            answers.append(item)
    lines.append("Moderator: Så siger jeg tusind tak for i dag.")
    (HERE / "interview.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    by_text = {it.text: it for it in answers}
    with (HERE / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "sha", "reader_a", "reader_b"])
        for pos, segment in enumerate(read_transcript(HERE / "interview.txt").segments):
            item = by_text.get(segment.text)
            if item is not None:
                writer.writerow([f"0:{pos}", fingerprint(segment.text),
                                 ";".join(item.readers["a"]), ";".join(item.readers["b"])])


if __name__ == "__main__":
    main()
