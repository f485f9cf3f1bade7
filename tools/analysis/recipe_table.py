"""docs/user_guides/recipes.md: every shipped recipe against the official training.

    python tools/analysis/recipe_table.py                 # print the page
    python tools/analysis/recipe_table.py --write docs/user_guides/recipes.md
    python tools/analysis/recipe_table.py --check docs/user_guides/recipes.md

The hssl column is read from the resolved configs (recipe_extract.py), the
official column and its sources are data (recipe_official.py). ``--check``
exits with status 1 and a diff when the page is not the one the configs give.
"""
import difflib
import functools
import glob
import math
import os
import os.path as osp
import sys
from typing import Any, Dict, List, Tuple

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path[:0] = [REPO, HERE]  # this checkout's hssl, whatever the current directory

from hssl.utils.cli import ArgumentParser, run  # noqa: E402  (first: quiets an mmcv warning)
import recipe_extract as rx  # noqa: E402,I100
import recipe_official as ro  # noqa: E402

FLAG = '≠'
PAGE = 'docs/user_guides/recipes.md'
RECIPE_DIRS = ('dino', 'ibot', 'mocov3', 'mae', 'hssl')


# ---------------------------------------------------------------- values
def same(key: str, official: Any, hssl: Any) -> bool:
    if key == 'total_batch':
        official = official[2] if isinstance(official, tuple) else official
        hssl = hssl[2] if isinstance(hssl, tuple) else hssl
    if isinstance(official, bool) or isinstance(hssl, bool):
        return official is hssl
    if isinstance(official, (int, float)) and isinstance(hssl, (int, float)):
        return math.isclose(official, hssl, rel_tol=1e-9, abs_tol=1e-15)
    if isinstance(official, tuple) and isinstance(hssl, tuple):
        return len(official) == len(hssl) and all(
            same('', o, h) for o, h in zip(official, hssl))
    return official == hssl


def _num(v) -> str:
    if isinstance(v, bool):
        return 'yes' if v else 'no'
    if isinstance(v, int):
        return str(v)
    return f'{v:.3g}'


def _span(t) -> str:
    return '(' + ', '.join(_num(x) for x in t) + ')'


def fmt(key: str, v: Any) -> str:
    if v is None:
        return 'none' if key in ('clip_max',) else '—'
    if key == 'optimizer':
        return f'{v[0]} {_span(v[1])}'
    if key == 'total_batch':
        if isinstance(v, tuple) and len(v) == 4:  # with gradient accumulation
            return f'{v[0]} x {v[1]} x {v[3]} steps = {v[2]}'
        return f'{v[0]} x {v[1]} = {v[2]}' if isinstance(v, tuple) else str(v)
    if key in ('weight_decay', 'teacher_momentum'):
        start, end = v
        return f'{_num(start)} (constant)' if start == end else f'{_num(start)} -> {_num(end)}'
    if key in ('teacher_temp', 'teacher_patch_temp'):
        start, end, epochs = v
        return (f'{_num(end)} (constant)' if epochs == 0
                else f'{_num(start)} -> {_num(end)} over {epochs} epochs')
    if key in ('global_crops', 'local_crops'):
        return v if isinstance(v, str) else f'{v[0]} x {v[1]} px, scale {_span(v[2])}'
    if key == 'mask':
        if v[0] == 'random':
            return f'random, ratio {_num(v[1])}'
        return f'{v[0]}, ratio {_span(v[1])}, var {_span(v[2])}'
    if key == 'head_mlp':
        return f'{v[0]} layers, {v[1]} hidden, {v[2]} bottleneck, {v[3]}'
    if key in ('projector', 'predictor'):
        return f'{v[0]} layers, {v[1]} hidden, {v[2]} out, last BN: {v[3]}'
    if key == 'temperature':
        return f'{_num(v[0])}' + (', loss x 2T' if v[1] else '')
    if key == 'lambdas':
        return f'{_num(v[0])}, {_num(v[1])}'
    if key == 'decoder':
        return f'{v[0]} wide, {v[1]} blocks, {v[2]} heads'
    if key == 'hssl_weighting':
        return {'mean': 'averaged: (L(base) + L(aux)) / 2',
                'sum': 'added: L(base) + L(aux)'}.get(v, v)
    if isinstance(v, (bool, int, float)):
        return _num(v)
    return str(v)


# ---------------------------------------------------------------- configs
@functools.lru_cache(maxsize=None)
def load(path: str):
    """The resolved config (read-only: the extractors do not change it)."""
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO, path))


def recipe_configs() -> List[str]:
    """Every config of the recipe directories, relative to the repository."""
    found = []
    for d in RECIPE_DIRS:
        found += glob.glob(osp.join(REPO, 'configs', d, '**', '*.py'), recursive=True)
    return sorted(osp.relpath(p, REPO) for p in found)


def ablation_configs() -> List[str]:
    return sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, ro.ABLATIONS, '*.py')))


def rows(config: str) -> List[Tuple[str, Any, str, Any, bool]]:
    """[(key, official, source, hssl, same)] for one recipe config."""
    recipe, gpus = ro.RECIPES[config]
    official = ro.OFFICIAL[recipe][2]
    hssl = rx.extract(load(config), gpus)
    out = []
    for key in rx.PARAMS:
        if hssl[key] is None and key not in official:
            continue
        if key not in official:
            raise KeyError(f'{recipe}: no official value for "{key}" (hssl: {hssl[key]!r}); '
                           'add it to tools/analysis/recipe_official.py')
        value, source = official[key]
        out.append((key, value, source, hssl[key], same(key, value, hssl[key])))
    return out


def explanation(recipe: str, key: str):
    """The note on a difference: on purpose (EXPLAIN) or open work (OPEN)."""
    for notes, common in ((ro.EXPLAIN, ro.EXPLAIN_ALL), (ro.OPEN, ro.OPEN_ALL)):
        note = notes.get(recipe, {}).get(key) or common.get(key)
        if note:
            return note
    return None


# ---------------------------------------------------------------- page
INTRO = f"""# Recipes against the official training

<!-- generated by tools/analysis/recipe_table.py from the configs; do not edit by hand:
     python tools/analysis/recipe_table.py --write docs/user_guides/recipes.md -->

For every shipped baseline and HSSL recipe, each hyper-parameter that shapes
the training: the official value, where it comes from (repository, file and
argument, or the command line of the official README), and the value of the
hssl config. The hssl column is read from the resolved config (inheritance
applied; a setting the config leaves out shows the default of the class it
builds), so this page changes when a config changes:
`python tools/analysis/recipe_table.py --write docs/user_guides/recipes.md`
rewrites it and `tests/configs/test_recipe_table.py` fails while it is out of date.

A row marked **{FLAG}** differs from the official value; the list under the
table says why. Rows marked "Not intentional" are open work (issue 12).

How to read some rows:

* **total batch**: GPUs x images per GPU. hssl configs state the batch per GPU
  and are written for the number of GPUs in their header comment (8);
  `tools/dist_train.sh CONFIG 8` trains that batch.
* **base lr** is the lr per 256 images (peak lr x 256 / total batch);
  **peak lr** is the lr at the end of the warm-up for the batch of the row
  above. The official codes always scale the lr linearly with the total
  batch; hssl does so with `--auto-scale-lr` (see the "lr scaling" row).
* Teacher temperatures read (start, end, warm-up epochs); "constant" when
  there is no warm-up.
* The papers' own sources: the HSSL paper's Tab. XX lists the iBOT + HSSL
  pre-training settings; "for each method, we follow its official
  implementation" (its Sec. 4) covers the rest.
"""


def recipe_section(config: str) -> List[str]:
    recipe, _ = ro.RECIPES[config]
    title, reference, _ = ro.OFFICIAL[recipe]
    lines = [f'## {title}', '', f'`{config}`', '', f'Official reference: {reference}.', '',
             '| | hyper-parameter | official | source | hssl |', '|---|---|---|---|---|']
    notes = []
    for key, official, source, hssl, ok in rows(config):
        flag = '' if ok else f'**{FLAG}**'
        lines.append(f'| {flag} | {rx.PARAMS[key]} | {fmt(key, official)} | {source} | '
                     f'{fmt(key, hssl)} |')
        if not ok:
            notes.append(f'- **{rx.PARAMS[key]}**: '
                         f'{explanation(recipe, key) or "NOT EXPLAINED"}')
    lines.append('')
    if notes:
        lines += [f'Where hssl differs ({len(notes)}):', ''] + notes + ['']
    else:
        lines += ['hssl matches every official value above.', '']
    return lines


def ablation_section() -> List[str]:
    base = rx.extract(load(ro.ABLATIONS_OF), ro.RECIPES[ro.ABLATIONS_OF][1])
    lines = ['## HSSL head analyses (the paper\'s Tab. I, III, IV, Fig. 5)', '',
             f'`{ro.ABLATIONS}/`: DINO + HSSL on ViT-S/16 with other auxiliary heads. Each is '
             f'compared here with `{ro.ABLATIONS_OF}` (table above); everything that is not '
             'listed is the same.', '',
             '| config | auxiliary head | differs from the DINO + HSSL recipe in |',
             '|---|---|---|']
    for config in ablation_configs():
        v = rx.extract(load(config), ro.RECIPES[ro.ABLATIONS_OF][1])
        differs = [rx.PARAMS[k] for k in rx.PARAMS
                   if k != 'aux_head' and not same(k, base[k], v[k])]
        lines.append(f'| `{osp.basename(config)}` | {v["aux_head"]} | '
                     f'{", ".join(differs) or "nothing else"} |')
    return lines + ['']


def _model(cfg) -> str:
    b = cfg.model['network']['backbone']
    arch = b.get('arch', 'small')
    if isinstance(arch, dict):
        arch = f"{arch['embed_dims']} wide, {arch['num_layers']} blocks"
    return f"{b['type']} {arch}, patch {b.get('patch_size', 16)}, {b.get('img_size', 224)} px"


def scaled_down_section() -> List[str]:
    lines = ['## Scaled-down recipes (not official)', '',
             'Small models on 32 px images for a CPU or one GPU: the quickstart\'s digits and '
             'CIFAR-10. They keep each method\'s mechanism and schedule shape but not its '
             'official sizes; no official run corresponds to them.', '',
             '| config | base model | global views | local views | batch per process | '
             'epochs | lr (as configured) |', '|---|---|---|---|---|---|---|']
    for config in ro.SCALED_DOWN:
        cfg = load(config)
        v = rx.extract(cfg, 1)
        lines.append(f'| `{config}` | {_model(cfg)} | {fmt("global_crops", v["global_crops"])} | '
                     f'{fmt("local_crops", v["local_crops"])} | {v["total_batch"][1]} | '
                     f'{v["epochs"]} | {_num(v["peak_lr"])} |')
    return lines + ['']


def variants_section() -> List[str]:
    lines = ['## Other experiment configs (not compared here)', '',
             'What each reproduces: docs/paper_tables.md.', '', '| config | what |', '|---|---|']
    lines += [f'| `{config}` | {what} |' for config, what in ro.VARIANTS.items()]
    return lines + ['']


def code_section() -> List[str]:
    lines = ['## Official behaviour that lives in code', '',
             'Not config values, so not in the tables: the reference tests compare hssl with '
             'these.', '', '| what | official | source |', '|---|---|---|']
    lines += [f'| {what} | {official} | {source} |' for what, official, source in ro.CODE_FACTS]
    return lines + ['']


def render() -> str:
    lines = [INTRO]
    for config in ro.RECIPES:
        lines += recipe_section(config)
    lines += ablation_section() + scaled_down_section() + variants_section() + code_section()
    return '\n'.join(lines).rstrip('\n') + '\n'


def main(argv=None) -> int:
    parser = ArgumentParser(description=__doc__.split('\n')[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--write', metavar='PATH', help='write the page to PATH')
    group.add_argument('--check', metavar='PATH', help='exit 1 when PATH is out of date')
    args = parser.parse_args(argv)
    from hssl.utils import register_all_modules
    register_all_modules()
    try:
        page = render()
    except (rx.RecipeFormError, KeyError) as err:
        print(f'recipe_table: {err}', file=sys.stderr)
        return 2
    if args.write:
        with open(args.write, 'w', encoding='utf-8') as f:
            f.write(page)
        print(f'wrote {args.write}')
    elif args.check:
        with open(args.check, encoding='utf-8') as f:
            old = f.read()
        if old != page:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), page.splitlines(True), args.check, 'regenerated'))
            print(f'{args.check} is out of date: python tools/analysis/recipe_table.py '
                  f'--write {args.check}', file=sys.stderr)
            return 1
    else:
        sys.stdout.write(page)
    return 0


if __name__ == '__main__':
    sys.exit(run(main))
