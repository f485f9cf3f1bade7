"""k-NN speed: FAISS vs scikit-learn (brute force) vs the torch backend, same features.

    python tools/benchmarks/knn_speed.py [--train 50000] [--test 10000] [--dim 384] [--k 200]
        [--classes 100] [--methods faiss torch sklearn] [--device cpu|cuda] [--threads N]

The features are random but clustered (one Gaussian cluster per class, so
that the vote matters): ``--classes`` centres, every sample its centre plus
noise (``--noise``). Every method does the whole weighted k-NN classification of DINO
(exact neighbours by cosine similarity, vote ``sum exp(sim / 0.07)``) from
the raw features to the predicted class; each is timed once (after one tiny
warm-up call) and the predictions are compared with the first method's. The
scikit-learn classifier is ``KNeighborsClassifier(algorithm='brute',
metric='cosine', weights=exp((1 - distance) / T))``.
"""
import time

import numpy as np
import torch

# hssl.utils.cli first: it quiets an import warning of mmcv
from hssl.utils.cli import ArgumentParser, positive_int, run
from hssl.evaluation import knn_predict

T = 0.07


def clustered_features(n_train, n_test, dim, classes, noise=4.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim)).astype(np.float32)

    def draw(n):
        labels = rng.integers(0, classes, n)
        return centres[labels] + noise * rng.standard_normal((n, dim)).astype(np.float32), labels
    return (*draw(n_train), *draw(n_test))


def predict_hssl(backend, device):
    def run(train_x, train_y, test_x, k):
        train, test = torch.from_numpy(train_x).to(device), torch.from_numpy(test_x).to(device)
        labels = torch.from_numpy(train_y).to(device)
        scores = knn_predict(train, labels, test, ks=k, temperature=T, backend=backend)[k]
        return scores.argmax(1).cpu().numpy()
    return run


def predict_sklearn(train_x, train_y, test_x, k):
    from sklearn.neighbors import KNeighborsClassifier
    clf = KNeighborsClassifier(n_neighbors=k, algorithm='brute', metric='cosine',
                               weights=lambda d: np.exp((1.0 - d) / T))
    clf.fit(train_x, train_y)
    return clf.predict(test_x)


def main(argv=None):
    p = ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--train', type=positive_int, default=50_000)
    p.add_argument('--test', type=positive_int, default=10_000)
    p.add_argument('--dim', type=positive_int, default=384)
    p.add_argument('--k', type=positive_int, default=200)
    p.add_argument('--classes', type=positive_int, default=100)
    p.add_argument('--noise', type=float, default=4.0,
                   help='noise std per dimension (centres have std 1): sets the difficulty')
    p.add_argument('--methods', nargs='+', default=['faiss', 'torch', 'sklearn'],
                   choices=['faiss', 'torch', 'sklearn'])
    p.add_argument('--device', default='cpu', help='device of the torch backend (cuda for a GPU)')
    p.add_argument('--threads', type=positive_int, default=None, help='torch / faiss CPU threads')
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
        try:
            import faiss
            faiss.omp_set_num_threads(args.threads)
        except ImportError:
            pass
    train_x, train_y, test_x, test_y = clustered_features(args.train, args.test, args.dim,
                                                          args.classes, args.noise)
    methods = {'faiss': predict_hssl('faiss', args.device),
               'torch': predict_hssl('torch', args.device), 'sklearn': predict_sklearn}
    print(f'train {args.train} x {args.dim}, test {args.test}, k={args.k}, '
          f'{args.classes} classes, torch threads {torch.get_num_threads()}, '
          f'device {args.device}')
    times, preds = {}, {}
    for name in args.methods:
        methods[name](train_x[:1000], train_y[:1000], test_x[:10], 10)  # warm-up (imports, kernels)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        preds[name] = methods[name](train_x, train_y, test_x, args.k)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        times[name] = time.perf_counter() - start
    first = args.methods[0]
    fastest = min(times.values())
    print(f'{"method":>8} {"seconds":>9} {"x fastest":>10} {"top-1 %":>8} {"differ from " + first:>18}')
    for name in args.methods:
        differ = int((preds[name] != preds[first]).sum())
        print(f'{name:>8} {times[name]:>9.2f} {times[name] / fastest:>10.2f} '
              f'{100 * np.mean(preds[name] == test_y):>8.2f} {differ:>18}')
    return times, preds


if __name__ == '__main__':
    run(main)
