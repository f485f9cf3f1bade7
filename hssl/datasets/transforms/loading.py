"""Image loading that names the offending file when an image cannot be read.

mmcv's ``LoadImageFromFile`` reports an undecodable file as a bare
``AssertionError('failed to load image: <path>')`` (cv2 backend; silently
skipped under ``python -O``), an empty file as a ``cv2.error`` without the
path, and with the pillow backend as ``UnidentifiedImageError('cannot
identify image file <_io.BytesIO ...>')`` or ``OSError('image file is
truncated')``, again without the path. ``LoadImage`` keeps mmcv's behaviour
for good files and turns every failure into an error naming the file.
"""
import errno
import os.path as osp

from mmcv.transforms import LoadImageFromFile

from hssl.registry import TRANSFORMS
# the error that training skips (hssl.reliability.bad_samples); evaluation stops on it
from hssl.reliability.bad_samples import ImageLoadError


@TRANSFORMS.register_module()
class LoadImage(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` with errors that name the file.

    Same arguments and output keys (``img`` as uint8 HWC BGR by default,
    ``img_shape``, ``ori_shape``). A missing file raises
    :class:`FileNotFoundError` and an unreadable or undecodable one
    :class:`ImageLoadError` (an ``OSError``); both name the path. With
    ``ignore_empty=True`` such samples yield ``None`` (mmengine datasets then
    draw another sample), as in mmcv.
    """

    def transform(self, results: dict):
        filename = results['img_path']
        try:
            return super().transform(results)
        except Exception as e:  # noqa: BLE001 - re-raised with the path
            if self.ignore_empty:
                return None
            if isinstance(e, OSError) and e.errno == errno.ENOENT:
                raise FileNotFoundError(errno.ENOENT, 'image file not found',
                                        filename) from e
            if osp.isfile(filename) and osp.getsize(filename) == 0:
                reason = 'empty file'
            elif isinstance(e, (AssertionError, AttributeError)):
                # mmcv asserts the decoder returned an image; under
                # ``python -O`` the assert is gone and ``None.shape`` fails.
                reason = 'not a decodable image (corrupt, truncated or not an image)'
            else:
                reason = f'{type(e).__name__}: {e}'.strip()
            raise ImageLoadError(
                f'cannot load image {filename!r}: {reason}') from e
