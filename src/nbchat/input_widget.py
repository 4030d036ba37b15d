"""Input widgets of the chat settings panel. Each validates what a client sends back."""

from __future__ import annotations

from typing import Any, ClassVar


class InputWidget:
    """Base class of the chat settings inputs; `initial` is the value before any change."""

    type: ClassVar[str] = ""

    def __init__(self, id: str, label: str, initial: Any = None, tooltip: str | None = None,
                 description: str | None = None) -> None:
        self.id = id
        self.label = label
        self.initial = initial
        self.tooltip = tooltip
        self.description = description

    def to_dict(self) -> dict[str, Any]:
        """The widget as sent in the `settings` event."""
        data = {k: v for k, v in vars(self).items() if v is not None}
        data["type"] = self.type
        return data

    def validate(self, value: Any) -> Any:
        """Return the value if acceptable, else raise ValueError naming the widget."""
        raise NotImplementedError

    def _fail(self, value: Any, expected: str) -> ValueError:
        return ValueError(f"setting {self.id!r}: expected {expected}, got {value!r}")


class Switch(InputWidget):
    """An on/off toggle."""

    type = "switch"

    def __init__(self, id: str, label: str, initial: bool = False, **kw: Any) -> None:
        super().__init__(id, label, initial, **kw)

    def validate(self, value: Any) -> bool:
        """Accept only a boolean."""
        if not isinstance(value, bool):
            raise self._fail(value, "true or false")
        return value


class Slider(InputWidget):
    """A number picked on a range from `min` to `max` in steps of `step`."""

    type = "slider"

    def __init__(self, id: str, label: str, initial: float = 0, min: float = 0,
                 max: float = 10, step: float = 1, **kw: Any) -> None:
        super().__init__(id, label, initial, **kw)
        self.min, self.max, self.step = min, max, step

    def validate(self, value: Any) -> float:
        """Accept only a number within the range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(value, "a number")
        if not self.min <= value <= self.max:
            raise self._fail(value, f"a number from {self.min} to {self.max}")
        return value


class NumberInput(InputWidget):
    """A free number field."""

    type = "numberinput"

    def __init__(self, id: str, label: str, initial: float | None = None,
                 placeholder: str | None = None, **kw: Any) -> None:
        super().__init__(id, label, initial, **kw)
        self.placeholder = placeholder

    def validate(self, value: Any) -> float | None:
        """Accept a number or nothing."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(value, "a number")
        return value


class TextInput(InputWidget):
    """A text field, one line or `multiline`."""

    type = "textinput"

    def __init__(self, id: str, label: str, initial: str | None = None,
                 placeholder: str | None = None, multiline: bool = False, **kw: Any) -> None:
        super().__init__(id, label, initial, **kw)
        self.placeholder = placeholder
        self.multiline = multiline

    def validate(self, value: Any) -> str | None:
        """Accept a string or nothing."""
        if value is not None and not isinstance(value, str):
            raise self._fail(value, "a string")
        return value


def _options(values: list[str] | None, items: dict[str, str] | None) -> dict[str, str]:
    """Options as {label: value}, from `values` (label = value) or `items`."""
    if items:
        return dict(items)
    return {v: v for v in values or []}


class Select(InputWidget):
    """A choice of one item: `values` (label = value) or `items` (label → value)."""

    type = "select"

    def __init__(self, id: str, label: str, values: list[str] | None = None,
                 items: dict[str, str] | None = None, initial_index: int | None = None,
                 initial_value: str | None = None, **kw: Any) -> None:
        options = _options(values, items)
        if not options:
            raise ValueError(f"Select {id!r} needs values or items")
        initial = initial_value
        if initial is None and initial_index is not None:
            initial = list(options.values())[initial_index]
        super().__init__(id, label, initial, **kw)
        self.items = options

    def validate(self, value: Any) -> str | None:
        """Accept one of the item values or nothing."""
        if value is not None and value not in self.items.values():
            raise self._fail(value, "one of " + ", ".join(map(repr, self.items.values())))
        return value  # type: ignore[no-any-return]


class MultiSelect(Select):
    """A choice of several items."""

    type = "multiselect"

    def __init__(self, id: str, label: str, values: list[str] | None = None,
                 items: dict[str, str] | None = None, initial: list[str] | None = None,
                 **kw: Any) -> None:
        super().__init__(id, label, values=values, items=items, **kw)
        self.initial = initial or []

    def validate(self, value: Any) -> list[str]:  # type: ignore[override]
        """Accept a list of item values."""
        if not isinstance(value, list):
            raise self._fail(value, "a list")
        for v in value:
            super().validate(v)
        return value


class Tags(InputWidget):
    """A list of free-form tags, suggested from `values`."""

    type = "tags"

    def __init__(self, id: str, label: str, initial: list[str] | None = None,
                 values: list[str] | None = None, **kw: Any) -> None:
        super().__init__(id, label, initial or [], **kw)
        self.values = values

    def validate(self, value: Any) -> list[str]:
        """Accept a list of strings."""
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(value, "a list of strings")
        return value
