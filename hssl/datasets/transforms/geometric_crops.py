"""The per-image half of DINO's multi-crop, for colour augmentation on the device.

:class:`DINOGeometricMultiCrop` reads and decodes the image and makes
:class:`~hssl.datasets.transforms.DINOMultiCrop`'s random resized crops and
flips, as uint8 views; colour jitter, grayscale, blur, solarisation and
normalisation are left to :class:`~hssl.models.data_preprocessors.MultiViewAugmentPreprocessor`,
which runs them on whole batches on the device (docs/user_guides/data.md).

What it saves against loading + ``DINOMultiCrop``:

* **reduced-size decoding**: the crop boxes are drawn from the image's size
  (read from the header by Pillow) *before* decoding; a JPEG is then decoded
  with libjpeg's DCT scaling (OpenCV's ``IMREAD_REDUCED_COLOR_k``, as
  Pillow's ``draft``) at the largest reduction 1/2, 1/4 or 1/8 at which every
  crop still has at least its output size in pixels, so no crop is upsampled
  from the reduced image (on ImageNet-size images the 224 px global crops
  rarely allow it; on large photographs they do);
* **crop and resize in one step** (Pillow bicubic ``resize(box=...)``, the
  CPU pipeline's filter) without an array copy per crop;
* **uint8 throughout**, BGR like ``LoadImage`` (OpenCV decodes, as there), so
  the data preprocessor's ``to_rgb``, ``mean`` and ``std`` stay the recipe's.
"""
import io
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmpretrain.datasets.transforms import RandomResizedCrop
from PIL import Image

from hssl.registry import TRANSFORMS
from .loading import ImageLoadError
from .multi_crop import build_transforms, check_crop_args, gather_view_keys

_EXIF_ORIENTATION = 0x0112
_DRAFT_SCALES = (8, 4, 2)  # the reductions libjpeg's DCT scaling offers
_REDUCED_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
                  4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def draft_scale(size: Tuple[int, int], boxes: Sequence[Tuple[int, int, int, int]],
                out_sizes: Sequence[int]) -> int:
    """The largest JPEG reduction k in (8, 4, 2, 1) at which every crop box
    ``(top, left, height, width)`` of an image of ``size`` (W, H) keeps at
    least its output side in pixels (``min(height, width) / k >= out``)."""
    limit = min(min(h, w) / out for (_, _, h, w), out in zip(boxes, out_sizes))
    for k in _DRAFT_SCALES:
        if limit >= k and min(size) >= k:
            return k
    return 1


def _load_error(path: str, reason: str) -> ImageLoadError:
    return ImageLoadError(f'cannot load image {path!r}: {reason}')


class LazyImage:
    """An image file read but not decoded: its size from the header, decoded on
    demand by OpenCV (as ``LoadImage``: BGR, EXIF rotation applied)."""

    def __init__(self, path: str):
        self.path = path
        with open(path, 'rb') as f:  # a missing file raises FileNotFoundError
            self.data = f.read()
        if not self.data:
            raise _load_error(path, 'empty file')
        try:
            header = Image.open(io.BytesIO(self.data))
            w, h = header.size
            self.is_jpeg = header.format == 'JPEG'
            orientation = header.getexif().get(_EXIF_ORIENTATION, 1) if self.is_jpeg else 1
        except Exception as e:  # noqa: BLE001 - re-raised with the path
            raise _load_error(path, f'{type(e).__name__}: {e}'.strip()) from e
        self.size = (h, w) if orientation in (5, 6, 7, 8) else (w, h)  # (W, H) as displayed

    def decode(self, scale: int = 1) -> Tuple[np.ndarray, float, float]:
        """The uint8 BGR image decoded at 1 / ``scale`` (JPEG DCT scaling; other
        formats at full size) and the factors (x, y) from full-size to decoded
        coordinates."""
        flag = _REDUCED_FLAGS[scale] if self.is_jpeg else cv2.IMREAD_COLOR
        img = cv2.imdecode(np.frombuffer(self.data, np.uint8), flag)
        if img is None:
            raise _load_error(self.path, 'not a decodable image (corrupt, truncated or not an image)')
        return img, img.shape[1] / self.size[0], img.shape[0] / self.size[1]


@TRANSFORMS.register_module()
class DINOGeometricMultiCrop(BaseTransform):
    """Read ``results['img_path']`` and make DINO's views without colour.

    Same views as ``LoadImage`` + :class:`DINOMultiCrop` with the same
    arguments (2 global crops, then ``local_crops_number`` local ones;
    RandomResizedCrop, bicubic, aspect ratio in (3/4, 4/3); horizontal flip
    with p = 0.5), but no colour jitter, grayscale, blur or solarisation:
    pair it with ``MultiViewAugmentPreprocessor`` and ``DINOColorAugment``,
    which apply them on the device with DINOMultiCrop's probabilities.

    ``results['img']`` is the list of uint8 HWC BGR views; keys the extra
    pipelines add (e.g. ``patch_mask`` of a ``BlockMaskGenerator``) become
    lists aligned with the views, as in :class:`MultiCrop`.

    Args: those of :class:`DINOMultiCrop` (``interpolation`` excepted:
        bicubic), and
        reduced_decoding: decode JPEGs at reduced size where every crop
            allows (see the module's doc); False decodes at full size.
        backend: the crops' resize: 'pillow' (default; Pillow's antialiased
            bicubic, the CPU pipeline's filter, exactly) or 'cv2' (OpenCV's
            area filter where a crop shrinks, bicubic where it grows; several
            times faster, a different filter: see docs/user_guides/data.md).
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
                 reduced_decoding: bool = True,
                 backend: str = 'pillow'):
        g_size, l_size, g_scale, l_scale, _ = check_crop_args(
            'DINOGeometricMultiCrop', global_crops_size, local_crops_size, global_crops_scale,
            local_crops_scale, local_crops_number)
        self.global_crops_size, self.local_crops_size = g_size, l_size
        self.local_crops_number = local_crops_number
        self.reduced_decoding = bool(reduced_decoding)
        if backend not in ('pillow', 'cv2'):
            raise ValueError(f"DINOGeometricMultiCrop: backend must be 'pillow' or 'cv2', "
                             f'got {backend!r}')
        self.backend = backend
        # mmpretrain's crop-box sampler: DINOMultiCrop's RandomResizedCrop draws
        # its boxes with exactly this code.
        self.croppers = [RandomResizedCrop(g_size, g_scale)] * 2 \
            + [RandomResizedCrop(l_size, l_scale)] * local_crops_number
        self.out_sizes = [g_size] * 2 + [l_size] * local_crops_number
        g_extra = Compose(build_transforms(list(global_extra_pipeline)))
        l_extra = Compose(build_transforms(list(local_extra_pipeline)))
        self.extras = [g_extra] * 2 + [l_extra] * local_crops_number

    @property
    def num_views(self) -> int:
        return len(self.out_sizes)

    def draw_boxes(self, width: int, height: int) -> List[Tuple[int, int, int, int]]:
        """(top, left, height, width) of every view's crop, in full-size pixels."""
        shape_only = np.empty((height, width, 0), np.uint8)
        return [tuple(int(v) for v in c.rand_crop_params(shape_only)) for c in self.croppers]

    def decode(self, path: str):
        """(uint8 BGR image, factors (x, y) to its coordinates, crop boxes in
        full-size pixels, (W, H) at full size)."""
        lazy = LazyImage(path)
        boxes = self.draw_boxes(*lazy.size)
        scale = draft_scale(lazy.size, boxes, self.out_sizes) if self.reduced_decoding else 1
        img, fx, fy = lazy.decode(scale)
        return img, (fx, fy), boxes, lazy.size

    def crop_views(self, img: np.ndarray, factors, boxes) -> List[np.ndarray]:
        """Every view: crop and resize (see ``backend``), then the flip (p = 0.5)."""
        fx, fy = factors
        views = []
        if self.backend == 'pillow':
            pil = Image.fromarray(img)  # BGR held as 'RGB': resizing treats channels alike
        for (top, left, h, w), out in zip(boxes, self.out_sizes):
            if self.backend == 'pillow':  # crop and resize in one step
                box = (left * fx, top * fy, (left + w) * fx, (top + h) * fy)
                view = pil.resize((out, out), Image.BICUBIC, box=box)
                if np.random.rand() < 0.5:
                    view = view.transpose(Image.FLIP_LEFT_RIGHT)
                views.append(np.array(view))  # writable, as the CPU pipeline's arrays
                continue
            y0, x0 = int(round(top * fy)), int(round(left * fx))
            y1 = max(y0 + 1, int(round((top + h) * fy)))
            x1 = max(x0 + 1, int(round((left + w) * fx)))
            shrink = (y1 - y0) * (x1 - x0) >= out * out
            view = cv2.resize(img[y0:y1, x0:x1], (out, out),
                              interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
            if np.random.rand() < 0.5:
                view = cv2.flip(view, 1)
            views.append(view)
        return views

    def transform(self, results: dict):
        img, factors, boxes, (width, height) = self.decode(results['img_path'])
        per_view = []
        for view, extra in zip(self.crop_views(img, factors, boxes), self.extras):
            out = extra(dict(img=view))
            if out is None:
                return None
            per_view.append(out)
        results['img_shape'] = results['ori_shape'] = (height, width)
        return gather_view_keys(results, per_view)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(2 x {self.global_crops_size} px + '
                f'{self.local_crops_number} x {self.local_crops_size} px, '
                f'reduced_decoding={self.reduced_decoding}, backend={self.backend!r})')


def device_augment_pipeline(pipeline: Sequence[dict], **options) -> List[dict]:
    """The CPU part of the device path for a ``[LoadImage, DINOMultiCrop(...),
    ...]`` training pipeline: ``LoadImage`` and ``DINOMultiCrop`` become one
    :class:`DINOGeometricMultiCrop` with the same crop arguments; the rest
    (e.g. ``PackInputs``) is kept; ``options`` (``reduced_decoding``,
    ``backend``) go to DINOGeometricMultiCrop. Pair it with
    :func:`device_augment_preprocessor`."""
    types = [t.get('type') for t in pipeline]
    if types[:2] != ['LoadImage', 'DINOMultiCrop']:
        raise ValueError('device_augment_pipeline: the pipeline must start with LoadImage, '
                         f'DINOMultiCrop (DINO / iBOT views); it starts with {types[:2]}')
    crops = {k: v for k, v in pipeline[1].items()
             if k not in ('type', 'interpolation', 'backend')}
    crops.update(options)
    return [dict(type='DINOGeometricMultiCrop', **crops)] + [dict(t) for t in pipeline[2:]]


def device_augment_preprocessor(preprocessor: dict, pipeline: Sequence[dict]) -> dict:
    """``preprocessor`` (a ``SelfSupDataPreprocessor`` config) as a
    ``MultiViewAugmentPreprocessor`` with the ``DINOColorAugment`` of the
    ``DINOMultiCrop`` in ``pipeline``."""
    crop = next((t for t in pipeline if t.get('type') in ('DINOMultiCrop', 'DINOGeometricMultiCrop')),
                None)
    if crop is None:
        raise ValueError('device_augment_preprocessor: no DINOMultiCrop in the pipeline')
    cfg = {k: v for k, v in preprocessor.items() if k != 'type'}
    return dict(cfg, type='MultiViewAugmentPreprocessor',
                augment=dict(type='DINOColorAugment',
                             local_crops_number=crop.get('local_crops_number', 10)))


def use_device_augmentation(cfg, **options) -> None:
    """Switch a DINO / iBOT training config to the device path, in place: its
    ``train_dataloader.dataset.pipeline`` by :func:`device_augment_pipeline`
    (``options`` go to DINOGeometricMultiCrop) and its
    ``model.data_preprocessor`` by :func:`device_augment_preprocessor`."""
    dataset = cfg['train_dataloader']['dataset']
    pipeline = [dict(t) for t in dataset['pipeline']]
    dataset['pipeline'] = device_augment_pipeline(pipeline, **options)
    cfg['model']['data_preprocessor'] = device_augment_preprocessor(
        dict(cfg['model']['data_preprocessor']), dataset['pipeline'])
