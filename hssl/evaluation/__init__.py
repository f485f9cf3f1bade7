"""Evaluation of frozen features: k-NN classification (DINO / iBOT ``eval_knn``);
analyses of HSSL: discrepancy (Eq. 5), N_s / sIoU (Eq. 3-4).

Features come from one place: :func:`extract_features` (sharded over the
processes of a torchrun launch) and, cached, :func:`train_test_features`."""
from .complementarity import AuxiliaryHeadFeatures, complementarity, knn_top1_predictions
from .discrepancy import compute_discrepancy, discrepancy_pairs, kl_discrepancy
from .feature_cache import (FEATURE_KEYS, feature_cache_key, load_features, save_features,
                            train_test_features)
from .features import build_eval_dataset, dino_eval_pipeline, extract_features, knn_dataset_cfgs
from .knn import knn_accuracy, knn_predict

__all__ = ['AuxiliaryHeadFeatures', 'FEATURE_KEYS', 'build_eval_dataset', 'complementarity',
           'compute_discrepancy', 'dino_eval_pipeline', 'discrepancy_pairs', 'extract_features',
           'feature_cache_key', 'kl_discrepancy', 'knn_accuracy', 'knn_dataset_cfgs',
           'knn_predict', 'knn_top1_predictions', 'load_features', 'save_features',
           'train_test_features']
