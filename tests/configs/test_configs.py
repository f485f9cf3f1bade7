"""The shipped recipes build the models they claim, unchanged."""
import torch

from hssl.registry import MODELS


def test_hssl_recipe_differs_from_its_baseline_only_by_the_head(load):
    base, hssl = load('dino/dino_vits16_100e_in1k.py'), load('hssl/dino_vits16_convnext_100e_in1k.py')
    assert 'auxiliary' not in base.model.network
    aux = hssl.model.network.pop('auxiliary')
    assert aux == dict(type='ConvNeXtHead', depth=3, first_shortcut=False)
    assert hssl.model == base.model
    assert hssl.train_dataloader == base.train_dataloader
    assert hssl.param_scheduler == base.param_scheduler


def test_dino_vits_convnext_builds_vit_s16_with_depth3_head_and_trains_a_step(load):
    cfg = load('hssl/dino_vits16_convnext_100e_in1k.py')
    assert cfg.train_dataloader.batch_size * 8 == 512  # DINO's vanilla run: 8 GPUs x 64
    model = MODELS.build(cfg.model)
    backbone = sum(p.numel() for p in model.student.backbone.parameters())
    assert 21.5e6 < backbone < 22.0e6  # ViT-S/16: 21.7 M
    head = model.student.aux_heads['aux']
    assert head.depth == 3 and not head.first_shortcut and type(head).__name__ == 'ConvNeXtHead'
    assert model.student.projectors['aux'].out_channels == 65536
    views = [torch.randn(1, 3, 224, 224)] * 2 + [torch.randn(1, 3, 96, 96)] * 2
    losses = model.loss(views, None)
    sum(losses.values()).backward()
    assert set(losses) == {'loss_base', 'loss_aux'}
    assert model.student.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
