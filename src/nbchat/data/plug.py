"""Which data layer a host uses: one rule for the widget, the extension, serve, history, tests.

    explicit argument  >  @cl.data_layer  >  nbchat.data._data_layer  >  data.url (default)

`@cl.data_layer` is a function returning the layer; the host calls it once (per server,
per kernel). A layer given by the app is used as is when it is one of nbchat's own
(NativeDataLayer: SQLite, PostgreSQL), else, being a Chainlit-style BaseDataLayer, it is
wrapped in AdaptedDataLayer (write-behind queue, retries, ownership checks). When the app
brings its own layer no `.nbchat/nbchat.db` is made; element bytes still go to
`<app_dir>/.nbchat/files/` (made on the first element).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbchat.data.adapter import AdaptedDataLayer
from nbchat.data.base import BaseDataLayer
from nbchat.data.native import NativeDataLayer
from nbchat.errors import ConfigError

if TYPE_CHECKING:
    from nbchat.app import App

AnyLayer = BaseDataLayer | NativeDataLayer
# What each App's @cl.data_layer function returned (the function, its layer).
_made: weakref.WeakKeyDictionary[App, tuple[Callable[..., Any], AnyLayer]] = (
    weakref.WeakKeyDictionary())


def native_layer(layer: AnyLayer, app_dir: Path, *, close_layer: bool = True) -> NativeDataLayer:
    """The layer as hosts call it: nbchat's own as is, a Chainlit-style one adapted
    (`close_layer`: whether closing the adapter closes the wrapped layer too)."""
    if isinstance(layer, NativeDataLayer):
        return layer
    if isinstance(layer, BaseDataLayer):
        from nbchat.data import FILES_DIR, LocalStorage

        return AdaptedDataLayer(layer, LocalStorage(Path(app_dir) / FILES_DIR),
                                close_layer=close_layer)
    raise ConfigError(
        f"the data layer is a {type(layer).__name__}; it must subclass "
        "nbchat.data.BaseDataLayer (a class written for chainlit.data.BaseDataLayer works "
        "once its imports say nbchat)")


def app_brings_layer(app: App | None) -> bool:
    """True when `@cl.data_layer` or `nbchat.data._data_layer` is set (nothing is called)."""
    import nbchat.data

    return (app is not None and app.get("data_layer") is not None) or (
        nbchat.data._data_layer is not None)


def app_data_layer(app: App | None, app_dir: Path, *,
                   owner: bool = False) -> NativeDataLayer | None:
    """The layer the app brings, ready for one host (its own adapter), or None.

    `@cl.data_layer` is called once per App (and again only if another function is
    registered): the hosts of a process that serve the same app (a kernel's widgets and
    `nbchat.history`, a server's chats and REST API) share what it returned. Only an
    `owner` (the server that loaded the app) closes that layer when it closes its adapter.
    `nbchat.data._data_layer` is shared by every host and closed by none.
    """
    import nbchat.data

    layer = brought_layer(app)
    if layer is None:
        return None
    shared = layer is nbchat.data._data_layer
    return native_layer(layer, app_dir, close_layer=owner and not shared)


def brought_layer(app: App | None) -> AnyLayer | None:
    """The layer object the app brings, as the app made it (not adapted), or None:
    what `@cl.data_layer` returned (calling it the first time), else the global."""
    import nbchat.data

    factory = app.get("data_layer") if app is not None else None
    if app is None or factory is None:
        return nbchat.data._data_layer
    made = _made.get(app)
    if made is None or made[0] is not factory:
        layer = factory()
        if layer is None:
            raise ConfigError("the @cl.data_layer function returned None; return a data layer")
        made = _made[app] = (factory, layer)
    return made[1]


def resolve_data_layer(
    app: App | None,
    url: str | None,
    app_dir: Path,
    *,
    explicit: AnyLayer | None = None,
    enabled: bool = True,
    owner: bool = False,
    storage_url: str | None = None,
) -> NativeDataLayer | None:
    """The host's layer (see the module doc); None when persistence is off (data.enabled
    false) and no layer was given explicitly. `owner`: see app_data_layer."""
    from nbchat.data import make_data_layer

    if explicit is not None:
        return native_layer(explicit, app_dir)
    if not enabled:
        return None
    return (app_data_layer(app, app_dir, owner=owner)
            or make_data_layer(url, app_dir, storage_url))
