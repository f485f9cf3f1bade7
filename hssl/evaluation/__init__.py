"""Evaluation of frozen features: k-NN classification (DINO / iBOT ``eval_knn``);
analyses of HSSL: discrepancy (Eq. 5), N_s / sIoU (Eq. 3-4)."""
from .complementarity import AuxiliaryHeadFeatures, complementarity, knn_top1_predictions
from .discrepancy import compute_discrepancy, discrepancy_pairs, kl_discrepancy
from .features import (build_eval_dataset, dino_eval_pipeline, extract_dataset_features, extract_features,
                       feature_cache_key, knn_dataset_cfgs, load_features, save_features)
from .knn import knn_accuracy, knn_predict

__all__ = ['AuxiliaryHeadFeatures', 'build_eval_dataset', 'complementarity', 'compute_discrepancy', 'dino_eval_pipeline',
           'discrepancy_pairs', 'extract_dataset_features', 'extract_features',
           'feature_cache_key', 'kl_discrepancy', 'knn_accuracy', 'knn_dataset_cfgs', 'knn_predict',
           'knn_top1_predictions', 'load_features', 'save_features']
