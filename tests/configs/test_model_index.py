"""model-index.yml and the metafiles: OpenMMLab's model-index format, complete and honest.

The required fields are those the ``model-index`` package checks (``mi check``): a
model's ``Name``; a result's ``Task`` and ``Dataset`` (strings) and ``Metrics`` (a dict
or list); an ``In Collection`` naming a collection; a README path relative to its
metafile that exists. The package's own check runs too (mmpretrain depends on it).
"""
import glob
import os.path as osp

import yaml

from tests import REPO
from tests.configs import ALIASES


INDEX = osp.join(REPO, 'model-index.yml')


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def metafiles():
    return [osp.join(REPO, p) for p in load(INDEX)['Import']]


def all_models():
    return [(path, m) for path in metafiles() for m in load(path)['Models']]


def test_index_imports_existing_metafiles_with_collections_and_models():
    assert set(load(INDEX)) == {'Import'}
    for path in metafiles():
        assert osp.isfile(path), path
        doc = load(path)
        assert set(doc) == {'Collections', 'Models'}, path
        for c in doc['Collections']:
            assert c['Name'] and c['Paper']['Title'] and c['Paper']['URL'].startswith('https://')
            assert osp.isfile(osp.join(osp.dirname(path), c['README'])), (path, c['README'])


def test_every_model_has_the_required_fields():
    collections = {c['Name'] for p in metafiles() for c in load(p)['Collections']}
    names = [m['Name'] for _, m in all_models()]
    assert len(names) == len(set(names)), 'model names must be unique'
    for path, m in all_models():
        where = f'{path}: {m.get("Name")}'
        assert m['Name'] and m['In Collection'] in collections, where
        assert osp.isfile(osp.join(REPO, m['Config'])), where
        meta = m['Metadata']
        assert isinstance(meta['Epochs'], int) and isinstance(meta['Batch Size'], int), where
        assert meta['Training Data'] and m['Reproduces'], where
        assert m['Weights'] is None, f'{where}: no weights are released yet'
        if m['Results']:
            assert 'docs/benchmarks.md' in m['Measured'], f'{where}: say where and when'
        for r in m['Results'] or []:
            assert isinstance(r['Task'], str) and isinstance(r['Dataset'], str), where
            assert isinstance(r['Metrics'], (dict, list)) and r['Metrics'], where


def test_every_pretraining_config_is_indexed_once_and_in_its_folder_readme():
    files = glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    configs = sorted(osp.relpath(p, REPO) for p in files
                     if '/_base_/' not in p and '/benchmarks/' not in p)
    indexed = sorted(m['Config'] for _, m in all_models())
    # an alias (one _base_ line kept for a documented command) is indexed as its target
    assert indexed == sorted(set(configs) - set(ALIASES))
    assert set(ALIASES.values()) <= set(indexed)
    for path, m in all_models():
        readme = open(osp.join(osp.dirname(path), 'README.md')).read()
        assert f'({osp.relpath(m["Config"], osp.relpath(osp.dirname(path), REPO))})' in readme, \
            m['Config']


def test_results_are_numbers_reported_in_the_benchmarks_page():
    measured = open(osp.join(REPO, 'docs', 'benchmarks.md')).read()
    results = [(m['Name'], v) for _, m in all_models() for r in m['Results'] or []
               for v in r['Metrics'].values()]
    assert results, 'the quickstart result is measured'
    for name, value in results:
        assert f'{value}%' in measured, f'{name}: {value} is not in docs/benchmarks.md'


def test_the_model_index_package_finds_no_error():
    import modelindex
    mi = modelindex.load(INDEX)
    assert len(mi.models) == len(all_models())
    assert [e for e in mi.collect_check_errors() if e['errors']] == []
