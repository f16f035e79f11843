"""A calculator tool: arithmetic and `math` functions, evaluated from the syntax tree (never eval).

Only number literals, the arithmetic operators, parentheses and an allow-list of names are accepted; every
operation that could run away (huge powers, factorials, rounding to absurd precision) is bounded first.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_chat.tools.registry import ToolResult, ToolSpec

Number = int | float

MAX_EXPRESSION = 1000  # characters
MAX_INT_EXPONENT = 10_000
MAX_INT_DIGITS = 4000  # below Python's 4,300-digit int-to-text limit
MAX_FLOAT = 1e300
MAX_FACTORIAL = 1000
MAX_ROUND_DIGITS = 400
_LOG10_2 = math.log10(2)


class CalcError(Exception):
    """An expression the calculator refuses or cannot evaluate (the message is for the model)."""


@dataclass(frozen=True, slots=True)
class _Function:
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number


def _factorial(n: Number) -> int:
    if isinstance(n, float):
        if not n.is_integer():
            raise CalcError(f"factorial needs a whole number, not {n!r}.")
        n = int(n)
    if n < 0:
        raise CalcError("factorial is not defined for negative numbers.")
    if n > MAX_FACTORIAL:
        raise CalcError(f"factorial is limited to n <= {MAX_FACTORIAL} (got {n}).")
    return math.factorial(n)


def _round(x: Number, ndigits: Number | None = None) -> Number:
    if ndigits is None:
        return round(x)
    if not isinstance(ndigits, int):
        raise CalcError("round's second argument (the number of digits) must be a whole number.")
    if abs(ndigits) > MAX_ROUND_DIGITS:
        raise CalcError(
            f"round's number of digits must be between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}."
        )
    return round(x, ndigits)


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


FUNCTIONS: dict[str, _Function] = {
    "sqrt": _Function(math.sqrt, 1, 1),
    "sin": _Function(math.sin, 1, 1),
    "cos": _Function(math.cos, 1, 1),
    "tan": _Function(math.tan, 1, 1),
    "asin": _Function(math.asin, 1, 1),
    "acos": _Function(math.acos, 1, 1),
    "atan": _Function(math.atan, 1, 1),
    "atan2": _Function(math.atan2, 2, 2),
    "log": _Function(_log, 1, 2),
    "log10": _Function(math.log10, 1, 1),
    "log2": _Function(math.log2, 1, 1),
    "exp": _Function(math.exp, 1, 1),
    "floor": _Function(math.floor, 1, 1),
    "ceil": _Function(math.ceil, 1, 1),
    "abs": _Function(abs, 1, 1),
    "round": _Function(_round, 1, 2),
    "min": _Function(lambda *a: min(a), 1, None),
    "max": _Function(lambda *a: max(a), 1, None),
    "hypot": _Function(math.hypot, 1, None),
    "factorial": _Function(_factorial, 1, 1),
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}


def _digits(n: int) -> int:
    """About how many decimal digits an int has (from its bit length: cheap for any size)."""
    return int(n.bit_length() * _LOG10_2) + 1


def _check(value: Any) -> Number:
    """A value the calculator can go on with: a real, finite number of a sane size."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, complex):
            raise CalcError("The result is not a real number (a complex result is not supported).")
        raise CalcError(f"Unexpected value {value!r}.")
    if isinstance(value, int):
        if _digits(value) > MAX_INT_DIGITS:
            raise CalcError(
                f"The result is too large (about {_digits(value)} digits; the limit is {MAX_INT_DIGITS})."
            )
        return value
    if math.isnan(value):
        raise CalcError("The result is not a number (NaN).")
    if math.isinf(value) or abs(value) > MAX_FLOAT:
        raise CalcError("The result is too large (beyond about 1e300).")
    return value


def _power(base: Number, exponent: Number) -> Number:
    """`base ** exponent`, refused when the result would be huge (checked before computing it)."""
    if isinstance(base, int) and isinstance(exponent, int):
        if abs(exponent) > MAX_INT_EXPONENT and abs(base) > 1:
            raise CalcError(f"The exponent {exponent} is too large (the limit is {MAX_INT_EXPONENT}).")
        if exponent > 0 and abs(base) > 1:
            estimate = exponent * math.log10(abs(base))
            if estimate > MAX_INT_DIGITS:
                raise CalcError(
                    f"The result would have about {int(estimate) + 1} digits; the limit is {MAX_INT_DIGITS}."
                )
    elif base != 0 and exponent > 0:
        magnitude = exponent * math.log10(abs(base))  # OverflowError for huge ints: too large anyway
        if magnitude > math.log10(MAX_FLOAT):
            raise CalcError("The result is too large (beyond about 1e300).")
    return _check(base**exponent)


class _Evaluator:
    """Walks the syntax tree of one expression without recursion: each node is checked before its
    children are evaluated (so `__import__(...)` is refused before its argument is looked at)."""

    def run(self, root: ast.AST) -> Number:
        todo: list[tuple[ast.AST, bool]] = [(root, False)]
        values: list[Number] = []
        while todo:
            node, ready = todo.pop()
            children = self._children(node)
            if not ready:
                todo.append((node, True))
                todo.extend((child, False) for child in reversed(children))
                continue
            split = len(values) - len(children)
            args = values[split:]
            del values[split:]
            values.append(self._apply(node, args))
        (result,) = values
        return result

    @staticmethod
    def _children(node: ast.AST) -> list[ast.expr]:
        """The operands a node needs evaluated first; refuses anything not on the allow-list."""
        if isinstance(node, ast.Expression):
            return [node.body]
        if isinstance(node, ast.Constant | ast.Name):
            return []
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):
                raise CalcError("^ is not supported: use ** for powers.")
            if not isinstance(node.op, ast.Pow) and type(node.op) not in _BINARY:
                raise CalcError(f"The operator {type(node.op).__name__} is not supported.")
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.UAdd | ast.USub):
                raise CalcError("Only unary + and - are supported.")
            return [node.operand]
        if isinstance(node, ast.Call):
            _check_call(node)
            return list(node.args)
        raise CalcError(
            f"{_describe(node)} is not allowed; only numbers, + - * / // % **, and math functions."
        )

    @staticmethod
    def _apply(node: ast.AST, args: list[Number]) -> Number:
        """A node's value from its operands' values."""
        if isinstance(node, ast.Expression):
            return args[0]
        if isinstance(node, ast.UnaryOp):
            return args[0] if isinstance(node.op, ast.UAdd) else _check(-args[0])
        if isinstance(node, ast.Constant):
            return _constant(node.value)
        if isinstance(node, ast.Name):
            return _name(node.id)
        if isinstance(node, ast.BinOp):
            left, right = args
            if isinstance(node.op, ast.Pow):
                return _power(left, right)
            return _check(_BINARY[type(node.op)](left, right))
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise CalcError(f"{_describe(node)} is not allowed.")  # refused by _children already
        try:
            return _check(FUNCTIONS[node.func.id].fn(*args))
        except ValueError as exc:
            shown = ", ".join(_format(a) for a in args)
            raise CalcError(f"{node.func.id}({shown}) is undefined ({exc}).") from None


def _constant(value: object) -> Number:
    """A number literal."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalcError(f"Only numbers are allowed, not {type(value).__name__} {value!r}.")
    if isinstance(value, float) and math.isinf(value):
        raise CalcError("A number in the expression is too large (beyond about 1.8e308).")
    return _check(value)


def _name(name: str) -> Number:
    """A constant by name."""
    if name in CONSTANTS:
        return CONSTANTS[name]
    if name in FUNCTIONS:
        raise CalcError(f"{name} is a function: call it, for example {name}(2).")
    raise CalcError(f"Unknown name {name!r}. Known constants: {', '.join(CONSTANTS)}.")


def _check_call(node: ast.Call) -> None:
    """Refuses calls of anything but an allowed function with the right number of plain arguments."""
    if not isinstance(node.func, ast.Name):
        raise CalcError("Only the listed math functions may be called (for example sqrt(2)).")
    name = node.func.id
    function = FUNCTIONS.get(name)
    if function is None:
        raise CalcError(f"Unknown function {name!r}. Available: {', '.join(FUNCTIONS)}.")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise CalcError(f"{name} takes plain positional arguments only.")
    count = len(node.args)
    if count < function.min_args or (function.max_args is not None and count > function.max_args):
        if function.min_args == function.max_args:
            expected = f"{function.min_args}"
        elif function.max_args is None:
            expected = f"{function.min_args} or more"
        else:
            expected = f"{function.min_args} to {function.max_args}"
        raise CalcError(f"{name} takes {expected} argument(s), not {count}.")


def _describe(node: ast.AST) -> str:
    """A construct's name, as a person would say it."""
    names = {
        ast.Attribute: "Attribute access",
        ast.Lambda: "lambda",
        ast.ListComp: "A comprehension",
        ast.SetComp: "A comprehension",
        ast.DictComp: "A comprehension",
        ast.GeneratorExp: "A generator expression",
        ast.Subscript: "Indexing",
        ast.Compare: "A comparison",
        ast.BoolOp: "and/or",
        ast.IfExp: "if/else",
        ast.NamedExpr: "Assignment (:=)",
    }
    return names.get(type(node), type(node).__name__)


def _format(value: Number) -> str:
    """Ints exactly, floats as their shortest round-tripping repr."""
    return str(value) if isinstance(value, int) else repr(value)


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression; CalcError says what is wrong with it."""
    if len(expression) > MAX_EXPRESSION:
        raise CalcError(
            f"The expression is too long ({len(expression)} characters; the limit is {MAX_EXPRESSION})."
        )
    if not expression.strip():
        raise CalcError("The expression is empty.")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        return _Evaluator().run(tree)
    except CalcError:
        raise
    except SyntaxError as exc:
        raise CalcError(f"Not a valid expression ({exc.msg}).") from None
    except ZeroDivisionError:
        raise CalcError("Division by zero.") from None
    except OverflowError:
        raise CalcError("The result is too large (numeric overflow).") from None
    except (RecursionError, MemoryError):
        raise CalcError("The expression is nested too deeply.") from None
    except (TypeError, ValueError) as exc:
        raise CalcError(f"Cannot evaluate: {exc}.") from None


class CalculatorTool:
    """Exact arithmetic for the model, which is bad at it."""

    spec = ToolSpec(
        name="calculator",
        description=(
            "Evaluate an arithmetic expression exactly. Supports numbers (including 1.5e3), + - * / // % ** "
            "and parentheses, the constants pi, e, tau and the functions " + ", ".join(FUNCTIONS) + " "
            "(log(x) is natural; log(x, base) for other bases; trigonometry uses radians). "
            "Use it for any non-trivial arithmetic instead of computing in your head."
        ),
        parameters={
            "type": "object",
            "properties": {
                "expression": {
                    "type": "string",
                    "description": "For example 'sqrt(2) * (3 + 4)**2' or 'factorial(20) / 3'",
                }
            },
            "required": ["expression"],
        },
    )

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        """Evaluate `expression`; the answer reads 'expression = value'."""
        expression = arguments.get("expression")
        if not isinstance(expression, str):
            return ToolResult("Pass the expression as a string in 'expression'.", True)
        try:
            value = evaluate(expression)
        except CalcError as exc:
            return ToolResult(str(exc), True)
        return ToolResult(f"{expression.strip()} = {_format(value)}")
