"""Evaluation of frozen features: k-NN classification (DINO / iBOT ``eval_knn``)."""
from .knn import knn_accuracy, knn_predict

__all__ = ['knn_accuracy', 'knn_predict']
