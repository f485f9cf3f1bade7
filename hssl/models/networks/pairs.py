"""Who learns from whom: typed pairs and the loss terms every algorithm iterates.

A :class:`Pair` says that the student branches ``predictions`` learn the
teacher's ``target`` branch with a weight (Eq. 1: target ``aux``,
predictions ``(base, aux)``). An algorithm turns pairs into
:class:`LossTerm` s with :func:`loss_terms` and computes its own loss
function L once per term:

    total = sum over terms  weight * L(teacher[target], student[branch])

With ``reduction='mean'`` (the HSSL code's ``PretrainLoss``) a pair's weight
is shared by its predictions: 0.5 L(z1^h, z2^b) + 0.5 L(z1^h, z2^h);
``'sum'`` is Eq. 1 as printed.
"""
from typing import Iterable, List, NamedTuple, Tuple

REDUCTIONS = ('mean', 'sum')


class Pair(NamedTuple):
    target: str  # the teacher branch learnt from
    predictions: Tuple[str, ...]  # the student branches that learn it
    weight: float


class LossTerm(NamedTuple):
    target: str
    branch: str  # one student branch of the pair
    weight: float


class LossTerms(list):
    """The terms of one loss, in order, and the branches they need."""

    @property
    def targets(self) -> List[str]:
        """Teacher branches the terms learn from (each once, in order)."""
        return list(dict.fromkeys(t.target for t in self))

    @property
    def branches(self) -> List[str]:
        """Student branches that make predictions (each once, in order)."""
        return list(dict.fromkeys(t.branch for t in self))


def loss_terms(pairs: Iterable[Pair], reduction: str = 'mean') -> LossTerms:
    """One :class:`LossTerm` per (pair, prediction), weights reduced as above."""
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be "mean" (the HSSL code) or "sum" (Eq. 1 as '
                         f'printed), got {reduction!r}')
    terms = []
    for target, predictions, weight in pairs:
        share = weight / len(predictions) if reduction == 'mean' else weight
        terms.extend(LossTerm(target, branch, share) for branch in predictions)
    return LossTerms(terms)
