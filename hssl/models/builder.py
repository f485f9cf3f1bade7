"""Build a component from its config, naming a wrong key before anything runs."""
import difflib
import inspect
from typing import List, Optional

from hssl.registry import MODELS


def accepted_keys(cls) -> Optional[List[str]]:
    """Constructor options of ``cls`` along its ``**kwargs`` chain, each once; None if
    open-ended (also where the class says ``open_options = True``: its ``**kwargs`` go
    to another library, timm, which names a wrong key itself)."""
    if getattr(cls, 'open_options', False):
        return None
    keys: List[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        keys += [p.name for p in params if p.name != 'self'
                 and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return list(dict.fromkeys(keys))
    return None


def unknown_option(where: str, owner: str, key: str, options) -> str:
    """'<where>: <owner> has no option "<key>". Did you mean ...? Its options: ...'
    (each option once, sorted), the message of every misspelt option."""
    options = sorted(set(options))
    close = difflib.get_close_matches(key, options, n=1)
    hint = f' Did you mean "{close[0]}"?' if close else ''
    prefix = f'{where}: ' if where else ''
    return f'{prefix}{owner} has no option "{key}".{hint} Its options: {", ".join(options)}'


def build_component(cfg: dict, where: str, **defaults):
    """``MODELS.build(dict(cfg, **defaults))`` with a clear error for unknown keys.

    ``where`` names the config entry (e.g. ``model.network.auxiliary``).
    """
    cfg = dict(cfg, **defaults)
    if 'type' not in cfg:
        raise KeyError(f'{where}: the config has no "type"')
    cls = MODELS.get(cfg['type']) if isinstance(cfg['type'], str) else cfg['type']
    if cls is None:
        raise KeyError(f'{where}: type "{cfg["type"]}" is not registered')
    allowed = accepted_keys(cls)
    if allowed is not None:
        for key in cfg:
            if key != 'type' and key not in allowed:
                raise TypeError(unknown_option(where, cls.__name__, key, allowed))
    return MODELS.build(cfg)
