"""Views of several types (global, cutout, local) with their type per view.

Multi-task asymmetric Siamese SSL (arXiv 2602.05845) treats each kind of view
as its own alignment task with its own predictor. :class:`ViewType` tags a
view; :class:`MultiCrop` gathers the tags into ``results['view_type']``, a
list aligned with the views, which ``PackInputs(algorithm_keys=['view_type'])``
carries into every data sample (as ``patch_mask`` is carried for iBOT).

:class:`MultiTaskMultiCrop` makes 2 global views, ``cutout_number`` cutout
views and ``local_crops_number`` local views, in that order (globals and
cutouts share a size, so they go through the model in one batch).
"""
from typing import Sequence, Tuple

from mmcv.transforms import BaseTransform, Compose

from hssl.registry import TRANSFORMS
from .cutout import IMAGENET_MEAN_RGB
from .multi_crop import DINOMultiCrop, build_transforms, dino_view_pipeline

VIEW_TYPES = ('global', 'cutout', 'local')


@TRANSFORMS.register_module()
class ViewType(BaseTransform):
    """Set ``results['view_type']`` to ``view_type`` (one of global, cutout, local)."""

    def __init__(self, view_type: str):
        if view_type not in VIEW_TYPES:
            raise ValueError(f'ViewType: view_type must be one of {VIEW_TYPES}, got {view_type!r}')
        self.view_type = view_type

    def transform(self, results: dict) -> dict:
        results['view_type'] = self.view_type
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.view_type!r})'


def cutout_view_pipeline(size: int, scale: Tuple[float, float], blur_prob: float,
                         solarize_prob: float = 0., area_range=(0.2, 0.4),
                         mean: Sequence[float] = IMAGENET_MEAN_RGB, **kw) -> list:
    """A DINO global view with :class:`RandomCutout` after crop and flip, before
    colour jitter."""
    pipeline = dino_view_pipeline(size, scale, blur_prob, solarize_prob, **kw)
    cutout = dict(type='RandomCutout', area_range=tuple(area_range), mean=tuple(mean))
    return pipeline[:2] + [cutout] + pipeline[2:]


@TRANSFORMS.register_module()
class MultiTaskMultiCrop(DINOMultiCrop):
    """2 global + ``cutout_number`` cutout + ``local_crops_number`` local views.

    :class:`DINOMultiCrop`'s global and local views (global view 1 always
    blurred; view 2 blurred with p=0.1, solarised with p=0.2; locals blurred
    with p=0.5), with the cutout views between them: the first ceil(M / 2)
    use global view 1's pipeline, the others global view 2's, each with a
    block of ``cutout_area`` of its area filled with ``mean`` before colour
    jitter. ``results['view_type']`` lists the type of each view.

    Args: those of :class:`DINOMultiCrop` (no extra pipelines), and
        cutout_number: number of cutout views (0 allowed).
        cutout_area: (min, max) fraction of a cutout view's area filled.
        mean: the data set's mean colour, RGB, pixel units (the fill).
    """

    def __init__(self,
                 global_crops_size: int = 224,
                 local_crops_size: int = 96,
                 global_crops_scale: Tuple[float, float] = (0.25, 1.0),
                 local_crops_scale: Tuple[float, float] = (0.05, 0.25),
                 local_crops_number: int = 6,
                 cutout_number: int = 2,
                 *,
                 cutout_area: Tuple[float, float] = (0.2, 0.4),
                 mean: Sequence[float] = IMAGENET_MEAN_RGB,
                 interpolation: str = 'bicubic',
                 backend: str = 'pillow'):
        if isinstance(cutout_number, bool) or not isinstance(cutout_number, int) \
                or cutout_number < 0:
            raise ValueError('MultiTaskMultiCrop: cutout_number must be an integer >= 0, '
                             f'got {cutout_number!r}')
        kw = dict(interpolation=interpolation, backend=backend)
        super().__init__(global_crops_size, local_crops_size, global_crops_scale,
                         local_crops_scale, local_crops_number,
                         global_extra_pipeline=[dict(type='ViewType', view_type='global')],
                         local_extra_pipeline=[dict(type='ViewType', view_type='local')], **kw)
        self.cutout_number = cutout_number
        tag = [dict(type='ViewType', view_type='cutout')]
        for j, (blur, solarize) in enumerate([(1.0, 0.0), (0.1, 0.2)]):  # as global views 1, 2
            pipeline = cutout_view_pipeline(self.global_crops_size, tuple(global_crops_scale),
                                            blur, solarize, cutout_area, mean, **kw) + tag
            self.nums.insert(2 + j, cutout_number // 2 + (j < cutout_number % 2))
            self.pipelines.insert(2 + j, Compose(build_transforms(pipeline)))
