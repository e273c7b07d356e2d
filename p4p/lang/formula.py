"""The formula language of rulesets: a safe, exact evaluator over columns.

A formula is parsed with `ast` and checked node by node; only numbers, names, `+ - * /`,
comparisons, `and or not` and the functions below are allowed, and nothing is ever passed to
`eval`. Number literals are read from their text (0.80 is exactly 4/5). A compiled formula runs
over a whole column of institutions at once (`Vec`, exact rationals); a period-level value is a
column of length 1.

Functions: round2(x) (half up to the fen), min(a, b, …), max(a, b, …), abs(x),
dot(counts, weights) (Σ count × weight over the keys of `counts`), ifelse(cond, a, b).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Union

from .exact import Mask, Vec, maximum, minimum, where

Value = Union[Vec, Mask, dict[str, Vec]]
Env = Mapping[str, Value]
Fn = Callable[[Env], Value]

MAX_LENGTH = 2000  # characters of one formula
MAX_DEPTH = 30  # nesting of operations
MAX_DIGITS = 30  # digits of one number literal
FUNCTIONS = {"round2": (1, 1), "min": (2, 50), "max": (2, 50), "abs": (1, 1), "dot": (2, 2), "ifelse": (3, 3)}
_LITERAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div)


class FormulaError(Exception):
    """A formula that cannot be read or evaluated; the message is Chinese."""


@dataclass(frozen=True)
class Formula:
    text: str
    names: frozenset[str]  # the names it reads (not function names)
    calls: frozenset[str]  # the functions it calls
    run: Fn
    tree: ast.expr  # kept for the ruleset's static checks (which names are numbers, which mappings)

    def __call__(self, env: Env) -> Value:
        return self.run(env)

    def number(self, env: Env) -> Vec:
        v = self.run(env)
        if not isinstance(v, Vec):
            raise FormulaError(f"公式 {self.text} 的结果应为数值")
        return v

    def truth(self, env: Env) -> Mask:
        v = self.run(env)
        if not isinstance(v, Mask):
            raise FormulaError(f"公式 {self.text} 的结果应为条件（比较）")
        return v


def compile_formula(text: str) -> Formula:
    """Parse and check a formula; raise FormulaError (Chinese) saying what is not allowed."""
    text = str(text).strip()
    if not text:
        raise FormulaError("公式为空")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"公式过长（{len(text)} 个字符，最多 {MAX_LENGTH}）")
    wide = next((c for c in text if not c.isascii()), None)
    if wide is not None:  # Python would read `ｓcore` as `score`; a full-width digit is no number
        raise FormulaError(f"公式只能使用半角字符（字母、数字 0–9、运算符），不能有“{wide}”：{_clip(text)}")
    if "#" in text:  # Python would read the rest of the line as a comment: `k#*0.9` is k
        raise FormulaError(f"公式中不能有 #（其后的内容会被当作注释忽略）：{_clip(text)}")
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise FormulaError(f"公式语法错误：{_clip(text)}") from None
    names: set[str] = set()
    calls: set[str] = set()
    _check(tree, text, 0, names, calls)
    return Formula(text, frozenset(names), frozenset(calls), _compile(tree, text), tree)


def _clip(text: str) -> str:
    return text if len(text) <= 80 else text[:80] + "…"


def _check(node: ast.AST, text: str, depth: int, names: set[str], calls: set[str]) -> None:
    if depth > MAX_DEPTH:
        raise FormulaError(f"公式嵌套过深（超过 {MAX_DEPTH} 层）：{_clip(text)}")
    if isinstance(node, ast.Constant):
        _literal(node, text)
        return
    if isinstance(node, ast.Name):
        names.add(node.id)
        return
    children: list[ast.AST]
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITH):
        children = [node.left, node.right]
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        children = [node.operand]
    elif isinstance(node, ast.BoolOp):
        children = list(node.values)
    elif isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
        children = [node.left, *node.comparators]
    elif isinstance(node, ast.Call):
        children = _check_call(node, text, calls)
    else:
        raise FormulaError(f"公式中不允许这种写法（{type(node).__name__}）：{_clip(text)}")
    for child in children:
        _check(child, text, depth + 1, names, calls)


def _check_call(node: ast.Call, text: str, calls: set[str]) -> list[ast.AST]:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        raise FormulaError(
            f"公式中不允许的函数 {ast.unparse(node.func)}（可用：{', '.join(FUNCTIONS)}）：{_clip(text)}"
        )
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError(f"函数 {node.func.id} 只接受按位置写的参数：{_clip(text)}")
    lo, hi = FUNCTIONS[node.func.id]
    if not lo <= len(node.args) <= hi:
        want = str(lo) if lo == hi else f"{lo}–{hi}"
        raise FormulaError(f"函数 {node.func.id} 需要 {want} 个参数：{_clip(text)}")
    calls.add(node.func.id)
    return list(node.args)


def _literal(node: ast.Constant, text: str) -> Fraction:
    src = ast.get_source_segment(text, node) or ""
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)) or not _LITERAL.match(src):
        raise FormulaError(
            f"公式中的数字只能写成 123 或 0.85 这样的形式（不能是 {src or node.value!r}）：{_clip(text)}"
        )
    if len(src.replace(".", "")) > MAX_DIGITS:
        raise FormulaError(f"公式中的数字过长（最多 {MAX_DIGITS} 位）：{_clip(text)}")
    return Fraction(src)


# ---- compiling to closures over columns ----------------------------------------------------


def _compile(node: ast.AST, text: str) -> Fn:
    if isinstance(node, ast.Constant):
        value = Vec.scalar(_literal(node, text))
        return lambda env: value
    if isinstance(node, ast.Name):
        return _name(node.id, text)
    if isinstance(node, ast.BinOp):
        return _binop(node, text)
    if isinstance(node, ast.UnaryOp):
        return _unary(node, text)
    if isinstance(node, ast.BoolOp):
        return _boolop(node, text)
    if isinstance(node, ast.Compare):
        return _compare(node, text)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return _call(node.func.id, [_compile(a, text) for a in node.args], text)


def _name(name: str, text: str) -> Fn:
    def get(env: Env) -> Value:
        try:
            return env[name]
        except KeyError:
            raise FormulaError(f"公式 {_clip(text)} 中的名称 {name} 没有取值") from None

    return get


def _num(v: Value, text: str) -> Vec:
    if not isinstance(v, Vec):
        raise FormulaError(f"公式 {_clip(text)} 中这里需要一个数值")
    return v


def _mask(v: Value, text: str) -> Mask:
    if not isinstance(v, Mask):
        raise FormulaError(f"公式 {_clip(text)} 中这里需要一个条件（比较）")
    return v


def _binop(node: ast.BinOp, text: str) -> Fn:
    a, b = _compile(node.left, text), _compile(node.right, text)
    op = type(node.op)
    if op is ast.Add:
        return lambda env: _num(a(env), text) + _num(b(env), text)
    if op is ast.Sub:
        return lambda env: _num(a(env), text) - _num(b(env), text)
    if op is ast.Mult:
        return lambda env: _num(a(env), text) * _num(b(env), text)
    return lambda env: _num(a(env), text) / _num(b(env), text)


def _unary(node: ast.UnaryOp, text: str) -> Fn:
    a = _compile(node.operand, text)
    if isinstance(node.op, ast.USub):
        return lambda env: -_num(a(env), text)
    if isinstance(node.op, ast.UAdd):
        return lambda env: _num(a(env), text)
    return lambda env: ~_mask(a(env), text)


def _boolop(node: ast.BoolOp, text: str) -> Fn:
    parts = [_compile(v, text) for v in node.values]
    both = isinstance(node.op, ast.And)

    def run(env: Env) -> Value:
        out = _mask(parts[0](env), text)
        for p in parts[1:]:
            out = out & _mask(p(env), text) if both else out | _mask(p(env), text)
        return out

    return run


def _compare(node: ast.Compare, text: str) -> Fn:
    sides = [_compile(x, text) for x in [node.left, *node.comparators]]
    ops = [_CMP[type(op)] for op in node.ops]

    def run(env: Env) -> Value:
        values = [_num(s(env), text) for s in sides]
        out = values[0].cmp(values[1], ops[0])
        for i in range(1, len(ops)):
            out = out & values[i].cmp(values[i + 1], ops[i])
        return out

    return run


def _call(name: str, args: list[Fn], text: str) -> Fn:
    if name == "ifelse":
        c, t, f = args
        return lambda env: where(_mask(c(env), text), _num(t(env), text), _num(f(env), text))
    if name == "dot":
        return lambda env: _dot(args[0](env), args[1](env), text)
    if name == "round2":
        return lambda env: _num(args[0](env), text).round2()
    if name == "abs":
        return lambda env: _num(args[0](env), text).abs()
    pick = minimum if name == "min" else maximum

    def run(env: Env) -> Value:
        out = _num(args[0](env), text)
        for a in args[1:]:
            out = pick(out, _num(a(env), text))
        return out

    return run


def _dot(counts: Value, weights: Value, text: str) -> Vec:
    if not isinstance(counts, dict) or not isinstance(weights, dict):
        raise FormulaError(f"公式 {_clip(text)}：dot 的两个参数都应为按项目列出的取值（如工分、工分值）")
    missing = sorted(set(counts) - set(weights))
    if missing:
        raise FormulaError(f"公式 {_clip(text)}：项目 {', '.join(missing)} 没有对应的取值")
    total: Vec | None = None
    for key in sorted(counts):
        term = counts[key] * weights[key]
        total = term if total is None else total + term
    return total if total is not None else Vec.scalar(0)


# ---- static types ---------------------------------------------------------------------------


def value_type(f: Formula, types: Mapping[str, str]) -> str:
    """What a formula gives — "number", "mapping" or "truth" — given each name's type; raises
    FormulaError (Chinese) where a mapping is used as a number or a condition as an amount."""
    return _type(f.tree, types, f.text)


def _type(node: ast.AST, types: Mapping[str, str], text: str) -> str:
    if isinstance(node, ast.Constant):
        return "number"
    if isinstance(node, ast.Name):
        return types.get(node.id, "number")
    if isinstance(node, ast.Call):
        return _call_type(node, types, text)
    wants: dict[type, tuple[str, str]] = {  # node type → (what its operands must be, what it gives)
        ast.BinOp: ("number", "number"), ast.BoolOp: ("truth", "truth"), ast.Compare: ("number", "truth"),
    }  # fmt: skip
    if isinstance(node, ast.UnaryOp):
        want = "truth" if isinstance(node.op, ast.Not) else "number"
        _want(node.operand, want, types, text)
        return want
    operand, result = wants[type(node)]
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            _want(child, operand, types, text)
    return result


def _call_type(node: ast.Call, types: Mapping[str, str], text: str) -> str:
    name = node.func.id if isinstance(node.func, ast.Name) else ""
    if name == "dot":
        wants = ["mapping", "mapping"]
    elif name == "ifelse":
        wants = ["truth", "number", "number"]
    else:
        wants = ["number"] * len(node.args)
    for arg, want in zip(node.args, wants, strict=True):
        _want(arg, want, types, text)
    return "number"


_TYPE_NAMES = {"number": "数值", "mapping": "按项目列出的取值（只能用在 dot 里）", "truth": "条件（比较）"}


def _want(node: ast.AST, want: str, types: Mapping[str, str], text: str) -> None:
    got = _type(node, types, text)
    if got != want:
        raise FormulaError(
            f"公式 {_clip(text)} 中 {ast.unparse(node)} 是{_TYPE_NAMES[got]}，这里需要{_TYPE_NAMES[want]}"
        )
