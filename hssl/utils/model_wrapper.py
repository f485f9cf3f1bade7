from mmengine.model import is_model_wrapper


def unwrap(model):
    """The algorithm inside a DDP / FSDP wrapper."""
    return model.module if is_model_wrapper(model) else model
