"""The model inside a DDP / FSDP wrapper (used by hooks in hssl.engine and hssl.reliability)."""
from mmengine.model import is_model_wrapper


def unwrap(model):
    """The algorithm inside a DDP / FSDP wrapper."""
    return model.module if is_model_wrapper(model) else model
