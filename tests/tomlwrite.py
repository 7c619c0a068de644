"""Writing a ``CatalogFile`` as TOML text that the loader reads back equal (standard library only).

Prices keep their exact ``Decimal`` value and digits (``0.55`` stays ``0.55``, never a binary float), instants
keep their UTC offset (``Z`` for UTC), and a field left at its default is left out. Values the format
cannot hold (a float, a time with an offset, an offset with seconds) raise ``ValueError`` or
``TypeError`` instead of being written approximately.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import msgspec

from pricing.schema import CatalogFile

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def dumps(catalog_file: CatalogFile) -> str:
    """``catalog_file`` as the text of one TOML catalog file."""
    models = []
    for model in catalog_file.models:
        # The loader fills each model's provider from the file's; the file itself must not repeat it.
        if model.provider not in ("", catalog_file.provider):
            raise ValueError(
                f"model {model.id!r} has provider {model.provider!r}, but the file is for "
                f"{catalog_file.provider!r}: one file holds one provider's models"
            )
        models.append(msgspec.structs.replace(model, provider=""))
    out: list[str] = []
    _table(out, (), msgspec.structs.replace(catalog_file, models=tuple(models)), array=False)
    return "\n".join(out) + "\n"


def _table(out: list[str], path: tuple[str, ...], struct: msgspec.Struct, *, array: bool) -> None:
    if path:
        header = ".".join(_key(part) for part in path)
        out.extend(["", f"[[{header}]]" if array else f"[{header}]"])
    # TOML wants a table's own key/values before its sub-tables, so those are written last.
    subtables: list[tuple[str, msgspec.Struct | tuple[msgspec.Struct, ...]]] = []
    for field in msgspec.structs.fields(struct):
        value = getattr(struct, field.name)
        if field.required:
            if value is None:
                raise ValueError(f"required field {field.encode_name!r} is None")
        elif value == field.default:
            continue
        if isinstance(value, msgspec.Struct) or (
            isinstance(value, tuple) and value and all(isinstance(v, msgspec.Struct) for v in value)
        ):
            subtables.append((field.encode_name, value))
        else:
            out.append(f"{_key(field.encode_name)} = {_value(value)}")
    for key, sub in subtables:
        if isinstance(sub, tuple):
            for item in sub:
                _table(out, (*path, key), item, array=True)
        else:
            _table(out, (*path, key), sub, array=False)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value: object) -> str:
    # bool before int (bool is an int), datetime before date (datetime is a date).
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime):
        return _datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"TOML has no time of day with an offset: {value}")
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError(f"refusing float {value!r}: prices are Decimals, a binary float is not exact")
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _decimal(value: Decimal) -> str:
    # The text written reads back as the same Decimal, digits and exponent (tomllib hands a float's
    # text to parse_float=Decimal; an integer becomes Decimal(int), exponent 0). Decimals with places
    # are written plainly ("0.000000075", not str()'s "7.5E-8"); integers as integers; a positive
    # exponent keeps str()'s "1.2E+3", as "1200" would come back with exponent 0.
    if value.is_nan():
        if value.is_snan():
            raise ValueError("a signalling NaN cannot be written")
        return "nan"
    if value.is_infinite():
        return "-inf" if value.is_signed() else "inf"
    exponent = value.as_tuple().exponent
    return format(value, "f") if isinstance(exponent, int) and exponent < 0 else str(value)


def _datetime(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        # A naive datetime is a TOML local date-time; the loader refuses it, but it can be written.
        return value.isoformat()
    if offset % timedelta(minutes=1):
        raise ValueError(f"TOML offsets are whole minutes; {value} has offset {offset}")
    text = value.replace(tzinfo=None).isoformat()
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _string(value: str) -> str:
    chars = []
    for ch in value:
        if ch in _ESCAPES:
            chars.append(_ESCAPES[ch])
        elif ch < " " or ch == "\x7f":
            chars.append(f"\\u{ord(ch):04X}")
        elif "\ud800" <= ch <= "\udfff":
            raise ValueError(f"lone surrogate {ch!r} in {value!r} cannot be written as UTF-8")
        else:
            chars.append(ch)
    return '"' + "".join(chars) + '"'
