"""Running Chainlit apps unchanged: `import chainlit` served by nbchat (docs/chainlit.md).

- `alias.py`: the import finder, turned on by the loader (`runtime.chainlit_alias`) or
  in a notebook by `nbchat.alias_chainlit()`;
- `modules.py`: the one table of Chainlit module -> nbchat module;
- `config_view.py`: `chainlit.config.config`, read only, from nbchat's Config;
- `config_toml.py`: `.chainlit/config.toml` and `chainlit.md` read as nbchat config.

Nothing here is imported by `import nbchat`.
"""

from __future__ import annotations


def alias_chainlit(shadow_installed: bool = False) -> bool:
    """Serve `import chainlit` (and its submodules) from nbchat in this process.

    When the real chainlit package is installed it is left alone (a warning says so)
    unless `shadow_installed=True`. Returns True when chainlit imports are nbchat's."""
    from nbchat.chainlit_compat import alias

    alias.install("on" if shadow_installed else "auto")
    if alias.active():
        return True
    where = alias.installed_chainlit()
    if where is not None and not shadow_installed:
        alias.log.warning("nbchat: chainlit is installed (%s), so `import chainlit` uses it, "
                          "not nbchat; call nbchat.alias_chainlit(shadow_installed=True) "
                          "before importing chainlit to use nbchat", where)
        return False
    return True
