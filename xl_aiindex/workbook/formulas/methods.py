"""The formula of each method: which normalisations and aggregations have a closed formula
(and which are written as the engine's values), and the formula text of each
(:func:`normalise_formula`, :func:`aggregate_formula`; pure text, tested on their own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .refs import count_args, num

#: Normalisation methods with a formula form (:func:`normalise_formula`). A method registered
#: in ``NORMALISERS`` but not here is written as the engine's values (still referenced by the
#: aggregation formulas); ``tests/writing/test_formulas.py`` makes every new method choose.
FORMULA_NORMALISATIONS = frozenset({"minmax", "efficacy", "zscore", "rank", "percentile",
                                    "goalposts"})
#: Aggregation methods with a formula form (:func:`aggregate_formula`); others (``copeland``)
#: are written as values.
FORMULA_AGGREGATIONS = frozenset({"arithmetic", "geometric", "harmonic"})
#: Methods written as the engine's values on purpose (no closed formula).
VALUE_ONLY_NORMALISATIONS: frozenset[str] = frozenset()
VALUE_ONLY_AGGREGATIONS = frozenset({"copeland"})
#: The statistics of an indicator's whole range each normalisation reads (CalcStats columns).
NORMALISATION_STATS: dict[str, tuple[str, ...]] = {
    "minmax": ("min", "max"), "efficacy": ("min", "max"), "zscore": ("mean", "sd"),
    "rank": ("count",), "percentile": ("count",), "goalposts": (),
}
#: A statistic of the range ``{r}`` as a formula.
STAT_FORMULAS = {"count": "COUNT({r})", "min": "MIN({r})", "max": "MAX({r})",
                 "mean": "AVERAGE({r})", "sd": "_xlfn.STDEV.S({r})"}

def normalise_formula(method: str, x: str, rng: str, direction: int, params: Mapping[str, float],
                      missing: str, stats: Mapping[str, str] | None = None) -> str:
    """The formula (without ``=``) normalising the value ``x`` over the range ``rng``.

    ``params``: ``low``/``high`` (minmax), ``a``/``b`` (efficacy), ``goal_low``/``goal_high``/
    ``scale`` (goalposts). ``missing``: what a blank ``x`` gives (``""`` or ``NA()``).
    ``stats``: references of the range's statistics computed elsewhere (``min``, ``max``,
    ``mean``, ``sd``, ``count``); a statistic not given is computed inline (``MIN(R)``).

    >>> normalise_formula("minmax", "X", "R", 1, {"low": 0, "high": 100}, '""')
    'IF(ISNUMBER(X),0+100*(X-MIN(R))/(MAX(R)-MIN(R)),"")'
    >>> normalise_formula("rank", "X", "R", -1, {}, "NA()")
    'IF(ISNUMBER(X),COUNT(R)+1-_xlfn.RANK.AVG(X,R,1),NA())'
    """
    def st(key: str) -> str:
        return stats[key] if stats and key in stats else STAT_FORMULAS[key].format(r=rng)

    mirror: str | None = None   # direction -1: constant - s (the contract's mirror)
    if method == "minmax":
        low, high = float(params["low"]), float(params["high"])
        s = f"{num(low)}+{num(high - low)}*({x}-{st('min')})/({st('max')}-{st('min')})"
        mirror = num(low + high)
    elif method == "efficacy":
        a, b = float(params["a"]), float(params["b"])
        s = f"{num(a)}+{num(b)}*({x}-{st('min')})/({st('max')}-{st('min')})"
        mirror = num(2 * a + b)
    elif method == "zscore":
        s = f"({x}-{st('mean')})/{st('sd')}"
        if direction == -1:
            return f"IF(ISNUMBER({x}),-({s}),{missing})"
    elif method == "rank":
        s = f"_xlfn.RANK.AVG({x},{rng},1)"
        if direction == -1:
            return f"IF(ISNUMBER({x}),{st('count')}+1-{s},{missing})"
    elif method == "percentile":
        s = f"100*(_xlfn.RANK.AVG({x},{rng},1)-1)/({st('count')}-1)"
        mirror = "100"
    elif method == "goalposts":
        lo, hi, scale = float(params["goal_low"]), float(params["goal_high"]), float(params["scale"])
        s = f"{num(scale)}*(MIN(MAX({x},{num(lo)}),{num(hi)})-{num(lo)})/{num(hi - lo)}"
        mirror = num(scale)
    else:
        raise KeyError(method)
    if direction == -1 and mirror is not None:
        s = f"{mirror}-({s})"
    return f"IF(ISNUMBER({x}),{s},{missing})"


def aggregate_formula(method: str, cells: Sequence[str], weights: Sequence[str],
                      reweight: bool) -> str:
    """The formula (without ``=``) aggregating the children's ``cells`` with ``weights``
    (names or references of weights summing to 1).

    >>> aggregate_formula("arithmetic", ["D2", "E2"], ["wa", "wb"], False)
    'wa*D2+wb*E2'
    >>> aggregate_formula("harmonic", ["D2", "E2"], ["wa", "wb"], False)
    '1/(wa/D2+wb/E2)'
    >>> aggregate_formula("arithmetic", ["D2", "E2"], ["wa", "wb"], True)
    'IF(COUNT(D2,E2)=0,"",(wa*N(D2)+wb*N(E2))/(wa*ISNUMBER(D2)+wb*ISNUMBER(E2)))'
    """
    pairs = list(zip(cells, weights, strict=True))
    if not reweight:
        if method == "arithmetic":
            return "+".join(f"{w}*{c}" for c, w in pairs)
        if method == "geometric":
            return "*".join(f"{c}^{w}" for c, w in pairs)
        if method == "harmonic":
            return "1/(" + "+".join(f"{w}/{c}" for c, w in pairs) + ")"
        raise KeyError(method)
    present = "+".join(f"{w}*ISNUMBER({c})" for c, w in pairs)
    if method == "arithmetic":
        body = "(" + "+".join(f"{w}*N({c})" for c, w in pairs) + f")/({present})"
    elif method == "geometric":
        body = ("EXP((" + "+".join(f"{w}*LN(IF(ISNUMBER({c}),{c},1))" for c, w in pairs)
                + f")/({present}))")
    elif method == "harmonic":
        body = (f"({present})/(" + "+".join(f"IF(ISNUMBER({c}),{w}/{c},0)" for c, w in pairs)
                + ")")
    else:
        raise KeyError(method)
    return f'IF({count_args(list(cells))}=0,"",{body})'
