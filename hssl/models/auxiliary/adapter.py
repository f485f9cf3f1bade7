"""A width adapter in front of an auxiliary head (Tab. I, ResNet base model).

The heads keep the width of their input grid. On ResNet-50's 2048-channel
final map a depth-3 ConvNeXt head would hold 3 x 2 x 2048 x 8192 = 100 M MLP
weights, four times ResNet-50 itself. :class:`WidthAdaptedHead` first maps
the grid to ``width`` channels with a 1x1 convolution (a per-position linear
map with bias, no norm, no activation: the head's blocks bring their own
norms), then runs the head at that width. The default 512 is the width inside
ResNet-50's last-stage bottlenecks (2048 / 4). The adapter belongs to the
head: it is trained with it and dropped with it after pre-training.
"""
from mmengine.model import BaseModule
from torch import Tensor, nn

from hssl.models.builder import build_component
from hssl.registry import MODELS
from .base import AuxiliaryOutput


@MODELS.register_module()
class WidthAdaptedHead(BaseModule):
    """Args:
        in_channels: width of the base model's grid (filled in by the network).
        head: the auxiliary head config (e.g. ``dict(type='ConvNeXtHead', depth=3)``),
            built at ``width``.
        width: channels the head works at.
        **head_options: merged into ``head`` where it does not set them
            (the network passes ``drop_path_rate`` this way).
    """
    open_options = True  # **kwargs: checked by the inner module
    continues_drop_path = True

    def __init__(self, in_channels: int, head: dict, width: int = 512, init_cfg=None,
                 **head_options):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(width, int) or width < 1:
            raise ValueError(f'WidthAdaptedHead: width must be an integer >= 1, got {width!r}')
        cfg = dict(head)
        for key, value in head_options.items():
            cfg.setdefault(key, value)
        self.in_channels = in_channels
        self.width = width
        self.reduce = nn.Conv2d(in_channels, width, kernel_size=1)
        self.head = build_component(cfg, 'WidthAdaptedHead.head', in_channels=width)

    @property
    def out_channels(self) -> int:
        return getattr(self.head, 'out_channels', self.width)

    @property
    def depth(self) -> int:
        return getattr(self.head, 'depth', 1)

    def forward(self, grid: Tensor) -> AuxiliaryOutput:
        return self.head(self.reduce(grid))
