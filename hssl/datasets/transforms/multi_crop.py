"""Multi-view ("multi-crop") augmentation: ``MultiCrop`` and ``DINOMultiCrop``.

``MultiCrop`` runs several view pipelines on one loaded image and returns the
list of views in ``results['img']``. Unlike mmpretrain's ``MultiView``, keys
that the view pipelines add (for instance a per-view ``mask``) are kept, as
lists aligned with the views.

``DINOMultiCrop`` is DINO's augmentation (``DataAugmentationDINO`` in
facebookresearch/dino, ``main_dino.py``) expressed with mmpretrain/mmcv
transforms, for uint8 HWC BGR images from ``LoadImageFromFile``.
"""
import copy
import numbers
from contextlib import nullcontext
from typing import List, Optional, Sequence, Tuple

from mmcv.transforms import BaseTransform, Compose
from mmengine.registry import DefaultScope

from hssl.registry import TRANSFORMS


def build_transforms(pipeline: Sequence) -> list:
    """Build transform configs (callables pass through).

    Built in the ``hssl`` scope when no default scope is active, so that
    hssl, mmpretrain and mmcv transforms are all found, nested ones included
    (mmcv's wrappers build their children from the *current* scope).
    """
    scope = DefaultScope.get_current_instance()
    ctx = nullcontext() if scope is not None else DefaultScope.overwrite_default_scope('hssl')
    with ctx:
        return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]


def gather_view_keys(results: dict, per_view: Sequence[dict]) -> dict:
    """``results`` with ``img`` the list of the views' images and every key a
    view added (absent from ``results``) a list aligned with the views
    (``None`` where a view lacks it)."""
    added = []  # keys added by any view, in order of first appearance
    for out in per_view:
        added += [k for k in out if k != 'img' and k not in results and k not in added]
    results['img'] = [out['img'] for out in per_view]
    for key in added:
        results[key] = [out.get(key) for out in per_view]
    return results


@TRANSFORMS.register_module()
class MultiCrop(BaseTransform):
    """Apply groups of view pipelines to one image; return all views.

    Args:
        groups: list of ``dict(num=int, pipeline=[transform cfg, ...])``;
            each group's pipeline is applied ``num`` times, each time to a
            fresh copy of the input results.

    Output: ``results['img']`` is the list of views, group by group. Every
    other key added by a view pipeline becomes a list aligned with the views
    (``None`` for views whose pipeline did not add it). Other keys of the
    input are left as they were. If a view pipeline returns ``None`` (a
    transform rejected the sample), so does ``MultiCrop``.
    """

    def __init__(self, groups: Sequence[dict]):
        if isinstance(groups, dict) or not isinstance(groups, Sequence) or not groups:
            raise ValueError(
                'MultiCrop: groups must be a non-empty list of '
                f'dict(num=..., pipeline=[...]), got {groups!r}')
        self.nums: List[int] = []
        self.pipelines: List[Compose] = []
        for i, group in enumerate(groups):
            if not isinstance(group, dict) or set(group) != {'num', 'pipeline'}:
                raise ValueError(
                    f'MultiCrop: groups[{i}] must be dict(num=..., pipeline=[...]) '
                    f'with exactly those keys, got {group!r}')
            num = group['num']
            if isinstance(num, bool) or not isinstance(num, int) or num < 0:
                raise ValueError(
                    f'MultiCrop: groups[{i}].num must be an integer >= 0, got {num!r}')
            self.nums.append(num)
            self.pipelines.append(Compose(build_transforms(group['pipeline'])))
        if sum(self.nums) == 0:
            raise ValueError(f'MultiCrop: no views requested (nums={self.nums})')

    @property
    def num_views(self) -> int:
        """Total number of views produced per image."""
        return sum(self.nums)

    def transform(self, results: dict) -> Optional[dict]:
        per_view = []
        for num, pipeline in zip(self.nums, self.pipelines):
            for _ in range(num):
                out = pipeline(copy.deepcopy(results))
                if out is None:
                    return None
                per_view.append(out)
        return gather_view_keys(results, per_view)

    def __repr__(self) -> str:
        body = ''.join(f'\n  {n} x {p}' for n, p in zip(self.nums, self.pipelines))
        return f'{self.__class__.__name__}({body})'


def _check_size(name: str, value, owner: str = 'DINOMultiCrop') -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f'{owner}: {name} must be a positive integer, got {value!r}')
    return value


def _check_scale(name: str, value, owner: str = 'DINOMultiCrop') -> Tuple[float, float]:
    ok = (isinstance(value, Sequence) and len(value) == 2
          and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value))
    if not ok or not 0 < value[0] <= value[1] <= 1:
        raise ValueError(
            f'{owner}: {name} must be (min, max) with 0 < min <= max <= 1, '
            f'got {value!r}')
    return float(value[0]), float(value[1])


def check_crop_args(owner: str, global_crops_size, local_crops_size, global_crops_scale,
                    local_crops_scale, local_crops_number):
    """DINO's crop arguments checked, one clear error naming ``owner``:
    (global size, local size, global scale, local scale, local number)."""
    if (isinstance(local_crops_number, bool) or not isinstance(local_crops_number, int)
            or local_crops_number < 0):
        raise ValueError(f'{owner}: local_crops_number must be an integer >= 0, '
                         f'got {local_crops_number!r}')
    return (_check_size('global_crops_size', global_crops_size, owner),
            _check_size('local_crops_size', local_crops_size, owner),
            _check_scale('global_crops_scale', global_crops_scale, owner),
            _check_scale('local_crops_scale', local_crops_scale, owner), local_crops_number)


# DINO's DataAugmentationDINO: what differs between the kinds of views, the
# probabilities of Gaussian blur and solarisation (the CPU pipeline here and the
# device path, hssl/models/data_preprocessors/color_augment.py, both read them)
DINO_GLOBAL_VIEWS = (dict(blur_prob=1.0), dict(blur_prob=0.1, solarize_prob=0.2))
DINO_LOCAL_VIEW = dict(blur_prob=0.5)


def dino_view_pipeline(size: int, scale: Tuple[float, float], blur_prob: float,
                       solarize_prob: float = 0., interpolation: str = 'bicubic',
                       backend: str = 'pillow') -> List[dict]:
    """One DINO view as transform configs (DataAugmentationDINO, main_dino.py).

    RandomResizedCrop (bicubic) -> flip p=0.5 -> ColorJitter(0.4, 0.4, 0.2,
    0.1) with p=0.8 -> grayscale p=0.2 -> Gaussian blur (radius uniform in
    [0.1, 2.0]) with ``blur_prob`` -> solarize (threshold 128) with
    ``solarize_prob``. Normalisation is left to the data preprocessor.
    """
    pipeline = [
        dict(type='RandomResizedCrop', scale=size, crop_ratio_range=scale,
             interpolation=interpolation, backend=backend),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandomApply', prob=0.8, transforms=[
            dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.2, hue=0.1)]),
        # torchvision's RandomGrayscale: ITU-R 601-2 luma, 3 channels kept.
        # Weights are in BGR order because images are BGR here.
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.299)),
        # DINO's GaussianBlur: PIL blur, radius ~ U(0.1, 2.0). mmpretrain maps
        # a level drawn from U(0, 10) linearly onto magnitude_range.
        dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
             prob=blur_prob),
    ]
    if solarize_prob > 0:
        # DINO's Solarization: PIL ImageOps.solarize, threshold 128.
        pipeline.append(dict(type='Solarize', thr=128, prob=solarize_prob))
    return pipeline


@TRANSFORMS.register_module()
class DINOMultiCrop(MultiCrop):
    """DINO's multi-crop augmentation: 2 global views, then the local views.

    As ``DataAugmentationDINO`` (facebookresearch/dino): global view 1 is
    always blurred; global view 2 is blurred with p=0.1 and solarized with
    p=0.2; each local view is blurred with p=0.5. See
    :func:`dino_view_pipeline` for the shared steps.

    Args:
        global_crops_size: side of the global views, in pixels.
        local_crops_size: side of the local views, in pixels.
        global_crops_scale: (min, max) area fraction of the global crops.
        local_crops_scale: (min, max) area fraction of the local crops.
        local_crops_number: number of local views (0 allowed).
        global_extra_pipeline: transform configs appended to both global
            views (e.g. a per-view mask generator for iBOT-style training).
        local_extra_pipeline: transform configs appended to each local view.
        interpolation: resize interpolation of the crops.
        backend: resize backend of the crops ('pillow' or 'cv2').
    """

    def __init__(self,
                 global_crops_size: int = 224,
                 local_crops_size: int = 96,
                 global_crops_scale: Tuple[float, float] = (0.25, 1.0),
                 local_crops_scale: Tuple[float, float] = (0.05, 0.25),
                 local_crops_number: int = 10,
                 *,
                 global_extra_pipeline: Sequence[dict] = (),
                 local_extra_pipeline: Sequence[dict] = (),
                 interpolation: str = 'bicubic',
                 backend: str = 'pillow'):
        g_size, l_size, g_scale, l_scale, _ = check_crop_args(
            'DINOMultiCrop', global_crops_size, local_crops_size, global_crops_scale,
            local_crops_scale, local_crops_number)
        self.global_crops_size, self.local_crops_size = g_size, l_size
        self.local_crops_number = local_crops_number
        kw = dict(interpolation=interpolation, backend=backend)
        g_extra, l_extra = list(global_extra_pipeline), list(local_extra_pipeline)
        super().__init__(groups=[
            *(dict(num=1, pipeline=dino_view_pipeline(g_size, g_scale, **probs, **kw) + g_extra)
              for probs in DINO_GLOBAL_VIEWS),
            dict(num=local_crops_number,
                 pipeline=dino_view_pipeline(l_size, l_scale, **DINO_LOCAL_VIEW, **kw) + l_extra),
        ])
