"""A safe, exact evaluator for the formulas written in rule files.

The text is parsed with `ast` and walked node by node; only numbers, names, + - * /,
comparisons, and a fixed set of functions are allowed. Nothing is ever passed to `eval`.
Numbers are exact `Fraction`s; number literals are read from their text.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Mapping

from ..model.money import round2, to_fraction


class FormulaError(Exception):
    pass


def _dot(counts, weights):
    """Σ count × weight over the keys of `counts` (work points: Σ count × points), in integers
    over the weights' common denominator (Fraction arithmetic item by item is ~10× slower)."""
    ws = {k: to_fraction(weights[k]) for k in counts}
    den = math.lcm(*(w.denominator for w in ws.values())) if ws else 1
    return Fraction(
        sum(int(c) * w.numerator * (den // w.denominator) for c, w in zip(counts.values(), ws.values())), den
    )


FUNCTIONS: dict[str, Callable] = {
    "round2": lambda x: Fraction(round2(x)),
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "dot": _dot,
}
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_CMPS = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    names: frozenset[str]
    run: Callable = None  # the tree compiled to nested closures (same semantics as _eval, faster)

    def __call__(self, env: Mapping[str, object]):
        return self.run(env)


def compile_formula(text: str) -> Formula:
    text = str(text).strip()
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise FormulaError(f"公式语法错误: {text}") from e
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS | {"ifelse": None}:
                raise FormulaError(f"公式中不允许的函数: {ast.unparse(node.func)} ({text})")
            if node.keywords:
                raise FormulaError(f"公式中不允许关键字参数: {text}")
        elif not isinstance(
            node,
            (
                ast.Constant,
                ast.BinOp,
                ast.UnaryOp,
                ast.Compare,
                ast.Load,
                ast.operator,
                ast.unaryop,
                ast.cmpop,
                ast.BoolOp,
                ast.boolop,
            ),
        ):
            raise FormulaError(f"公式中不允许的写法 {type(node).__name__}: {text}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise FormulaError(f"公式中只能出现数字常量: {text}")
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINOPS:
            raise FormulaError(f"公式中不允许的运算符: {text}")
    funcs = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return Formula(text, tree, frozenset(names - funcs), _compile(tree, text))


def _compile(node, text) -> Callable:
    """Turn a checked tree into closures once, so a formula run 20,000 times is not re-walked."""
    if isinstance(node, ast.Constant):
        value = _literal(node, text)
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id

        def get(env):
            try:
                v = env[name]
            except KeyError:
                raise FormulaError(f"公式 {text} 中的名称 {name} 没有取值") from None
            return v if isinstance(v, (dict, bool, Fraction)) else to_fraction(v)

        return get
    if isinstance(node, ast.BinOp):
        a, b = _compile(node.left, text), _compile(node.right, text)
        if isinstance(node.op, ast.Div):

            def div(env):
                d = b(env)
                if d == 0:
                    raise FormulaError(f"公式 {text} 除以零")
                return a(env) / d

            return div
        op = _BINOPS[type(node.op)]
        return lambda env: op(a(env), b(env))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPS:
        a, b, cmp = _compile(node.left, text), _compile(node.comparators[0], text), _CMPS[type(node.ops[0])]
        return lambda env: cmp(a(env), b(env))
    if isinstance(node, (ast.UnaryOp, ast.BoolOp, ast.Compare)):
        return lambda env: _eval(node, env, text)
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_compile(x, text) for x in node.args]
        if name == "ifelse":
            if len(args) != 3:
                raise FormulaError(f"ifelse 需要三个参数: {text}")
            c, t, f = args
            return lambda env: t(env) if c(env) else f(env)
        fn = FUNCTIONS[name]
        return lambda env: fn(*[x(env) for x in args])
    raise FormulaError(f"不允许的写法: {text}")


def _literal(node: ast.Constant, text: str) -> Fraction:
    # the literal's own source text, so 0.80 is exactly 4/5 and never a binary double
    src = ast.get_source_segment(text, node) or repr(node.value)
    return Fraction(src.replace("_", ""))


def _eval(node, env, text):
    if isinstance(node, ast.Constant):
        return _literal(node, text)
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise FormulaError(f"公式 {text} 中的名称 {node.id} 没有取值")
        v = env[node.id]
        return v if isinstance(v, (dict, bool)) else to_fraction(v)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env, text), _eval(node.right, env, text)
        if isinstance(node.op, ast.Div) and b == 0:
            raise FormulaError(f"公式 {text} 除以零")
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env, text)
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Not):
            return not v
        raise FormulaError(f"不允许的运算: {text}")
    if isinstance(node, ast.BoolOp):
        vals = (_eval(v, env, text) for v in node.values)
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, env, text)
            if type(op) not in _CMPS or not _CMPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        name = node.func.id
        if name == "ifelse":  # lazy: only the chosen branch is evaluated
            if len(node.args) != 3:
                raise FormulaError(f"ifelse 需要三个参数: {text}")
            cond = _eval(node.args[0], env, text)
            return _eval(node.args[1] if cond else node.args[2], env, text)
        return FUNCTIONS[name](*[_eval(a, env, text) for a in node.args])
    raise FormulaError(f"不允许的写法: {text}")
