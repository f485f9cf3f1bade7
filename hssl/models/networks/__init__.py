from .deep_to_shallow import DeepToShallow
from .heterogeneous import BranchOutput, HeterogeneousNetwork, group_by_resolution
from .pairs import LossTerm, LossTerms, Pair, loss_terms

__all__ = ['BranchOutput', 'DeepToShallow', 'HeterogeneousNetwork', 'LossTerm', 'LossTerms',
           'Pair', 'group_by_resolution', 'loss_terms']
