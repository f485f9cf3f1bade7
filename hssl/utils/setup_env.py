"""Environment set-up: registries and checkpoint loading."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every hssl module that registers something and set the scope.

    Building from a config does not need this (the registries know their
    ``locations``); call it in scripts that use the registries directly.
    """
    import hssl.datasets  # noqa: F401
    import hssl.engine  # noqa: F401
    import hssl.evaluation  # noqa: F401
    import hssl.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('hssl', scope_name='hssl')
    elif current.scope_name != 'hssl':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "hssl"; '
                      '`register_all_modules` opens a new "hssl" scope.')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S.%f')
        DefaultScope.get_instance(f'hssl-{stamp}', scope_name='hssl')
