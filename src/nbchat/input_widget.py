"""Input widgets of the chat settings panel. Each validates what a client sends back."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar, Literal


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

    def to_dict(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The widget as sent in the `settings` event; `values` (by id) replace `initial`."""
        data = {k: v for k, v in vars(self).items() if v is not None}
        data["type"] = self.type
        if values is not None and self.id in values:
            data["initial"] = values[self.id]
        return data

    def flat(self) -> list[InputWidget]:
        """The inputs this widget holds values for: itself (a Tab: its inputs)."""
        return [self]

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


class Checkbox(Switch):
    """A check box (a boolean, like Switch)."""

    type = "checkbox"


class RadioGroup(Select):
    """A choice of one item shown as radio buttons (options as in Select)."""

    type = "radio"


def _iso_date(value: Any) -> str | None:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


class DatePicker(InputWidget):
    """A date (`mode="single"`, an ISO "YYYY-MM-DD" string) or a range of two dates
    (`mode="range"`, [start, end]), within `min_date`/`max_date` when given."""

    type = "datepicker"

    def __init__(self, id: str, label: str, initial: Any = None,
                 mode: Literal["single", "range"] = "single", min_date: Any = None,
                 max_date: Any = None, format: str | None = None,
                 placeholder: str | None = None, **kw: Any) -> None:
        if mode not in ("single", "range"):
            raise ValueError(f"DatePicker {id!r}: mode must be 'single' or 'range'")
        self.mode = mode
        self.min_date = _iso_date(min_date) if min_date is not None else None
        self.max_date = _iso_date(max_date) if max_date is not None else None
        self.format = format
        self.placeholder = placeholder
        super().__init__(id, label, None, **kw)
        self.initial = self.validate(initial)

    def _date(self, value: Any) -> str:
        iso = _iso_date(value)
        if iso is None:
            raise self._fail(value, "a date as YYYY-MM-DD")
        if (self.min_date and iso < self.min_date) or (self.max_date and iso > self.max_date):
            raise self._fail(value, f"a date from {self.min_date or 'any'} "
                                    f"to {self.max_date or 'any'}")
        return iso

    def validate(self, value: Any) -> Any:
        """Accept a date, [start, end] in range mode, or nothing."""
        if value is None:
            return None
        if self.mode == "single":
            return self._date(value)
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise self._fail(value, "[start, end] dates")
        start, end = self._date(value[0]), self._date(value[1])
        if end < start:
            raise self._fail(value, "a start date before the end date")
        return [start, end]


class Tab(InputWidget):
    """A tab of the settings panel holding other inputs; their values are top-level
    settings (by their own ids), as in Chainlit."""

    type = "tab"

    def __init__(self, id: str, label: str, inputs: list[InputWidget] | None = None) -> None:
        super().__init__(id, label)
        self.inputs = list(inputs or [])
        if any(isinstance(i, Tab) for i in self.inputs):
            raise ValueError(f"Tab {id!r}: tabs cannot hold tabs")

    def to_dict(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The tab with its inputs."""
        return {"id": self.id, "label": self.label, "type": self.type,
                "inputs": [i.to_dict(values) for i in self.inputs]}

    def flat(self) -> list[InputWidget]:
        """The tab's inputs."""
        return list(self.inputs)

    def validate(self, value: Any) -> Any:
        """A tab holds no value of its own."""
        raise self._fail(value, "no value (a tab holds other inputs)")
