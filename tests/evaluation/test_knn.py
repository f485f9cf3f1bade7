"""Weighted k-NN classifier (DINO eval_knn) against references computed here."""
import math
import sys

import numpy as np
import pytest
import torch

from hssl.evaluation import knn_accuracy, knn_predict

try:
    import faiss  # noqa: F401
    HAS_FAISS = True
except ImportError:
    HAS_FAISS = False

BACKENDS = ['torch', pytest.param('faiss', marks=pytest.mark.skipif(
    not HAS_FAISS, reason='faiss is not installed'))]
KS = (1, 5, 10, 37)
T = 0.07


def reference_scores(train, labels, test, k, temperature, num_classes):
    """Dense float64 numpy version of DINO's weighted k-NN vote."""
    train = train / np.linalg.norm(train, axis=1, keepdims=True)
    test = test / np.linalg.norm(test, axis=1, keepdims=True)
    sims = test @ train.T
    scores = np.zeros((len(test), num_classes))
    for i in range(len(test)):
        for j in np.argsort(-sims[i], kind='stable')[:k]:
            scores[i, labels[j]] += math.exp(sims[i, j] / temperature)
    return scores


@pytest.fixture(scope='module')
def data():
    """Random features (seed fixed) whose k-th/(k+1)-th similarities never nearly tie."""
    rng = np.random.default_rng(0)
    train = rng.standard_normal((120, 16)).astype(np.float32)
    labels = rng.integers(0, 7, size=120)
    test = rng.standard_normal((30, 16)).astype(np.float32)
    test_labels = rng.integers(0, 7, size=30)
    t64 = train / np.linalg.norm(train, axis=1, keepdims=True)
    q64 = test / np.linalg.norm(test, axis=1, keepdims=True)
    ordered = -np.sort(-(q64.astype(np.float64) @ t64.T.astype(np.float64)), axis=1)
    for k in KS:  # no (near) tie across any k boundary: neighbour sets are unambiguous
        assert (ordered[:, k - 1] - ordered[:, k]).min() > 1e-5
    return train, labels, test, test_labels


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('as_numpy', [True, False])
def test_matches_bruteforce_reference(data, backend, as_numpy):
    train, labels, test, _ = data
    inputs = (train, labels, test)
    if not as_numpy:
        inputs = tuple(map(torch.from_numpy, inputs))
    scores = knn_predict(*inputs, ks=KS, temperature=T, backend=backend)
    assert list(scores) == list(KS)
    for k in KS:
        expected = reference_scores(train, labels, test, k, T, 7)
        assert scores[k].shape == (30, 7) and scores[k].dtype == torch.float32
        np.testing.assert_allclose(scores[k].numpy(), expected, rtol=1e-5)
        assert np.array_equal(scores[k].argmax(1).numpy(), expected.argmax(1))


@pytest.mark.skipif(not HAS_FAISS, reason='faiss is not installed')
def test_backends_agree(data):
    train, labels, test, test_labels = data
    by_torch = knn_predict(train, labels, test, ks=KS, backend='torch')
    by_faiss = knn_predict(train, labels, test, ks=KS, backend='faiss')
    for k in KS:
        assert torch.equal(by_torch[k].argmax(1), by_faiss[k].argmax(1))
        torch.testing.assert_close(by_torch[k], by_faiss[k], rtol=1e-5, atol=0)
    assert (knn_accuracy(train, labels, test, test_labels, ks=KS, backend='torch')
            == knn_accuracy(train, labels, test, test_labels, ks=KS, backend='faiss'))


@pytest.mark.parametrize('backend', BACKENDS)
def test_hand_computed_example(backend):
    # Cosine similarities to the query (1, 0): 1, 0, -1, 0.6 (the first train
    # point is not unit length: features are normalised first).
    train = torch.tensor([[3.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.6, 0.8]])
    labels = torch.tensor([0, 1, 0, 1])
    query = torch.tensor([[2.0, 0.0]])
    scores = knn_predict(train, labels, query, ks=(2, 3, 4), temperature=0.5, backend=backend)
    e = math.exp
    # k=2: neighbours 0 (s=1, class 0) and 3 (s=0.6, class 1).
    torch.testing.assert_close(scores[2], torch.tensor([[e(2.0), e(1.2)]]))
    # k=3: + neighbour 1 (s=0, class 1).
    torch.testing.assert_close(scores[3], torch.tensor([[e(2.0), e(1.2) + 1.0]]))
    # k=4: + neighbour 2 (s=-1, class 0).
    torch.testing.assert_close(scores[4], torch.tensor([[e(2.0) + e(-2.0), e(1.2) + 1.0]]))


@pytest.mark.parametrize('backend', BACKENDS)
def test_top1_top5_hand_case(backend):
    # One training point per class, on the axes; k=1 so each query has one
    # voter, the other classes score 0 and rank by class index.
    train = torch.eye(6)
    labels = torch.arange(6)
    test = torch.eye(6)[[0, 1, 2]] + 0.01 * torch.tensor([[0, 1, 0, 0, 0, 0.0]] * 3)
    # query 0: predicted 0, label 0 -> top-1 hit.
    # query 1: ranking [1, 0, 2, 3, 4, 5], label 3 -> top-5 hit only.
    # query 2: ranking [2, 0, 1, 3, 4, 5], label 5 -> miss.
    test_labels = torch.tensor([0, 3, 5])
    acc = knn_accuracy(train, labels, test, test_labels, ks=1, backend=backend)
    assert acc['top1'] == {1: pytest.approx(100 / 3)}
    assert acc['top5'] == {1: pytest.approx(200 / 3)}


@pytest.mark.parametrize('backend', BACKENDS)
def test_accuracy_matches_reference(data, backend):
    train, labels, test, test_labels = data
    acc = knn_accuracy(train, labels, test, test_labels, ks=KS, backend=backend, chunk_size=7)
    assert set(acc) == {'top1', 'top5'}
    for k in KS:
        ref = reference_scores(train, labels, test, k, T, 7)
        top5 = np.argsort(-ref, axis=1, kind='stable')[:, :5]
        assert acc['top1'][k] == pytest.approx(100 * np.mean(ref.argmax(1) == test_labels))
        assert acc['top5'][k] == pytest.approx(
            100 * np.mean((top5 == test_labels[:, None]).any(1)))


def test_top5_is_nan_with_fewer_than_five_classes():
    rng = np.random.default_rng(1)
    train, test = rng.standard_normal((20, 4)), rng.standard_normal((5, 4))
    labels, test_labels = np.arange(20) % 3, np.arange(5) % 3
    acc = knn_accuracy(train, labels, test, test_labels, ks=(1, 3), backend='torch')
    assert all(math.isnan(v) for v in acc['top5'].values())
    assert all(0 <= v <= 100 for v in acc['top1'].values())


def test_chunked_torch_path_equals_unchunked(data):
    train, labels, test, _ = data
    whole = knn_predict(train, labels, test, ks=KS, backend='torch', chunk_size=10_000)
    for chunk_size in (1, 7):
        chunked = knn_predict(train, labels, test, ks=KS, backend='torch', chunk_size=chunk_size)
        for k in KS:
            # Same neighbours; a 1-row block goes through a matrix-vector
            # kernel, so similarities may differ in the last float32 bits.
            torch.testing.assert_close(chunked[k], whole[k], rtol=1e-5, atol=0)
            assert torch.equal(chunked[k].argmax(1), whole[k].argmax(1))


def test_num_classes_and_dtypes(data):
    train, labels, test, _ = data
    wide = knn_predict(train, labels, test, ks=5, num_classes=10, backend='torch')[5]
    assert wide.shape == (30, 10) and torch.all(wide[:, 7:] == 0)
    base = knn_predict(train, labels, test, ks=5, backend='torch')[5]
    as64 = knn_predict(train.astype(np.float64), labels.astype(np.int32), test.astype(np.float64),
                       ks=5, backend='torch')[5]
    torch.testing.assert_close(as64, base)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_torch_backend_on_cuda(data):
    train, labels, test, _ = data
    cpu = knn_predict(train, labels, test, ks=KS, backend='torch')
    gpu = knn_predict(*(torch.from_numpy(x).cuda() for x in (train, labels, test)), ks=KS,
                      backend='torch')
    for k in KS:
        assert gpu[k].is_cuda
        torch.testing.assert_close(gpu[k].cpu(), cpu[k], rtol=1e-4, atol=0)


def test_missing_faiss(monkeypatch, data):
    train, labels, test, _ = data
    monkeypatch.setitem(sys.modules, 'faiss', None)  # `import faiss` now fails
    with pytest.raises(ImportError, match=r'pip install faiss-cpu') as info:
        knn_predict(train, labels, test, ks=5, backend='faiss')
    assert '.[cpu]' in str(info.value) and '.[gpu]' in str(info.value)
    auto = knn_predict(train, labels, test, ks=5, backend='auto')[5]
    torch.testing.assert_close(auto, knn_predict(train, labels, test, ks=5, backend='torch')[5])


def _good():
    rng = np.random.default_rng(2)
    return rng.standard_normal((10, 4)), np.arange(10) % 3, rng.standard_normal((3, 4))


@pytest.mark.parametrize('change,words', [
    (dict(train_labels=np.arange(9) % 3), ['9 labels', '10 samples', 'mismatch']),
    (dict(test_features=np.zeros((3, 5))), ['same width', '(10, 4)', '(3, 5)']),
    (dict(ks=(5, 11)), ['k=11', 'larger than the training set', '10 samples']),
    (dict(ks=(0,)), ['positive integer']),
    (dict(ks=()), ['ks is empty']),
    (dict(train_features=np.zeros((0, 4)), train_labels=np.zeros(0, dtype=int)),
     ['train_features is empty', '(0, 4)']),
    (dict(test_features=np.zeros((0, 4))), ['test_features is empty', '(0, 4)']),
    (dict(train_features=np.zeros((10, 4, 1))), ['train_features must be 2-D', '(10, 4, 1)']),
    (dict(test_features=np.zeros(4)), ['test_features must be 2-D', '(4,)']),
    (dict(backend='annoy'), ['unknown backend', 'annoy']),
    (dict(train_labels=np.arange(10) * 0.5), ['integer class indices', 'float64']),
    (dict(train_labels=np.arange(10) - 1), ['non-negative', '-1']),
    (dict(temperature=0.0), ['temperature must be > 0']),
    (dict(num_classes=2), ['num_classes=2', 'class 2']),
    (dict(test_features=np.full((3, 4), np.nan)), ['test_features', 'NaN']),
    (dict(chunk_size=0), ['chunk_size']),
])
def test_bad_inputs(change, words):
    train, labels, test = _good()
    kwargs = dict(train_features=train, train_labels=labels, test_features=test, ks=(1, 5),
                  backend='torch')
    kwargs.update(change)
    with pytest.raises(ValueError) as info:
        knn_predict(**kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_bad_test_labels():
    train, labels, test = _good()
    with pytest.raises(ValueError, match='2 labels but test_features has 3 samples'):
        knn_accuracy(train, labels, test, np.array([0, 1]), ks=1)
    with pytest.raises(ValueError, match='num_classes=3 but test_labels contain class 4'):
        knn_accuracy(train, labels, test, np.array([0, 1, 4]), ks=1, num_classes=3)


def test_non_array_input_is_a_type_error():
    train, labels, test = _good()
    with pytest.raises(TypeError, match='test_features must be a torch.Tensor or a numpy.ndarray'):
        knn_predict(train, labels, test.tolist(), ks=1)


@pytest.mark.skipif(not HAS_FAISS, reason='faiss is not installed')
def test_auto_prefers_faiss_on_cpu(monkeypatch, data):
    import hssl.evaluation.knn as knn
    train, labels, test, _ = data
    calls = []
    search = knn._search_faiss
    monkeypatch.setattr(knn, '_search_faiss', lambda *a: calls.append(1) or search(*a))
    knn_predict(train, labels, test, ks=5, backend='auto')
    assert calls == [1]
