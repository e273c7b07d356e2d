"""Columns of exact rationals, so a rule runs over all its institutions at once.

A `Vec` is `num / den` element by element, with Python integers in numpy object arrays (no
int64 overflow, no float ever). `den` is a plain int when the whole column shares it (money in
fen: 100, counts: 1), else an array. A value for the whole period is a column of length 1 and
broadcasts. Division by zero does not raise at once: the rows concerned are marked `bad`, so
`ifelse(target == 0, 1, visits / target)` works row by row like the formula says, and a bad row
that reaches a result is reported with its institution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

import numpy as np

from ..model.money import half_up

Den = int | np.ndarray
Bad = np.ndarray | None


def _obj(values: Iterable[int]) -> np.ndarray:
    arr = np.empty(len(values) if isinstance(values, Sequence) else 0, dtype=object)
    if isinstance(values, Sequence):
        arr[:] = list(values)
        return arr
    return np.array(list(values), dtype=object)


def ints(values: np.ndarray | Sequence[int]) -> np.ndarray:
    """Python ints in an object array (int64 input is widened exactly)."""
    if isinstance(values, np.ndarray):
        return values.astype(object) if values.dtype != object else values
    return _obj(values)


def _or(a: Bad, b: Bad) -> Bad:
    if a is None:
        return b
    if b is None:
        return a
    return a | b


class Vec:
    __slots__ = ("bad", "den", "num")

    def __init__(self, num: np.ndarray, den: Den = 1, bad: Bad = None):
        self.num, self.den, self.bad = num, den, bad

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def of(cls, values: np.ndarray | Sequence[int], den: int = 1) -> Vec:
        """Exact integers over a common denominator (money in fen: den=100)."""
        return cls(ints(values), den)

    @classmethod
    def scalar(cls, value: Fraction | int) -> Vec:
        f = Fraction(value)
        return cls(_obj([f.numerator]), f.denominator)

    @classmethod
    def of_fractions(cls, values: Sequence[Fraction]) -> Vec:
        return cls(_obj([f.numerator for f in values]), _obj([f.denominator for f in values]))

    def __len__(self) -> int:
        return len(self.num)

    def take(self, idx: np.ndarray) -> Vec:
        """The rows `idx` (a length-1 column stays as it is: it stands for every row)."""
        if len(self.num) == 1:
            return self
        den = self.den if isinstance(self.den, int) else self.den[idx]
        return Vec(self.num[idx], den, None if self.bad is None else self.bad[idx])

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, o: Vec) -> Vec:
        return self._addsub(o, 1)

    def __sub__(self, o: Vec) -> Vec:
        return self._addsub(o, -1)

    def _addsub(self, o: Vec, sign: int) -> Vec:
        bad = _or(self.bad, o.bad)
        if isinstance(self.den, int) and isinstance(o.den, int):
            if self.den == o.den:
                return Vec(self.num + sign * o.num, self.den, bad)
            lcm = math.lcm(self.den, o.den)
            return Vec(self.num * (lcm // self.den) + sign * o.num * (lcm // o.den), lcm, bad)
        return _reduced(self.num * o.den + sign * o.num * self.den, self.den * o.den, bad)

    def __neg__(self) -> Vec:
        return Vec(-self.num, self.den, self.bad)

    def __mul__(self, o: Vec) -> Vec:
        return _reduced(self.num * o.num, self.den * o.den, _or(self.bad, o.bad))

    def __truediv__(self, o: Vec) -> Vec:
        zero = _truth(o.num == 0)
        bad = _or(self.bad, o.bad)
        num, onum = self.num, o.num
        if zero.any():
            bad = _or(bad, zero if len(zero) > 1 or len(num) == 1 else np.repeat(zero, len(num)))
            onum = np.where(zero, 1, onum)
        sign = np.where(_truth(onum < 0), -1, 1)
        return _reduced(num * o.den * sign, self.den * onum * sign, bad)

    def abs(self) -> Vec:
        return Vec(np.abs(self.num), self.den, self.bad)

    # -- comparison and choice -----------------------------------------------------------------
    def cmp(self, o: Vec, op: str) -> Mask:
        a, b = self.num * o.den, o.num * self.den
        result = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
        return Mask(_truth(result), _or(self.bad, o.bad))

    def round2(self) -> Vec:
        """Round half up (ties away from zero) to the fen: a column over den 100."""
        return Vec(np.asarray(half_up(self.num * 100, self.den), dtype=object), 100, self.bad)

    # -- reading out -----------------------------------------------------------------------------
    def fen(self) -> np.ndarray | None:
        """The column as integer fen (object array), or None if some row is not a whole fen."""
        scaled = self.num * 100
        if isinstance(self.den, int):
            if self.den == 1:
                return scaled
            if (scaled % self.den != 0).any():
                return None
            return scaled // self.den
        if (_truth(scaled % self.den != 0)).any():
            return None
        return scaled // self.den

    def fraction(self, i: int = 0) -> Fraction:
        den = self.den if isinstance(self.den, int) else self.den[i]
        return Fraction(int(self.num[i]), int(den))

    def fractions(self) -> list[Fraction]:
        return [self.fraction(i) for i in range(len(self))]

    def bad_rows(self) -> np.ndarray:
        if self.bad is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.bad)

    def sum(self) -> Fraction:
        if isinstance(self.den, int):
            return Fraction(int(self.num.sum()) if len(self.num) else 0, self.den)
        return sum((self.fraction(i) for i in range(len(self))), Fraction(0))


class Mask:
    """A column of truth values (a comparison), with the rows that divided by zero."""

    __slots__ = ("bad", "v")

    def __init__(self, v: np.ndarray, bad: Bad = None):
        self.v, self.bad = v, bad

    def __and__(self, o: Mask) -> Mask:
        return Mask(self.v & o.v, _or(self.bad, o.bad))

    def __or__(self, o: Mask) -> Mask:
        return Mask(self.v | o.v, _or(self.bad, o.bad))

    def __invert__(self) -> Mask:
        return Mask(~self.v, self.bad)

    def take(self, idx: np.ndarray) -> Mask:
        if len(self.v) == 1:
            return self
        return Mask(self.v[idx], None if self.bad is None else self.bad[idx])


def _truth(a: np.ndarray | bool) -> np.ndarray:
    arr = np.asarray(a)
    return arr.astype(bool) if arr.dtype != bool else arr


def _reduced(num: np.ndarray, den: Den, bad: Bad) -> Vec:
    """Divide out common factors so denominators stay small over long formulas."""
    if isinstance(den, int):
        if den == 1:
            return Vec(num, 1, bad)
        common = math.gcd(den, *num.tolist()) if len(num) < 64 else _gcd_all(num, den)
        return Vec(num // common, den // common, bad) if common > 1 else Vec(num, den, bad)
    g: np.ndarray = np.gcd(num, den)
    g = np.where(_truth(g == 0), 1, g)
    num, dens = num // g, den // g
    first = dens[0] if len(dens) else 1
    if len(dens) and bool(np.all(dens == first)):
        return Vec(num, int(first), bad)
    return Vec(num, dens, bad)


def _gcd_all(num: np.ndarray, den: int) -> int:
    g = den
    for chunk in np.array_split(num, max(1, len(num) // 4096)):
        g = math.gcd(g, int(np.gcd.reduce(chunk)) if len(chunk) else 0)
        if g == 1:
            break
    return g


def where(mask: Mask, a: Vec, b: Vec) -> Vec:
    """Row by row: `a` where the mask holds, else `b` (only the chosen side's bad rows count)."""
    v = mask.v
    num = np.where(v, a.num, b.num).astype(object)
    if isinstance(a.den, int) and isinstance(b.den, int) and a.den == b.den:
        den: Den = a.den
    else:
        den = np.where(v, a.den, b.den).astype(object)
    bad = None
    if a.bad is not None or b.bad is not None:
        no = np.zeros(1, dtype=bool)
        bad = np.where(v, no if a.bad is None else a.bad, no if b.bad is None else b.bad)
    return Vec(num, den, _or(bad, mask.bad))


def minimum(a: Vec, b: Vec) -> Vec:
    return where(a.cmp(b, "<="), a, b)


def maximum(a: Vec, b: Vec) -> Vec:
    return where(a.cmp(b, ">="), a, b)


def fraction_text(f: Fraction) -> str:
    """An exact value as decimal text: exact when it terminates, else 28 significant digits."""
    num, den = f.numerator, f.denominator
    if den == 1:
        return str(num)
    places = _places(den)
    if places is not None:
        digits = str(abs(num) * (10**places // den)).rjust(places + 1, "0")
        text = (digits[:-places] + "." + digits[-places:]).rstrip("0").rstrip(".")
        return ("-" if num < 0 else "") + text
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 28
        return format(Decimal(num) / Decimal(den), "f")


_PLACES: dict[int, int | None] = {}


def _places(den: int) -> int | None:
    """Decimal places of 1/den when it terminates (den = 2^a 5^b), else None; cached."""
    hit = _PLACES.get(den, -1)
    if hit != -1:
        return hit
    d, twos, fives = den, 0, 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    out = max(twos, fives) if d == 1 else None
    if len(_PLACES) < 4096:
        _PLACES[den] = out
    return out


def texts(v: Vec, *, ratios: bool = False) -> list[str]:
    """Every row as exact text: a decimal when it terminates; otherwise 28 significant digits
    (the ledger's form) or, with `ratios`, the exact fraction `n/d` (the trace's form)."""
    nums = v.num
    den = v.den
    if not isinstance(den, int):
        common = _common_decimal_den(den)
        if common is not None:  # e.g. points × s/100 over dens 1, 10, 100: all over 100
            nums, den = nums * (common // den), common
    if isinstance(den, int):
        if den == 1:
            whole = nums.tolist()
            column = _decimal_column(whole, 1, 0) if len(whole) >= COLUMN_FORMAT_MIN else None
            return column if column is not None else [str(x) for x in whole]
        places = _places(den)
        if places is not None:
            scale = 10**places // den
            values = nums.tolist()
            distinct = set(values)
            if len(distinct) * 4 < len(values):  # scores, coefficients: format each value once
                shown = {x: _decimal(x * scale, places) for x in distinct}
                return [shown[x] for x in values]
            column = _decimal_column(values, scale, places) if len(values) >= COLUMN_FORMAT_MIN else None
            return column if column is not None else [_decimal(x * scale, places) for x in values]
        dens = [den] * len(nums)
    else:
        dens = den.tolist()
    cache: dict[tuple[int, int], str] = {}
    out = []
    for n, d in zip(nums.tolist(), dens, strict=True):
        key = (n, d)
        text = cache.get(key)
        if text is None:
            text = cache[key] = _exact(n, d, ratios)
        out.append(text)
    return out


def _common_decimal_den(dens: np.ndarray) -> int | None:
    """The least common denominator of a column's denominators when it is a power of ten's
    divisor (every value then terminates as a decimal), else None."""
    distinct = set(dens.tolist())
    if len(distinct) > 64:
        return None
    common = math.lcm(*distinct) if distinct else 1
    return common if _places(common) is not None else None


def _exact(n: int, d: int, ratios: bool) -> str:
    g = math.gcd(n, d)
    n, d = n // g, d // g
    if d == 1:
        return str(n)
    places = _places(d)
    if places is not None:
        return _decimal(n * (10**places // d), places)
    return f"{n}/{d}" if ratios else fraction_text(Fraction(n, d))


def _decimal(scaled: int, places: int) -> str:
    """`scaled / 10^places` as the shortest exact decimal text."""
    whole, frac = divmod(-scaled if scaled < 0 else scaled, _TEN[places] if places < len(_TEN) else 10**places)
    sign = "-" if scaled < 0 else ""
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{places}d}".rstrip("0")


_TEN = [10**k for k in range(40)]

COLUMN_FORMAT_MIN = 2048  # rows from which a column is formatted by Arrow rather than value by value
_INT64_SAFE = 2**62


def _decimal_column(values: list[int], scale: int, places: int) -> list[str] | None:
    """`_decimal(x * scale, places)` for a whole column at once, in Arrow's string kernels:
    the same text, a few times faster. `values` are a Vec's numerators: Python ints, never
    float or bool (numpy would convert those silently). None when a value does not fit int64
    (then the caller formats value by value with Python integers)."""
    if places > 17 or not values:
        return None
    try:
        arr = np.array(values, dtype=np.int64)
    except OverflowError:
        return None
    if max(-int(arr.min()), int(arr.max())) >= _INT64_SAFE // scale:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    scaled = arr * scale
    unit = _TEN[places]
    whole, frac = np.divmod(np.abs(scaled), unit)
    whole_text = pc.cast(pa.array(whole), pa.string())
    # frac + 10^places written out and its leading 1 dropped: the fraction with its leading zeros
    frac_text = pc.utf8_rtrim(pc.utf8_slice_codeunits(pc.cast(pa.array(frac + unit), pa.string()), 1), characters="0")
    body = pc.if_else(pa.array(frac == 0), whole_text, pc.binary_join_element_wise(whole_text, frac_text, "."))
    signed = pc.if_else(pa.array(scaled < 0), pc.binary_join_element_wise("-", body, ""), body)
    out: list[str] = signed.to_pylist()
    return out
