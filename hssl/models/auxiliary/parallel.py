"""A parallel auxiliary network (Tab. XVII, "parallel"): a whole timm model
that takes the images directly instead of the base model's grid.

The paper's parallel variant is an entire ConvNeXt-T beside the base model;
the serial head (the default, Sec. 3.2) stacks a few blocks on the base
model's output. Both feed Eq. 1 the same way: the parallel network's pooled
features are ``z^h``, its own projector projects them, and the base model
learns from it through L(z1^h, z2^b). As nothing connects it to the base
model, the parallel network learns from the images alone (A->A), and the
base model only through the target it receives.

Output like a serial head's: ``cls`` is the pooled final features (timm's
pre-logits: ConvNeXt's pooled, normalised map), ``patch`` the final map's
positions; see :class:`~hssl.models.backbones.TimmBackbone`. Masks (iBOT) are
not applied to it: it sees the unmasked views.
"""
from mmengine.model import BaseModule
from torch import Tensor

from hssl.models.backbones.timm_backbone import TimmBackbone
from hssl.registry import MODELS
from .base import AuxiliaryOutput


@MODELS.register_module()
class ParallelNetwork(BaseModule):
    """Args:
        in_channels: the base model's width (filled in by the network; unused).
        model_name: the timm model (``'convnext_tiny'`` for Tab. XVII).
        **kwargs: timm's arguments for it (``drop_path_rate``, ``depths``, ...).
    """
    open_options = True  # **kwargs: checked by the inner module
    takes_images = True  # HeterogeneousNetwork passes it the views, not the grid
    continues_drop_path = False  # its drop path is its own timm argument

    def __init__(self, in_channels: int, model_name: str = 'convnext_tiny', init_cfg=None,
                 **kwargs):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.network = TimmBackbone(model_name, **kwargs)

    @property
    def out_channels(self) -> int:
        return self.network.embed_dims

    def forward(self, images: Tensor) -> AuxiliaryOutput:
        out = self.network(images)
        return AuxiliaryOutput(cls=out.cls, patch=out.patch)
