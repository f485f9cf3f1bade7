from .features import build_loader, build_model, extract_features
from .train import apply_amp, build_runner

__all__ = ['apply_amp', 'build_loader', 'build_model', 'build_runner', 'extract_features']
