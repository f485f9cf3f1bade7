from .heterogeneous import BranchOutput, HeterogeneousNetwork, group_by_resolution

__all__ = ['BranchOutput', 'HeterogeneousNetwork', 'group_by_resolution']
