from .features import build_model, model_knn_features
from .train import apply_amp, build_runner

__all__ = ['apply_amp', 'build_model', 'build_runner', 'model_knn_features']
