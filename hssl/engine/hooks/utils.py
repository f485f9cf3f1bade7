# unwrap lives in hssl.utils so that hooks outside hssl.engine (hssl.reliability's)
# use it without importing the engine package.
from hssl.utils.model_wrapper import unwrap  # noqa: F401
