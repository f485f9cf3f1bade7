"""Model discrepancy between a base model and its auxiliary head (HSSL Eq. 5, 8).

    D = -(z1^b)^T log(z1^h / z1^b) = KL(z1^b || z1^h)            (Eq. 5)

z1^b and z1^h are the *teacher's* probability distributions over the K
projection outputs of the base model and of the auxiliary head for a view x1
(Sec. 3.4: "extracted from the teacher network"). Sec. 3.2 defines them as the
projected outputs "transformed into probability distributions ... through some
projection heads and a softmax function", so here

    z1 = softmax(teacher_projection(x1) / tau_t)

at the teacher temperature tau_t of the pair's loss, WITHOUT DINO's centring:
the paper hides only the projection and the softmax, and in HSSL the base
branch of the teacher is never a target, so it has no centre; leaving the
centre out treats both distributions alike. D is the mean of the per-image KL
over a data loader (first view of each sample).

With several heads side by side (the search, Eq. 6-8) the base model has one
projector per head, and D is computed per pair of
:attr:`HeterogeneousNetwork.pairs`: one value per head; Eq. 8 picks the
largest.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_reduce
from torch import Tensor
from torch.nn import functional as F


def kl_discrepancy(base_logits: Tensor, aux_logits: Tensor, temperature: float) -> Tensor:
    """Per-sample D = KL(softmax(b / T) || softmax(h / T)), shape (B,).

    Args:
        base_logits: (B, K) teacher projection of the base model (z1^b before softmax).
        aux_logits: (B, K) teacher projection of the auxiliary head (z1^h).
        temperature: the teacher temperature tau_t.
    """
    if base_logits.shape != aux_logits.shape or base_logits.dim() != 2:
        raise ValueError('kl_discrepancy: base and auxiliary outputs must both be (B, K), got '
                         f'{tuple(base_logits.shape)} and {tuple(aux_logits.shape)}')
    if not temperature > 0:
        raise ValueError(f'kl_discrepancy: temperature must be > 0, got {temperature}')
    log_b = F.log_softmax(base_logits.float() / temperature, dim=-1)
    log_h = F.log_softmax(aux_logits.float() / temperature, dim=-1)
    return torch.sum(log_b.exp() * (log_b - log_h), dim=-1)


def discrepancy_pairs(network) -> List[Tuple[str, str, str]]:
    """``(head, base_branch, aux_branch)`` of every HSSL pair of a network.

    ``head`` names the auxiliary head: ``'aux'`` for one head, the ``name``
    of each head trained side by side (``'aux_convnext'`` -> ``'convnext'``).
    """
    found = []
    for target, predictions, _ in network.hssl_pairs:  # without deep-to-shallow pairs
        bases = [b for b in predictions if b != target]
        if bases:
            head = target[4:] if target.startswith('aux_') else target
            found.append((head, bases[0], target))
    if not found:
        raise ValueError('discrepancy: the network has no auxiliary head (a baseline); '
                         'D (Eq. 5) compares a base model with its auxiliary head')
    return found


def _teacher_temperature(model, target: str, temperature: Optional[float]) -> float:
    if temperature is not None:
        return float(temperature)
    criteria = getattr(model, 'criteria', None)
    if criteria is not None and target in criteria and hasattr(criteria[target], 'teacher_temp'):
        return float(criteria[target].teacher_temp)
    raise ValueError(f'discrepancy: {type(model).__name__} has no loss with a teacher_temp for '
                     f'branch "{target}"; pass temperature=')


@torch.no_grad()
def compute_discrepancy(model, loader, temperature: Optional[float] = None,
                        max_batches: Optional[int] = None,
                        use_teacher: bool = True) -> Dict[str, float]:
    """Mean D (Eq. 5) per auxiliary head over ``loader``.

    Args:
        model: an hssl algorithm (DINO, IBOT, ...): its data preprocessor, its
            teacher network (``use_teacher``) or student, and, unless
            ``temperature`` is given, the ``teacher_temp`` of the pair's loss.
        loader: yields data batches as the training loader does (multi-view
            samples use their first view, single images themselves).
        temperature: tau_t for every pair instead of the losses' current one.
        max_batches: stop after this many batches (None: the whole loader).

    Returns:
        ``{head: D}`` (see :func:`discrepancy_pairs` for the names), averaged
        over all images, summed over processes when distributed.
    """
    network = model.inference_network if use_teacher else model.student
    pairs = discrepancy_pairs(network)
    temps = {aux: _teacher_temperature(model, aux, temperature) for _, _, aux in pairs}
    was_training = network.training
    network.eval()
    device = next(network.parameters()).device
    totals = torch.zeros(len(pairs), dtype=torch.float64, device=device)
    count = torch.zeros(1, dtype=torch.float64, device=device)
    try:
        for i, data in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            inputs = model.data_preprocessor(data, False)['inputs']
            view = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            out = network([view])
            for j, (_, base, aux) in enumerate(pairs):
                totals[j] += kl_discrepancy(out[base].cls, out[aux].cls, temps[aux]).sum().double()
            count += view.shape[0]
    finally:
        network.train(was_training)
    all_reduce(totals)
    all_reduce(count)
    if count.item() == 0:
        raise ValueError('discrepancy: the data loader gave no images')
    return {head: float(t / count) for (head, _, _), t in zip(pairs, totals)}
