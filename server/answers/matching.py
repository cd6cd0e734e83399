"""Which library entries fit what the desk is typing (the take-a-call screen's suggestions).

Chinese has no word breaks, so the unit is the character bigram: "物业费怎么交" is 物业 业费 费怎 怎么
么交. Each bigram of the typed text found in an entry counts by where (question > keywords > answer)
and by how rare it is across the library (inverse document frequency), so 怎么 or 物业, which half the
entries contain, weigh little next to 车位 or 发票. A keyword or synonym typed whole counts extra:
it is the entry's own word for the problem. Entries are plain tuples here (no database): ranking 150
entries is a few thousand set lookups, done per keystroke pause.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_NOT_TEXT = re.compile(r"[^0-9a-z\u3400-\u9fff]+")

QUESTION, KEYWORDS, ANSWER = 3.0, 2.0, 0.5
WHOLE_KEYWORD = 1.5  # per character of a keyword typed whole
MIN_SCORE = 2.0  # below: one common bigram in an answer — noise, not a suggestion


def segments(text: str) -> list[str]:
    """Runs of letters, digits and CJK characters, lower-cased (punctuation and spaces split)."""
    return [s for s in _NOT_TEXT.split(text.lower()) if s]


def bigrams(text: str) -> set[str]:
    out: set[str] = set()
    for seg in segments(text):
        if len(seg) == 1:
            out.add(seg)
        out.update(seg[i : i + 2] for i in range(len(seg) - 1))
    return out


@dataclass
class Doc:
    key: object
    question: set[str]
    keywords: set[str]
    answer: set[str]
    words: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, key: object, question: str, keywords: str, answer: str) -> Doc:
        words = [w for w in (segments(k) for k in keywords.split()) for w in w]
        return cls(key, bigrams(question), bigrams(keywords), bigrams(answer), words)


def rank(text: str, docs: Sequence[Doc], *, limit: int = 5) -> list[tuple[object, float]]:
    """The keys of the best entries for ``text`` with their scores, best first (ties: library order)."""
    typed = bigrams(text)
    if not typed or not docs:
        return []
    joined = "".join(segments(text))
    df: dict[str, int] = dict.fromkeys(typed, 0)
    for d in docs:
        for b in typed:
            if b in d.question or b in d.keywords or b in d.answer:
                df[b] += 1
    idf = {b: math.log(1 + len(docs) / (1 + n)) for b, n in df.items()}
    scored: list[tuple[float, int, object]] = []
    for i, d in enumerate(docs):
        score = 0.0
        for b in typed:
            weight = QUESTION * (b in d.question) + KEYWORDS * (b in d.keywords) + ANSWER * (b in d.answer)
            score += weight * idf[b]
        score += sum(WHOLE_KEYWORD * len(w) for w in _whole(d.words, joined))
        if score >= MIN_SCORE:
            scored.append((score, i, d.key))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [(key, round(score, 2)) for score, _, key in scored[:limit]]


def _whole(words: Iterable[str], joined: str) -> Iterable[str]:
    return (w for w in words if len(w) >= 2 and w in joined)
