"""Static analysis of a student's source: the famous PyTorch mistakes, named before anything runs.

The code is parsed with the standard library's `ast` and never executed or imported. Each rule is a small
function over an index of the tree (every node's parent, the nodes by kind, the import aliases); it yields
findings at the node that shows the mistake. Rules prefer silence to a guess: a finding is advice the
student reads while typing, never part of a score, and a rule that fires on a reference solution is wrong.

Hostile input is bounded three ways: the submission size cap (the caller's), CPython's own parser limits
(nesting too deep is a SyntaxError or a RecursionError, reported as a parse error), and a deadline checked
while indexing and between rules (past it the analysis stops and says it is incomplete). The tree is
walked iteratively, so no rule recurses with the input's depth.
"""

import ast
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from huashen.coach.catalogue import RULES

# Half a second is far above a normal solution (a 300-line file takes a few milliseconds) and bounds what a
# 64 KiB pathological file can cost a web process.
DEFAULT_DEADLINE_SECONDS = 0.5


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int  # 1-based
    column: int  # 0-based, in characters (code points) of the line
    end_line: int
    end_column: int


@dataclass(frozen=True)
class ParseError:
    line: int
    column: int
    message: str


@dataclass
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    parse_error: ParseError | None = None
    complete: bool = True


class _Deadline(Exception):
    pass


# --- the index of one tree ----------------------------------------------------------------------------
LOOPS = (ast.For, ast.AsyncFor, ast.While)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
NO_GRAD_CONTEXTS = {
    "torch.no_grad",
    "torch.inference_mode",
    "torch.autograd.no_grad",
    "torch.autograd.grad_mode.no_grad",
}


class Index:
    """Every node's parent, the nodes by kind, and what each imported name stands for."""

    def __init__(self, tree: ast.Module, lines: list[str], deadline: float) -> None:
        self.tree = tree
        self.lines = lines
        self.source = "\n".join(lines)
        self.parent: dict[ast.AST, ast.AST] = {}
        self.by_kind: dict[type, list[ast.AST]] = {}
        self.aliases: dict[str, str] = {}
        self.deadline = deadline
        self.steps = 0
        self.grad_off_functions: dict[int, bool] = {}
        stack: list[ast.AST] = [tree]
        count = 0
        while stack:
            node = stack.pop()
            count += 1
            if count % 512 == 0 and time.monotonic() > deadline:
                raise _Deadline
            self.by_kind.setdefault(type(node), []).append(node)
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
                stack.append(child)
        for kind in self.by_kind.values():  # source order, for rules that compare positions
            kind.sort(key=lambda node: (getattr(node, "lineno", 0), getattr(node, "col_offset", 0)))
        for node in self.nodes(ast.Import):
            assert isinstance(node, ast.Import)
            for alias in node.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.aliases[top] = top
        for node in self.nodes(ast.ImportFrom):
            assert isinstance(node, ast.ImportFrom)
            if node.module and not node.level:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

        self.call_nodes = [node for node in self.nodes(ast.Call) if isinstance(node, ast.Call)]

    def tick(self) -> None:
        """Rules call this in their loops: past the deadline the analysis stops where it is."""
        self.steps += 1
        if self.steps % 256 == 0 and time.monotonic() > self.deadline:
            raise _Deadline

    def nodes(self, kind: type) -> list[ast.AST]:
        self.tick()
        return self.by_kind.get(kind, [])

    def calls(self) -> list[ast.Call]:
        self.tick()
        return self.call_nodes

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while node in self.parent:
            self.tick()
            node = self.parent[node]
            yield node

    def scope(self, node: ast.AST) -> ast.AST:
        """The function, lambda, class or module `node` belongs to."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, SCOPES):
                return ancestor
        return self.tree

    def loop(self, node: ast.AST) -> ast.AST | None:
        """The innermost loop around `node` within its own function (None outside any loop)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, LOOPS):
                return ancestor
            if isinstance(ancestor, SCOPES):
                return None
        return None

    def inside(self, node: ast.AST, container: ast.AST) -> bool:
        return any(ancestor is container for ancestor in self.ancestors(node))

    def qualified(self, node: ast.AST) -> str | None:
        """`nn.functional.softmax` → `torch.nn.functional.softmax` when `nn` was imported from torch."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.aliases:
            head = self.aliases[head]
        return f"{head}.{rest}" if rest else head

    def in_no_grad(self, node: ast.AST) -> bool:
        """Whether `node` runs with gradients off: inside `with torch.no_grad()` / `inference_mode()` /
        `set_grad_enabled(False)`, in a function decorated with one, or after `torch.set_grad_enabled(False)`
        in its function."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.With | ast.AsyncWith) and any(
                self.turns_grad_off(item.context_expr) for item in ancestor.items
            ):
                return True
            if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef):
                if any(self.turns_grad_off(decorator) for decorator in ancestor.decorator_list):
                    return True
                if id(ancestor) not in self.grad_off_functions:
                    self.grad_off_functions[id(ancestor)] = any(
                        self.qualified(call.func) == "torch.set_grad_enabled"
                        and self.inside(call, ancestor)
                        and _is_false(call.args[0] if call.args else None)
                        for call in self.calls()
                    )
                if self.grad_off_functions[id(ancestor)]:
                    return True
        return False

    def turns_grad_off(self, expr: ast.AST) -> bool:
        target = expr.func if isinstance(expr, ast.Call) else expr
        name = self.qualified(target) or ""
        if name in NO_GRAD_CONTEXTS or name.endswith((".no_grad", ".inference_mode")):
            return True
        if name.endswith("set_grad_enabled") and isinstance(expr, ast.Call):
            return _is_false(expr.args[0] if expr.args else None)
        return False

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _words(name: str) -> set[str]:
    return {word for word in re.split(r"[_.\d]+", name.lower()) if word}


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((keyword for keyword in call.keywords if keyword.arg == name), None)


def _assigned_names(index: Index, scope: ast.AST) -> dict[str, list[ast.AST]]:
    """Every value assigned to each plain name or attribute chain in `scope` (not nested functions)."""
    values: dict[str, list[ast.AST]] = {}
    for node in index.nodes(ast.Assign):
        assert isinstance(node, ast.Assign)
        if index.scope(node) is not scope:
            continue
        for target in node.targets:
            name = dotted(target)
            if name:
                values.setdefault(name, []).append(node.value)
    for node in index.nodes(ast.AnnAssign):
        assert isinstance(node, ast.AnnAssign)
        name = dotted(node.target)
        if name and node.value is not None and index.scope(node) is scope:
            values.setdefault(name, []).append(node.value)
    return values


def _all_assignments(index: Index) -> dict[str, list[ast.AST]]:
    """Every value assigned to each name or attribute chain anywhere in the module."""
    values: dict[str, list[ast.AST]] = {}
    for node in index.nodes(ast.Assign):
        assert isinstance(node, ast.Assign)
        for target in node.targets:
            name = dotted(target)
            if name:
                values.setdefault(name, []).append(node.value)
    return values


# --- rules ----------------------------------------------------------------------------------------------
RuleCheck = Callable[[Index], Iterator[tuple[str, ast.AST]]]
CHECKS: list[RuleCheck] = []


def rule(check: RuleCheck) -> RuleCheck:
    CHECKS.append(check)
    return check


def _optimizer_like(index: Index, receiver: ast.AST, assigned: dict[str, list[ast.AST]]) -> bool:
    name = dotted(receiver)
    if name is None:
        return False
    words = _words(last_name(receiver))
    if any("sched" in word for word in words):
        return False
    for value in assigned.get(name, []):
        if isinstance(value, ast.Call):
            qualified = index.qualified(value.func) or ""
            if qualified.startswith("torch.optim.") and "lr_scheduler" not in qualified:
                return True
    return bool(words & {"optimizer", "optimiser", "opt", "optim"})


def _clears_grad(index: Index, loop: ast.AST) -> bool:
    for call in index.calls():
        if not index.inside(call, loop):
            continue
        name = method(call)
        if name == "zero_grad":
            return True
        if name in {"zero_", "detach_", "fill_", "mul_"} and last_name(call.func.value) == "grad":  # type: ignore[attr-defined]
            return True
    for node in index.nodes(ast.Assign):
        assert isinstance(node, ast.Assign)
        if index.inside(node, loop) and any(last_name(target) == "grad" for target in node.targets):
            return True
    return False


@rule
def zero_grad_missing(index: Index) -> Iterator[tuple[str, ast.AST]]:
    assigned = _all_assignments(index)
    for call in index.calls():
        if method(call) != "step" or call.args or call.keywords:
            continue  # step(closure): the closure clears
        assert isinstance(call.func, ast.Attribute)
        if not _optimizer_like(index, call.func.value, assigned):
            continue
        loop = index.loop(call)
        if loop is None:
            continue
        backward = any(method(other) == "backward" and index.inside(other, loop) for other in index.calls())
        if backward and not _clears_grad(index, loop):
            yield "zero-grad-missing", call


SOFTMAX = {
    "torch.softmax",
    "torch.log_softmax",
    "torch.nn.functional.softmax",
    "torch.nn.functional.log_softmax",
    "torch.special.softmax",
    "torch.special.log_softmax",
}
SOFTMAX_MODULES = {"torch.nn.Softmax", "torch.nn.LogSoftmax"}


def _softmax_modules(index: Index) -> set[str]:
    names = set()
    for name, values in _all_assignments(index).items():
        if values and all(
            isinstance(value, ast.Call) and index.qualified(value.func) in SOFTMAX_MODULES for value in values
        ):
            names.add(name)
    return names


def _is_softmax(index: Index, expr: ast.AST, modules: set[str]) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    if method(expr) in {"softmax", "log_softmax"}:  # logits.softmax(dim=1), F.softmax(...)
        return True
    qualified = index.qualified(expr.func)
    if qualified in SOFTMAX:
        return True
    if dotted(expr.func) in modules:
        return True
    return isinstance(expr.func, ast.Call) and index.qualified(expr.func.func) in SOFTMAX_MODULES


@rule
def softmax_before_cross_entropy(index: Index) -> Iterator[tuple[str, ast.AST]]:
    assigned = _all_assignments(index)
    criteria = {
        name
        for name, values in assigned.items()
        if any(
            isinstance(value, ast.Call) and index.qualified(value.func) == "torch.nn.CrossEntropyLoss"
            for value in values
        )
    }
    modules = _softmax_modules(index)
    for call in index.calls():
        is_loss = index.qualified(call.func) == "torch.nn.functional.cross_entropy"
        is_loss = is_loss or dotted(call.func) in criteria
        is_loss = is_loss or (
            isinstance(call.func, ast.Call) and index.qualified(call.func.func) == "torch.nn.CrossEntropyLoss"
        )
        if not is_loss:
            continue
        scores = call.args[0] if call.args else getattr(_keyword(call, "input"), "value", None)
        if scores is None:
            continue
        if _is_softmax(index, scores, modules):
            yield "softmax-before-cross-entropy", scores
        elif isinstance(scores, ast.Name):
            values = _assigned_names(index, index.scope(call)).get(scores.id, [])
            if values and all(_is_softmax(index, value, modules) for value in values):
                yield "softmax-before-cross-entropy", scores
    # A model whose forward returns probabilities feeds any CrossEntropyLoss that trains it. log_softmax is
    # right when the file trains with NLLLoss.
    uses_nll = "nll_loss" in index.source or "NLLLoss" in index.source
    for node in index.nodes(ast.FunctionDef):
        assert isinstance(node, ast.FunctionDef)
        if node.name != "forward" or not isinstance(index.parent.get(node), ast.ClassDef):
            continue
        for ret in index.nodes(ast.Return):
            assert isinstance(ret, ast.Return)
            if ret.value is None or index.scope(ret) is not node:
                continue
            value = ret.value
            if not _is_softmax(index, value, modules):
                continue
            assert isinstance(value, ast.Call)
            log = "log_softmax" in (index.qualified(value.func) or method(value) or "") or "LogSoftmax" in (
                index.text(value.func)
            )
            if not (log and uses_nll):
                yield "softmax-before-cross-entropy", value


EVAL_WORDS = {"val", "valid", "validation", "validate", "eval", "evaluate", "evaluation", "test", "dev"}
PREDICT_FUNCTIONS = ("evaluate", "validate", "validation", "predict", "infer", "inference", "eval")
MODEL_WORDS = {"model", "net", "network", "classifier", "backbone"}


def _is_model_call(call: ast.Call) -> bool:
    name = last_name(call.func).lower()
    return name in MODEL_WORDS or name.endswith(("_model", "_net"))


def _loader_name(expr: ast.AST) -> str:
    while isinstance(expr, ast.Call) and expr.args:  # enumerate(val_loader), tqdm(val_loader)
        expr = expr.args[0]
    return last_name(expr)


def _switches_to_eval(index: Index, scope: ast.AST) -> bool:
    for call in index.calls():
        if not index.inside(call, scope):
            continue
        if method(call) == "eval" and not call.args:
            return True
        if method(call) == "train" and (
            _is_false(call.args[0] if call.args else None)
            or _is_false(getattr(_keyword(call, "mode"), "value", None))
        ):
            return True
    return False


def _callers(index: Index, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Call]:
    return [call for call in index.calls() if last_name(call.func) == function.name and call is not function]


def _needs_gradients(index: Index, scope: ast.AST) -> bool:
    """Grad-CAM and friends take gradients while "predicting": no_grad would be wrong there."""
    for call in index.calls():
        if index.inside(call, scope) and (
            method(call)
            in {"backward", "requires_grad_", "register_full_backward_hook", "register_backward_hook"}
            or (index.qualified(call.func) or "").startswith(("torch.autograd.grad", "pytorch_grad_cam"))
        ):
            return True
    return "grad_cam" in index.source or "GradCAM" in index.source


@rule
def validation_mode(index: Index) -> Iterator[tuple[str, ast.AST]]:
    regions: list[tuple[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef | None]] = []
    for loop in index.nodes(ast.For):
        assert isinstance(loop, ast.For)
        if _words(_loader_name(loop.iter)) & EVAL_WORDS:
            function = next(
                (a for a in index.ancestors(loop) if isinstance(a, ast.FunctionDef | ast.AsyncFunctionDef)),
                None,
            )
            regions.append((loop, function))
    for node in index.nodes(ast.FunctionDef):
        assert isinstance(node, ast.FunctionDef)
        name = node.name.lower()
        # Lightning's *_step methods get eval() and no_grad from the Trainer.
        if name.startswith(PREDICT_FUNCTIONS) and not name.endswith("step"):
            regions.append((node, node))
    seen: set[tuple[str, int]] = set()
    # A file that trains (calls model.train()) or loads a saved model (which may have been saved in train
    # mode) must switch to eval itself; a function handed a model has nothing to switch.
    trains_in_file = any(
        (method(call) == "train" and not call.args and not call.keywords)
        or index.qualified(call.func) in {"torch.jit.load", "torch.load", "torch.export.load"}
        for call in index.calls()
    )
    for region, function in regions:
        model_calls = [call for call in index.calls() if _is_model_call(call) and index.inside(call, region)]
        if not model_calls:
            continue
        first = model_calls[0]
        callers = _callers(index, function) if function is not None else []
        scope = function or index.tree
        # Forgetting eval() matters where the code itself puts the model in training mode; a predict()
        # handed a model in eval mode has nothing to switch.
        trains = trains_in_file or any(
            method(call) == "backward" and index.inside(call, scope) for call in index.calls()
        )
        outer = [
            scope,
            *(a for a in index.ancestors(scope) if isinstance(a, ast.FunctionDef | ast.AsyncFunctionDef)),
        ]
        if (
            trains
            and not any(_switches_to_eval(index, s) for s in outer)
            and not any(_switches_to_eval(index, index.scope(caller)) for caller in callers)
        ):
            key = ("validation-without-eval", id(function or region))
            if key not in seen:
                seen.add(key)
                yield "validation-without-eval", first
        if _needs_gradients(index, scope):
            continue
        ungraded = [call for call in model_calls if not index.in_no_grad(call)]
        if ungraded and not (callers and all(index.in_no_grad(caller) for caller in callers)):
            key = ("validation-with-grad", id(function or region))
            if key not in seen:
                seen.add(key)
                yield "validation-with-grad", ungraded[0]


NOT_TENSORS = {
    "self", "cls", "args", "kwargs", "config", "cfg", "ctx", "request", "response", "event", "record", "payload",
    "message", "msg", "body", "form", "item", "obj", "result", "batch", "sample", "bunch", "digits", "iris",
    "wine", "cancer", "diabetes", "images", "json", "yaml", "np", "numpy", "pd", "df", "frame",
}  # fmt: skip


@rule
def dot_data(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for node in index.nodes(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if node.attr != "data" or not isinstance(node.value, ast.Name | ast.Attribute):
            continue
        qualified = index.qualified(node) or ""
        if dotted(node.value) and dotted(node.value).split(".")[0] in index.aliases:  # type: ignore[union-attr]
            continue  # torch.utils.data, a module's attribute
        receiver = last_name(node.value).lower()
        if receiver in NOT_TENSORS or any(word in receiver for word in ("data", "set", "loader", "digits")):
            continue
        if qualified.startswith("torch.utils"):
            continue
        yield "dot-data", node


def _loss_names_backwarded(index: Index, loop: ast.AST) -> set[str]:
    names = set()
    for call in index.calls():
        if method(call) == "backward" and index.inside(call, loop):
            receiver = call.func.value  # type: ignore[attr-defined]
            if isinstance(receiver, ast.Name):
                names.add(receiver.id)
            elif (
                isinstance(receiver, ast.Call)
                and method(receiver) == "scale"
                and receiver.args
                and isinstance(receiver.args[0], ast.Name)
            ):  # scaler.scale(loss).backward()
                names.add(receiver.args[0].id)
    return names


def _refers_to(expr: ast.AST, names: set[str]) -> bool:
    """Whether `expr` is one of `names` as a tensor: bare, or in arithmetic (not under .item(), float() …)."""
    if isinstance(expr, ast.Name):
        return expr.id in names
    if isinstance(expr, ast.BinOp):
        return _refers_to(expr.left, names) or _refers_to(expr.right, names)
    if isinstance(expr, ast.UnaryOp):
        return _refers_to(expr.operand, names)
    return False


@rule
def loss_tensor_kept(index: Index) -> Iterator[tuple[str, ast.AST]]:
    backwarded_in_function: dict[int, set[str]] = {}
    for loop in index.nodes(ast.For) + index.nodes(ast.While):
        names = _loss_names_backwarded(index, loop)
        if not names:
            continue
        for node in index.nodes(ast.AugAssign):
            assert isinstance(node, ast.AugAssign)
            in_loop = index.loop(node) is loop or (
                index.inside(node, loop) and index.scope(node) is index.scope(loop)
            )
            if in_loop and isinstance(node.op, ast.Add) and _refers_to(node.value, names):
                target = dotted(node.target)
                backwarded = backwarded_in_function.setdefault(
                    id(index.scope(loop)), _loss_names_backwarded(index, index.scope(loop))
                )
                if target not in backwarded:  # a sum that is itself backwarded is gradient accumulation
                    yield "loss-tensor-kept", node.value
        for call in index.calls():
            if (
                method(call) == "append"
                and index.inside(call, loop)
                and len(call.args) == 1
                and _refers_to(call.args[0], names)
            ):
                yield "loss-tensor-kept", call.args[0]


CUDA = re.compile(r"cuda(:\d+)?")


def _guarded_by_availability(index: Index, node: ast.AST) -> bool:
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, ast.If | ast.IfExp | ast.While) and re.search(
            r"is_available|device_count|is_built", index.text(ancestor.test)
        ):
            return True
        if isinstance(ancestor, ast.Compare | ast.Dict | ast.Subscript):
            return True  # device.type == "cuda", a table of device names
        if isinstance(ancestor, ast.Call) and re.search(
            r"autocast|GradScaler|device_type", index.text(ancestor.func)
        ):
            return True  # autocast("cuda") names a device type, not a device
    return False


@rule
def hard_coded_cuda(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for call in index.calls():
        if (
            method(call) == "cuda"
            and not (index.qualified(call.func) or "").startswith("torch.cuda")
            and not _guarded_by_availability(index, call)
        ):
            yield "hard-coded-cuda", call
    for node in index.nodes(ast.Constant):
        assert isinstance(node, ast.Constant)
        if not (isinstance(node.value, str) and CUDA.fullmatch(node.value)):
            continue
        parent = index.parent.get(node)
        places = (
            (
                isinstance(parent, ast.Call)
                and (method(parent) == "to" or index.qualified(parent.func) == "torch.device")
            )
            or (isinstance(parent, ast.keyword) and parent.arg in {"device", "map_location"})
            or isinstance(parent, ast.Assign)
        )
        if places and not _guarded_by_availability(index, node):
            yield "hard-coded-cuda", node


@rule
def torch_load_weights_only(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for call in index.calls():
        if (
            index.qualified(call.func) == "torch.load"
            and _keyword(call, "weights_only") is None
            and not any(keyword.arg is None for keyword in call.keywords)  # **options may carry it
        ):
            yield "torch-load-weights-only", call


TENSOR_FACTORIES = {
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange",
    "linspace", "stack", "cat", "zeros_like", "ones_like", "rand_like", "randn_like", "full_like", "eye", "randperm",
}  # fmt: skip
TENSOR_METHODS = {"clone", "detach", "float", "double", "long", "int", "half", "cpu", "cuda", "contiguous"}


def _is_tensor_expr(index: Index, expr: ast.AST) -> bool:
    if isinstance(expr, ast.Call):
        qualified = index.qualified(expr.func) or ""
        if (
            qualified.startswith("torch.")
            and qualified.split(".")[-1] in TENSOR_FACTORIES
            and qualified.count(".") == 1
        ):
            return True
        return (
            method(expr) in TENSOR_METHODS
            and isinstance(expr.func, ast.Attribute)
            and _is_tensor_expr(index, expr.func.value)
        )
    return isinstance(expr, ast.Attribute) and expr.attr in {"grad", "weight", "bias"}


@rule
def tensor_from_tensor(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for call in index.calls():
        if index.qualified(call.func) != "torch.tensor" or not call.args:
            continue
        value = call.args[0]
        if _is_tensor_expr(index, value):
            yield "tensor-from-tensor", value
        elif isinstance(value, ast.Name):
            values = _assigned_names(index, index.scope(call)).get(value.id, [])
            if values and all(_is_tensor_expr(index, assigned) for assigned in values):
                yield "tensor-from-tensor", value


GRAD_TYPOS = {"require_grad", "require_grads", "requires_grads", "requiresgrad", "requiresGrad", "requires_gradient", "required_grad", "requries_grad", "requires_gard"}  # fmt: skip


@rule
def requires_grad_typo(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for node in index.nodes(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if node.attr in GRAD_TYPOS:
            yield "requires-grad-typo", node
        elif node.attr == "requires_grad_" and isinstance(index.parent.get(node), ast.Assign):
            yield "requires-grad-typo", node  # x.requires_grad_ = True sets nothing
    for node in index.nodes(ast.keyword):
        assert isinstance(node, ast.keyword)
        if node.arg in GRAD_TYPOS:
            yield "requires-grad-typo", node


TRANSPOSING = {"transpose", "permute", "t", "swapaxes", "swapdims", "movedim", "moveaxis"}


def _is_transposed(expr: ast.AST) -> bool:
    if isinstance(expr, ast.Call) and method(expr) in TRANSPOSING:
        return True
    return isinstance(expr, ast.Attribute) and expr.attr in {"T", "mT", "H", "mH"}


@rule
def view_after_transpose(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for call in index.calls():
        if method(call) != "view" or not call.args:
            continue
        assert isinstance(call.func, ast.Attribute)
        receiver = call.func.value
        if _is_transposed(receiver):
            yield "view-after-transpose", call
        elif isinstance(receiver, ast.Name):
            values = _assigned_names(index, index.scope(call)).get(receiver.id, [])
            if values and all(_is_transposed(value) for value in values):
                yield "view-after-transpose", call


EPOCH_SCHEDULERS = {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau"}
BATCH_SCHEDULERS = {"OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts", "LambdaLR", "LinearLR", "SequentialLR", "ChainedScheduler", "PolynomialLR", "ConstantLR", "MultiplicativeLR"}  # fmt: skip


@rule
def scheduler_step_per_batch(index: Index) -> Iterator[tuple[str, ast.AST]]:
    assigned = _all_assignments(index)
    constructed = set()
    for call in index.calls():
        qualified = index.qualified(call.func) or ""
        if "lr_scheduler" in qualified or qualified.split(".")[-1] in EPOCH_SCHEDULERS | BATCH_SCHEDULERS:
            constructed.add(qualified.split(".")[-1])
    for call in index.calls():
        if method(call) != "step":
            continue
        assert isinstance(call.func, ast.Attribute)
        receiver = call.func.value
        name = dotted(receiver)
        kinds = {
            (index.qualified(value.func) or "").split(".")[-1]
            for value in assigned.get(name or "", [])
            if isinstance(value, ast.Call)
        }
        if (kinds & EPOCH_SCHEDULERS and not kinds & BATCH_SCHEDULERS) or (
            not kinds and "sched" in last_name(receiver).lower() and not constructed & BATCH_SCHEDULERS
        ):
            pass
        else:
            continue
        loop = index.loop(call)
        if loop is None:
            continue
        batch_loop = any(
            index.inside(other, loop)
            and (method(other) == "backward" or (method(other) == "step" and other is not call))
            for other in index.calls()
        )
        if batch_loop and index.loop(loop) is not None:
            yield "scheduler-step-per-batch", call


def _block(index: Index, node: ast.AST) -> list[ast.stmt]:
    """The statement list (a body or an else branch) that holds `node`'s statement."""
    child = node
    for ancestor in index.ancestors(node):
        for name in ("body", "orelse", "finalbody", "handlers"):
            statements = getattr(ancestor, name, None)
            if isinstance(statements, list) and any(statement is child for statement in statements):
                return statements
        child = ancestor
    return []


def _calls_in(index: Index, statements: list[ast.stmt]) -> list[ast.Call]:
    return [call for call in index.calls() if any(index.inside(call, statement) for statement in statements)]


@rule
def clip_before_unscale(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for call in index.calls():
        name = index.qualified(call.func) or method(call) or ""
        if not name.endswith(("clip_grad_norm_", "clip_grad_value_")):
            continue
        # Only where the same block scales the loss: `if scaler is None:` branches clip unscaled gradients.
        block = _calls_in(index, _block(index, call))
        if not any(
            method(other) == "scale" and "scaler" in (dotted(other.func) or "").lower() for other in block
        ):
            continue
        unscaled_before = any(
            method(other) == "unscale_" and (other.lineno, other.col_offset) < (call.lineno, call.col_offset)
            for other in block
        )
        if not unscaled_before:
            yield "clip-before-unscale", call


def _ignores_worker_id(index: Index, function: ast.FunctionDef | ast.Lambda) -> bool:
    params = function.args.posonlyargs + function.args.args
    if not params:
        return False
    worker_id = params[0].arg
    for node in index.nodes(ast.Name):
        assert isinstance(node, ast.Name)
        if node.id == worker_id and index.inside(node, function):
            return False
    for call in index.calls():
        if index.inside(call, function) and last_name(call.func) in {"get_worker_info", "initial_seed"}:
            return False
    return True


@rule
def worker_seed_ignores_id(index: Index) -> Iterator[tuple[str, ast.AST]]:
    functions = {
        node.name: node for node in index.nodes(ast.FunctionDef) if isinstance(node, ast.FunctionDef)
    }
    for call in index.calls():
        keyword = _keyword(call, "worker_init_fn")
        if keyword is None:
            continue
        value = keyword.value
        if (isinstance(value, ast.Lambda) and _ignores_worker_id(index, value)) or (
            isinstance(value, ast.Name)
            and value.id in functions
            and _ignores_worker_id(index, functions[value.id])
        ):
            yield "worker-seed-ignores-id", value


def _leaf_names(index: Index, scope: ast.AST) -> set[str]:
    names = set()
    for name, values in _assigned_names(index, scope).items():
        for value in values:
            if not isinstance(value, ast.Call):
                continue
            qualified = index.qualified(value.func) or ""
            if (
                qualified.startswith("torch.")
                and qualified.count(".") == 1
                and _is_true(getattr(_keyword(value, "requires_grad"), "value", None))
            ) or (
                method(value) == "requires_grad_"
                and isinstance(value.func, ast.Attribute)
                and _is_tensor_expr(index, value.func.value)
            ):
                names.add(name)
    return names


@rule
def in_place_on_leaf(index: Index) -> Iterator[tuple[str, ast.AST]]:
    scopes = {id(index.scope(node)): index.scope(node) for node in index.nodes(ast.Assign)}
    for scope in scopes.values():
        leaves = _leaf_names(index, scope)
        if not leaves:
            continue
        for node in index.nodes(ast.AugAssign):
            assert isinstance(node, ast.AugAssign)
            if index.scope(node) is scope and dotted(node.target) in leaves and not index.in_no_grad(node):
                yield "in-place-on-leaf", node
        for call in index.calls():
            name = method(call)
            if (
                index.scope(call) is scope
                and name
                and name.endswith("_")
                and not name.startswith("_")
                and name not in {"requires_grad_", "retain_grad_", "share_memory_"}
                and (dotted(call.func.value) or "") in leaves  # type: ignore[attr-defined]
                and not index.in_no_grad(call)
            ):
                yield "in-place-on-leaf", call


DEPRECATED = {
    "torch.cuda.amp.GradScaler", "torch.cuda.amp.autocast", "torch.cuda.amp.grad_scaler.GradScaler",
    "torch.cpu.amp.autocast", "torch.range", "torch.chain_matmul", "torch.qr", "torch.cholesky", "torch.symeig",
    "torch.eig", "torch.solve", "torch.lstsq", "torch.matrix_rank", "torch.nn.utils.weight_norm",
    "torch.backends.cuda.sdp_kernel",
}  # fmt: skip


@rule
def deprecated_api(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for call in index.calls():
        qualified = index.qualified(call.func) or ""
        if qualified in DEPRECATED:
            yield "deprecated-api", call.func
        elif qualified.startswith("torchvision.models.") and _is_true(
            getattr(_keyword(call, "pretrained"), "value", None)
        ):
            yield "deprecated-api", call


def _scaled_backward(call: ast.Call) -> bool:
    """`scaler.scale(loss).backward()`"""
    if method(call) != "backward":
        return False
    receiver = call.func.value  # type: ignore[attr-defined]
    return (
        isinstance(receiver, ast.Call)
        and method(receiver) == "scale"
        and "scaler" in (dotted(receiver.func) or "").lower()
    )


@rule
def step_past_scaler(index: Index) -> Iterator[tuple[str, ast.AST]]:
    assigned = _all_assignments(index)
    for call in index.calls():
        if method(call) != "step" or call.args:
            continue
        assert isinstance(call.func, ast.Attribute)
        if "scaler" in last_name(call.func.value).lower():
            continue
        if not _optimizer_like(index, call.func.value, assigned):
            continue
        block = _calls_in(index, _block(index, call))
        if any(_scaled_backward(other) for other in block):
            yield "step-past-scaler", call


def _methods_of(index: Index, name: str) -> Iterator[ast.FunctionDef]:
    for node in index.nodes(ast.FunctionDef):
        assert isinstance(node, ast.FunctionDef)
        if node.name == name and isinstance(index.parent.get(node), ast.ClassDef):
            yield node


@rule
def lightning_training_step(index: Index) -> Iterator[tuple[str, ast.AST]]:
    manual = "automatic_optimization" in index.source
    for function in _methods_of(index, "training_step"):
        for call in index.calls():
            if manual or index.scope(call) is not function:
                continue
            name = method(call)
            receiver = last_name(call.func.value).lower() if isinstance(call.func, ast.Attribute) else ""
            if name in {"backward", "zero_grad"} or (
                name == "step" and not call.args and "sched" not in receiver
            ):
                yield "lightning-manual-step", call
        for node in index.nodes(ast.Return):
            assert isinstance(node, ast.Return)
            if (
                index.scope(node) is function
                and isinstance(node.value, ast.Call)
                and method(node.value) == "item"
            ):
                yield "training-step-returns-float", node.value


def _guarded_as_plateau(index: Index, call: ast.Call, name: str) -> bool:
    """Inside the body of `if isinstance(<name>, ReduceLROnPlateau):`."""
    for ancestor in index.ancestors(call):
        if not isinstance(ancestor, ast.If):
            continue
        if not any(index.inside(call, statement) for statement in ancestor.body):
            continue
        test = ancestor.test
        if (
            isinstance(test, ast.Call)
            and last_name(test.func) == "isinstance"
            and len(test.args) == 2
            and dotted(test.args[0]) == name
            and last_name(test.args[1]) == "ReduceLROnPlateau"
        ):
            return True
    return False


@rule
def plateau_step_without_metric(index: Index) -> Iterator[tuple[str, ast.AST]]:
    assigned = _all_assignments(index)
    for call in index.calls():
        if method(call) != "step" or call.args or call.keywords:
            continue
        assert isinstance(call.func, ast.Attribute)
        name = dotted(call.func.value)
        if name is None:
            continue
        kinds = {
            (index.qualified(value.func) or "").split(".")[-1]
            for value in assigned.get(name, [])
            if isinstance(value, ast.Call)
        }
        if (
            kinds == {"ReduceLROnPlateau"}
            or _guarded_as_plateau(index, call, name)
            or _swallows_type_error(index, call)
        ):
            yield "plateau-step-without-metric", call


def _swallows_type_error(index: Index, call: ast.Call) -> bool:
    """`try: scheduler.step() except TypeError: ...`: the error ReduceLROnPlateau raises, silenced."""
    if "sched" not in last_name(call.func.value).lower():  # type: ignore[attr-defined]
        return False
    for ancestor in index.ancestors(call):
        if isinstance(ancestor, ast.Try) and any(
            index.inside(call, statement) for statement in ancestor.body
        ):
            for handler in ancestor.handlers:
                if handler.type is not None and "TypeError" in index.text(handler.type):
                    return True
    return False


@rule
def metric_to_epoch_scheduler(index: Index) -> Iterator[tuple[str, ast.AST]]:
    constructed = set()
    for call in index.calls():
        qualified = index.qualified(call.func) or ""
        if "lr_scheduler" in qualified:
            constructed.add(qualified.split(".")[-1])
    if not constructed - {"ReduceLROnPlateau"}:
        return
    for call in index.calls():
        if method(call) != "step" or len(call.args) != 1:
            continue
        assert isinstance(call.func, ast.Attribute)
        if "sched" not in last_name(call.func.value).lower():
            continue
        if any(isinstance(ancestor, ast.If | ast.IfExp | ast.Try) for ancestor in _until_scope(index, call)):
            continue  # chosen by type or by a flag
        yield "metric-to-epoch-scheduler", call


def _until_scope(index: Index, node: ast.AST) -> Iterator[ast.AST]:
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, SCOPES):
            return
        yield ancestor


def _module_classes(index: Index) -> Iterator[ast.ClassDef]:
    for node in index.nodes(ast.ClassDef):
        assert isinstance(node, ast.ClassDef)
        if any((index.qualified(base) or "").endswith("Module") for base in node.bases):
            yield node


def _is_layer(index: Index, expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and (index.qualified(expr.func) or "").startswith("torch.nn.")


@rule
def module_structure(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for cls in _module_classes(index):
        init = next(
            (node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == "__init__"), None
        )
        if init is None:
            continue
        if not any(method(call) == "__init__" and index.scope(call) is init for call in index.calls()):
            yield "super-init-missing", init
        for node in index.nodes(ast.Assign):
            assert isinstance(node, ast.Assign)
            if index.scope(node) is not init:
                continue
            if not any(isinstance(t, ast.Attribute) and dotted(t.value) == "self" for t in node.targets):
                continue
            value = node.value
            elements: list[ast.AST] = []
            if isinstance(value, ast.List | ast.Tuple):
                elements = list(value.elts)
            elif isinstance(value, ast.ListComp):
                elements = [value.elt]
            if any(_is_layer(index, element) for element in elements):
                yield "layers-in-plain-list", value


def _is_minus_one(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and node.operand.value == 1
    )


@rule
def flatten_drops_batch(index: Index) -> Iterator[tuple[str, ast.AST]]:
    for forward in _methods_of(index, "forward"):
        for call in index.calls():
            if not index.inside(call, forward) or call.keywords:
                continue
            if (
                method(call) in {"view", "reshape"} and len(call.args) == 1 and _is_minus_one(call.args[0])
            ) or (index.qualified(call.func) == "torch.flatten" and len(call.args) == 1):
                yield "flatten-drops-batch", call


def _mode_calls(
    index: Index, region: ast.AST, functions: dict[str, ast.FunctionDef], depth: int = 0
) -> set[str]:
    """Which of eval / train the code in `region` calls, directly or through a function of this file."""
    modes = set()
    for call in index.calls():
        if not index.inside(call, region):
            continue
        if method(call) == "eval" and not call.args:
            modes.add("eval")
        elif method(call) == "train":
            modes.add("eval" if _is_false(call.args[0] if call.args else None) else "train")
        elif depth < 2 and isinstance(call.func, ast.Name) and call.func.id in functions:
            target = functions[call.func.id]
            if not index.inside(call, target):
                modes |= _mode_calls(index, target, functions, depth + 1)
    return modes


def _functions(index: Index) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in index.nodes(ast.FunctionDef) if isinstance(node, ast.FunctionDef)}


@rule
def train_mode_not_restored(index: Index) -> Iterator[tuple[str, ast.AST]]:
    functions = _functions(index)
    for loop in index.nodes(ast.For):
        assert isinstance(loop, ast.For)
        trains_inside = any(
            method(call) == "backward" and index.inside(call, loop) and index.loop(call) is not loop
            for call in index.calls()
        )
        if not trains_inside:
            continue  # an epoch loop holds a batch loop that trains
        modes = _mode_calls(index, loop, functions)
        if "eval" in modes and "train" not in modes:
            function = index.scope(loop)
            if function is not index.tree and "train" in _mode_calls(index, function, functions):
                yield "train-mode-not-restored", loop.target


EXPORTS = {"torch.jit.trace", "torch.onnx.export", "torch.export.export", "torch.onnx.dynamo_export"}


@rule
def export_in_train_mode(index: Index) -> Iterator[tuple[str, ast.AST]]:
    functions = _functions(index)
    for call in index.calls():
        if index.qualified(call.func) not in EXPORTS or not call.args:
            continue
        scope = index.scope(call)
        if not isinstance(scope, ast.FunctionDef) or "eval" in _mode_calls(index, scope, functions):
            continue
        callers = [other for other in index.calls() if last_name(other.func) == scope.name]
        if any("eval" in _mode_calls(index, index.scope(caller), functions) for caller in callers):
            continue
        yield "export-in-train-mode", call


# --- the entry point ------------------------------------------------------------------------------------
def _character_column(lines: list[str], line: int, byte_offset: int) -> int:
    """ast counts columns in UTF-8 bytes; editors count characters."""
    if not 1 <= line <= len(lines):
        return 0
    return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _finding(rule_id: str, node: ast.AST, lines: list[str]) -> Finding:
    line = getattr(node, "lineno", 1)
    end_line = getattr(node, "end_lineno", None) or line
    end_offset = getattr(node, "end_col_offset", None)
    return Finding(
        rule=rule_id,
        line=line,
        column=_character_column(lines, line, getattr(node, "col_offset", 0)),
        end_line=end_line,
        end_column=_character_column(lines, end_line, end_offset if end_offset is not None else 0),
    )


def code_analyze(code: str, *, deadline_seconds: float | None = None) -> Analysis:
    """The coach's findings for `code` (already within the submission size cap), or its parse error.

    Never raises for what a student can type: a syntax error, nesting too deep for the parser or a run past
    the deadline are part of the answer.
    """
    if deadline_seconds is None:
        deadline_seconds = DEFAULT_DEADLINE_SECONDS  # read now, so a test can lift it for a loaded machine
    deadline = time.monotonic() + deadline_seconds
    lines = code.splitlines()
    try:
        tree = ast.parse(code, type_comments=False)
    except SyntaxError as error:
        line = error.lineno or 1
        column = max(0, (error.offset or 1) - 1)
        return Analysis(parse_error=ParseError(line, column, error.msg or "invalid syntax"))
    except (RecursionError, MemoryError, ValueError):
        return Analysis(parse_error=ParseError(1, 0, "too deeply nested to analyze"))
    analysis = Analysis()
    found: set[Finding] = set()
    try:
        index = Index(tree, lines, deadline)
        for check in CHECKS:
            if time.monotonic() > deadline:
                raise _Deadline
            for rule_id, node in check(index):
                assert rule_id in RULES
                finding = _finding(rule_id, node, lines)
                if finding not in found:
                    found.add(finding)
                    analysis.findings.append(finding)
    except (_Deadline, RecursionError):
        analysis.complete = False
    analysis.findings.sort(key=lambda finding: (finding.line, finding.column, finding.rule))
    return analysis
