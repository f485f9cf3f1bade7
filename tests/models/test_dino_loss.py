import math

import torch

from hssl.models import DINOLoss


def test_dino_loss_matches_hand_computation():
    # 2 teacher views, 3 student views, batch 1, K = 2; centre 0.
    loss = DINOLoss(out_channels=2, student_temp=0.5, teacher_temp=1.0)
    t = torch.tensor([[0.0, math.log(3.0)],   # teacher view 0 -> probs (1/4, 3/4)
                      [0.0, 0.0]])            # teacher view 1 -> probs (1/2, 1/2)
    s = torch.tensor([[0.0, 0.0],             # /0.5 -> log_softmax = log(1/2), log(1/2)
                      [math.log(2.0) / 2, 0.0],  # /0.5 -> logits (log 2, 0) -> (2/3, 1/3)
                      [0.0, math.log(2.0) / 2]])  # -> (1/3, 2/3)
    probs = loss.teacher_probs(t)
    value = loss(probs, s, num_teacher_views=2, num_student_views=3)
    ce = lambda p, q: -sum(pi * math.log(qi) for pi, qi in zip(p, q))  # noqa: E731
    pairs = [ce((1 / 4, 3 / 4), (2 / 3, 1 / 3)), ce((1 / 4, 3 / 4), (1 / 3, 2 / 3)),  # q=0, v=1,2
             ce((1 / 2, 1 / 2), (1 / 2, 1 / 2)), ce((1 / 2, 1 / 2), (1 / 3, 2 / 3))]  # q=1, v=0,2
    assert math.isclose(value.item(), sum(pairs) / 4, rel_tol=1e-6)


def test_centering_and_sharpening():
    loss = DINOLoss(out_channels=3, teacher_temp=0.5, center_momentum=0.9)
    t = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    loss.update_center(t)
    assert torch.allclose(loss.center, 0.1 * torch.tensor([[2.0, 2.0, 2.0]]))
    loss.update_center(t)
    assert torch.allclose(loss.center, torch.tensor([[0.38, 0.38, 0.38]]))
    probs = loss.teacher_probs(torch.tensor([[0.0, 1.0, 2.0]]))
    expected = torch.softmax(torch.tensor([[0.0, 1.0, 2.0]]) / 0.5, dim=-1)  # a constant centre cancels
    assert torch.allclose(probs, expected)


def test_loss_gradient_only_reaches_student():
    loss = DINOLoss(out_channels=4)
    t = torch.randn(4, 4, requires_grad=True)
    s = torch.randn(6, 4, requires_grad=True)
    loss(loss.teacher_probs(t), s, 2, 3).backward()
    assert t.grad is None and s.grad is not None and s.grad.abs().sum() > 0
