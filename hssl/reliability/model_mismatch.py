"""A checkpoint of another model is refused, with what differs.

mmengine loads a checkpoint non-strictly: a checkpoint of another model
"resumes" with a warning and random weights. :func:`describe_mismatch` words
what differs (missing and unexpected keys, shapes) so that the runner
(:meth:`hssl.engine.HSSLRunner.load_checkpoint`) and feature extraction can
refuse it before any training or evaluation happens.
"""


def describe_mismatch(model, state_dict, filename: str, limit: int = 5) -> str:
    """An empty string when ``state_dict`` fits ``model``, else what differs."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}'
              for k, v in expected.items()
              if k in state_dict and hasattr(state_dict[k], 'shape') and state_dict[k].shape != v.shape]
    if not (missing or unexpected or shapes):
        return ''

    def some(keys):
        more = f' ... and {len(keys) - limit} more' if len(keys) > limit else ''
        return ', '.join(keys[:limit]) + more

    lines = [f'checkpoint "{filename}" does not match the model {type(model).__name__}:']
    if missing:
        lines.append(f'  {len(missing)} keys of the model are missing from it: {some(missing)}')
    if unexpected:
        lines.append(f'  {len(unexpected)} keys in it are not in the model: {some(unexpected)}')
    if shapes:
        lines.append(f'  {len(shapes)} shapes differ: {some(shapes)}')
    lines.append('Was it written by another config? Check the config, or pass '
                 '--cfg-options to match the model it was trained with.')
    return '\n'.join(lines)
