"""A gentle blameless check: it warns, it never refuses.

It looks for blame words and for a person named as the cause ("because ravi", "ravi's
mistake", "caused by ravi"). People are the users involved in the incident.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

GUIDANCE = (
    "Blameless postmortems describe systems and conditions, not culprits. Say what "
    "happened and why it made sense to the people involved at the time; ask what let the "
    "failure happen (a missing check, an unclear runbook, a risky default) rather than "
    "who. Instead of “ravi forgot to run the migration”, write “the deploy pipeline "
    "did not run migrations, and nothing warned that they were pending”."
)

BLAME_WORDS = (
    "blame",
    "blamed",
    "fault",
    "careless",
    "carelessness",
    "negligent",
    "negligence",
    "incompetent",
    "incompetence",
    "lazy",
    "sloppy",
    "stupid",
    "idiot",
    "screwed up",
    "messed up",
    "should have known",
    "human error",
    "operator error",
    "user error",
    "failed to",
    "forgot to",
    "didn't bother",
    "did not bother",
)
_BLAME = re.compile(r"\b(" + "|".join(re.escape(w) for w in BLAME_WORDS) + r")\b", re.IGNORECASE)
# How a sentence makes a person its cause; {name} is one person's name.
_CAUSE_PATTERNS = (
    r"\b(?:because|due to|caused by|thanks to|blame|blamed on|fault of) (?:of )?{name}\b",
    r"\b{name}(?:'s|\u2019s) (?:mistake|error|fault|change|typo|oversight)\b",
    r"\b{name} (?:caused|broke|forgot|missed|failed|messed|screwed|deleted|ignored)\b",
)


@dataclass(frozen=True)
class BlameWarning:
    field: str
    phrase: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def check(sections: dict[str, str], people: list[str]) -> list[BlameWarning]:
    """Warnings for `sections` (field -> text), naming `people` (names, usernames)."""
    names = sorted({p.strip() for p in people if p and len(p.strip()) >= 2}, key=len, reverse=True)
    person_patterns = [
        re.compile(pattern.format(name=re.escape(name)), re.IGNORECASE)
        for name in names
        for pattern in _CAUSE_PATTERNS
    ]
    warnings: list[BlameWarning] = []
    for field, text in sections.items():
        if not text:
            continue
        for match in _BLAME.finditer(text):
            warnings.append(
                BlameWarning(field, match.group(0), f"“{match.group(0)}” reads as blame.")
            )
        seen = set()
        for pattern in person_patterns:
            for match in pattern.finditer(text):
                if match.group(0).lower() not in seen:
                    seen.add(match.group(0).lower())
                    warnings.append(
                        BlameWarning(
                            field,
                            match.group(0),
                            f"“{match.group(0)}” names a person as the cause.",
                        )
                    )
    return warnings
