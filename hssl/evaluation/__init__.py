"""Evaluation of frozen features: k-NN classification (DINO / iBOT ``eval_knn``)."""
from .features import (dino_eval_pipeline, extract_dataset_features, extract_features,
                       feature_cache_key, load_features, save_features)
from .knn import knn_accuracy, knn_predict

__all__ = ['dino_eval_pipeline', 'extract_dataset_features', 'extract_features',
           'feature_cache_key', 'knn_accuracy', 'knn_predict', 'load_features', 'save_features']
