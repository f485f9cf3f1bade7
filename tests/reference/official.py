"""The official training rules, written out in plain PyTorch / NumPy.

Each function follows one function of an official repository (named in its
docstring) line for line in what it computes, so that hssl can be compared with
it in fp64. Nothing here imports hssl.
"""
import math
from typing import Sequence

import numpy as np
import torch
from torch.nn import functional as F


def clip_gradients(parameters, clip: float) -> None:
    """facebookresearch/dino ``utils.py`` ``clip_gradients`` (also bytedance/ibot
    ``utils.py``): every parameter's gradient on its own."""
    for p in parameters:
        if p.grad is None:
            continue
        param_norm = p.grad.data.norm(2)
        clip_coef = clip / (param_norm + 1e-6)
        if clip_coef < 1:
            p.grad.data.mul_(clip_coef)


def cosine_scheduler(base_value: float, final_value: float, epochs: int, niter_per_ep: int,
                     warmup_epochs: int = 0, start_warmup_value: float = 0.0) -> np.ndarray:
    """facebookresearch/dino ``utils.py`` ``cosine_scheduler`` (lr, weight decay
    and teacher momentum of DINO, iBOT and the HSSL code; one value per iteration)."""
    warmup_iters = warmup_epochs * niter_per_ep
    warmup = np.linspace(start_warmup_value, base_value, warmup_iters) if warmup_epochs > 0 \
        else np.array([])
    iters = np.arange(epochs * niter_per_ep - warmup_iters)
    cosine = np.array([final_value + 0.5 * (base_value - final_value)
                       * (1 + math.cos(math.pi * i / len(iters))) for i in iters])
    return np.concatenate((warmup, cosine))


def adjust_learning_rate(epoch: float, lr: float, warmup_epochs: int, epochs: int,
                         min_lr: float = 0.0) -> float:
    """facebookresearch/moco-v3 ``main_moco.py`` ``adjust_learning_rate`` and
    facebookresearch/mae ``util/lr_sched.py`` ``adjust_learning_rate`` (called with
    the fractional epoch ``epoch + i / iters_per_epoch``; MoCo v3 has min_lr 0)."""
    if epoch < warmup_epochs:
        return lr * epoch / warmup_epochs
    return min_lr + (lr - min_lr) * 0.5 * (
        1. + math.cos(math.pi * (epoch - warmup_epochs) / (epochs - warmup_epochs)))


def adjust_moco_momentum(epoch: float, moco_m: float, epochs: int) -> float:
    """facebookresearch/moco-v3 ``main_moco.py`` ``adjust_moco_momentum``."""
    return 1. - 0.5 * (1. + math.cos(math.pi * epoch / epochs)) * (1. - moco_m)


def teacher_temp_schedules(warmup_temp: float, temp: float, warmup_patch_temp: float,
                           patch_temp: float, warmup_epochs: int, epochs: int,
                           mim_start_epoch: int = 0):
    """bytedance/ibot ``main_ibot.py`` ``iBOTLoss.__init__`` (and the HSSL code's
    ``PretrainLoss``): per-epoch cls and patch teacher temperatures."""
    cls = np.concatenate((np.linspace(warmup_temp, temp, warmup_epochs),
                          np.ones(epochs - warmup_epochs) * temp))
    if mim_start_epoch == 0:
        patch = np.concatenate((np.linspace(warmup_patch_temp, patch_temp, warmup_epochs),
                                np.ones(epochs - warmup_epochs) * patch_temp))
    else:
        patch = np.concatenate((np.ones(mim_start_epoch) * warmup_patch_temp,
                                np.linspace(warmup_patch_temp, patch_temp, warmup_epochs),
                                np.ones(epochs - warmup_epochs - mim_start_epoch) * patch_temp))
    return cls, patch


def dino_loss(student_output, teacher_output, center, ncrops: int, teacher_temp: float,
              student_temp: float = 0.1):
    """facebookresearch/dino ``main_dino.py`` ``DINOLoss.forward`` (without the
    centre update): the teacher's 2 global views against every other student view."""
    student_out = (student_output / student_temp).chunk(ncrops)
    teacher_out = F.softmax((teacher_output - center) / teacher_temp, dim=-1).detach().chunk(2)
    total_loss, n_loss_terms = 0, 0
    for iq, q in enumerate(teacher_out):
        for v in range(len(student_out)):
            if v == iq:
                continue
            loss = torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1)
            total_loss += loss.mean()
            n_loss_terms += 1
    return total_loss / n_loss_terms


def _branch_terms(student_cls, student_patch, teacher_cls_c, teacher_patch_c, masks,
                  ncrops: int, ngcrops: int, student_temp: float):
    """One branch's (cls sum, cls count, patch sum, patch count) of ``PretrainLoss.execute``."""
    cls_c = None if student_cls is None else (student_cls / student_temp).chunk(ncrops)
    patch_c = None if student_patch is None else (student_patch / student_temp).chunk(ngcrops)
    cls_sum, n_cls, patch_sum, n_patch = 0, 0, 0, 0
    for q in range(len(teacher_cls_c)):
        for v in range(ncrops):
            if v == q:
                if patch_c is not None:
                    loss2 = torch.sum(-teacher_patch_c[q] * F.log_softmax(patch_c[v], dim=-1),
                                      dim=-1)
                    mask = masks[v].flatten(-2, -1)
                    loss2 = torch.sum(loss2 * mask.to(loss2.dtype), dim=-1) / \
                        mask.sum(dim=-1).clamp(min=1.0)
                    patch_sum += loss2.mean()
                    n_patch += 1
            elif cls_c is not None:
                loss1 = torch.sum(-teacher_cls_c[q] * F.log_softmax(cls_c[v], dim=-1), dim=-1)
                cls_sum += loss1.mean()
                n_cls += 1
    return cls_sum, n_cls, patch_sum, n_patch


def hssl_pretrain_loss(student_base, student_aux, teacher, masks: Sequence, center, center2,
                       temp: float, temp2: float, ngcrops: int, nlcrops: int,
                       lambda1: float = 1.0, lambda2: float = 1.0, student_temp: float = 0.1):
    """NK-JittorCV/Self-Supervised ``main_hssl.py`` ``PretrainLoss.execute`` (the
    HSSL authors' iBOT loss; bytedance/ibot's ``iBOTLoss`` when ``student_aux`` is
    None), the total. ``student_base``/``student_aux``: (cls of all views, patch of
    the global views or None); ``teacher``: (cls target, patch target) of the global
    views; ``masks``: the global views' (B, h, w) masks."""
    ncrops = ngcrops + nlcrops
    t_cls = F.softmax((teacher[0] - center) / temp, dim=-1).detach().chunk(ngcrops)
    t_patch = F.softmax((teacher[1] - center2) / temp2, dim=-1).detach().chunk(ngcrops)
    c1, n11, p1, n12 = _branch_terms(*student_base, t_cls, t_patch, masks, ncrops, ngcrops,
                                     student_temp)
    c2, n21, p2, n22 = _branch_terms(*(student_aux or (None, None)), t_cls, t_patch, masks,
                                     ncrops, ngcrops, student_temp)
    c1 = c1 / max(n11, 1) * lambda1
    p1 = p1 / max(n12, 1) * lambda2
    c2 = c2 / max(n21, 1) * lambda1
    p2 = p2 / max(n22, 1) * lambda2
    factor_patch = max(n12, n22) * 2 / (n12 + n22)
    factor_cls = max(n11, n21) * 2 / (n11 + n21)
    return ((c1 + c2) * factor_cls + (p1 + p2) * factor_patch) * 0.5


def moco_contrastive_loss(q, k, T: float = 0.2):
    """facebookresearch/moco-v3 ``moco/builder.py`` ``MoCo.contrastive_loss`` on one
    process (keys gathered over one rank: labels 0..N-1)."""
    q = F.normalize(q, dim=1)
    k = F.normalize(k, dim=1)
    logits = torch.einsum('nc,mc->nm', [q, k]) / T
    labels = torch.arange(logits.shape[0], dtype=torch.long)
    return F.cross_entropy(logits, labels) * (2 * T)


def patchify(imgs, p: int):
    """facebookresearch/mae ``models_mae.py`` ``MaskedAutoencoderViT.patchify``:
    (N, 3, H, W) -> (N, L, p*p*3)."""
    h = w = imgs.shape[2] // p
    x = imgs.reshape(imgs.shape[0], 3, h, p, w, p)
    x = torch.einsum('nchpwq->nhwpqc', x)
    return x.reshape(imgs.shape[0], h * w, p ** 2 * 3)


def mae_forward_loss(target_patches, pred, mask, norm_pix_loss: bool = True):
    """facebookresearch/mae ``models_mae.py`` ``MaskedAutoencoderViT.forward_loss``
    on patchified images ``target_patches`` (N, L, p*p*3)."""
    target = target_patches
    if norm_pix_loss:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1.e-6) ** .5
    loss = ((pred - target) ** 2).mean(dim=-1)
    return (loss * mask).sum() / mask.sum()

