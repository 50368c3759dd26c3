"""The wire between a trial's driver and the agent that runs the student's code: frames and values.

The driver (`exercises.kit.driver`, the trial's `driver(ctx)`) and the agent (`exercises.kit.agent`,
the student's process) share one socketpair. Everything on it is a *frame*:

    8 bytes   two big-endian u32: the header's length, then the body's length
    header    UTF-8 JSON object (at most 4 MiB): the operation or the reply, values as trees (below)
    body      empty, or a safetensors file (at most 256 MiB) holding the tensors the header names

Values travel as JSON trees. Plain JSON stands for itself (None, bools, ints, finite floats, strings,
lists, dicts with string keys); everything else is a tagged object:

    {"$float": "nan" | "inf" | "-inf"}            a non-finite float
    {"$tuple": [...]}                              a tuple (torch.Size too, with "size": true)
    {"$dict": [[key, value], ...]}                 a dict whose keys are not all strings
    {"$tensor": name, "facts": {...}}              a tensor: data in the body under `name`; facts as the
                                                   sender saw them (device, requires_grad, grad_fn, type)
    {"$ndarray": name}                             a numpy array (data in the body, as a tensor)
    {"$dtype": "float32"} / {"$device": "cpu"}     a torch.dtype / torch.device
    {"$object": {"type": ..., "repr": ...}}        anything else: only its type name and repr travel

Nothing is ever unpickled or `torch.load`ed. The receiver of the agent's frames (the driver) treats
every value as hostile: the body is parsed by safetensors (offsets and sizes checked), only the dtypes
in `DTYPES` are accepted, every tensor is capped in elements and bytes, trees in depth and items,
strings in length, and any violation makes the whole frame `Malformed` — for the driver, no answer.
"""

from __future__ import annotations

import math
import socket
import struct
import sys
from json import dumps as _dumps  # bound now: the student's code may patch json later in its process
from json import loads as _loads
from typing import Any

PREFIX = struct.Struct(">II")
MAX_HEADER_BYTES = 4 << 20
MAX_BODY_BYTES = 256 << 20
MAX_DEPTH = 32
MAX_ITEMS = 100_000  # nodes in one tree
MAX_TENSORS = 1024
MAX_STRING_CHARS = 1 << 16
MAX_REPR_CHARS = 200
# The only dtypes that cross the boundary (safetensors' names for them on the right).
DTYPES = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "int16": "I16",
    "int32": "I32",
    "int64": "I64",
    "float16": "F16",
    "bfloat16": "BF16",
    "float32": "F32",
    "float64": "F64",
}
DEVICE_TYPES = ("cpu", "cuda", "mps", "meta", "xpu")


class Malformed(ValueError):
    """A frame or value that breaks the wire rules; from the agent, it counts as no answer."""


class Closed(ConnectionError):
    """The other side closed the socket (or died) before a whole frame arrived."""


# ---------------------------------------------------------------------------------------------------
# Frames


def send_frame(sock: socket.socket, header: dict[str, Any], body: bytes = b"") -> None:
    data = _dumps(header, ensure_ascii=False, allow_nan=False).encode()
    if len(data) > MAX_HEADER_BYTES or len(body) > MAX_BODY_BYTES:
        raise Malformed(f"frame too large: header {len(data)} bytes, body {len(body)} bytes")
    sock.sendall(PREFIX.pack(len(data), len(body)) + data)
    if body:
        sock.sendall(body)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if count == 0:
            raise Closed("the other side closed the connection")
        got += count
    return bytes(buffer)


def receive_frame(sock: socket.socket) -> tuple[dict[str, Any], bytes]:
    """The next frame's header (a dict) and body; raises Closed or Malformed."""
    header_size, body_size = PREFIX.unpack(_receive_exactly(sock, PREFIX.size))
    if header_size > MAX_HEADER_BYTES or body_size > MAX_BODY_BYTES:
        raise Malformed(f"frame too large: header {header_size} bytes, body {body_size} bytes")
    raw = _receive_exactly(sock, header_size)
    body = _receive_exactly(sock, body_size) if body_size else b""
    try:
        header = _loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise Malformed(f"the header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise Malformed("the header is not a JSON object")
    return header, body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


# ---------------------------------------------------------------------------------------------------
# Encoding (either side)


def _type_name(value: object) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module == "builtins" else f"{module}.{name}"


def _safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        return f"<{_type_name(value)} object>"
    if type(text) is not str:
        return f"<{_type_name(value)} object>"
    return text if len(text) <= MAX_REPR_CHARS else text[: MAX_REPR_CHARS - 1] + "…"


def opaque(value: object) -> dict[str, Any]:
    return {"$object": {"type": _type_name(value), "repr": _safe_repr(value)}}


class Encoder:
    """Turns values into a tree plus the tensors for the body. `facts(tensor)` adds what the sender
    knows of a tensor beyond its data (the agent: device, grad, the simulated-CUDA placement)."""

    def __init__(self, facts: Any = None) -> None:
        self.tensors: dict[str, Any] = {}
        self._facts = facts
        self._nodes = 0

    def body(self) -> bytes:
        if not self.tensors:
            return b""
        from safetensors.torch import save

        return save(self.tensors)

    def encode(self, value: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if depth > MAX_DEPTH or self._nodes > MAX_ITEMS:
            return opaque(value)
        if value is None or value is True or value is False:
            return value
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            number = int.__int__(value)
            return number if number.bit_length() <= 64 else opaque(value)
        if isinstance(value, float):
            real = float.__float__(value)
            if math.isnan(real):
                return {"$float": "nan"}
            if math.isinf(real):
                return {"$float": "inf" if real > 0 else "-inf"}
            return real
        if isinstance(value, str):
            return str.__getitem__(value, slice(0, MAX_STRING_CHARS))
        torch = sys.modules.get("torch")
        numpy = sys.modules.get("numpy")
        if torch is not None:
            if isinstance(value, torch.Size):
                return {"$tuple": [self.encode(int(size), depth + 1) for size in value], "size": True}
            if isinstance(value, torch.Tensor):
                return self._tensor(value, torch)
            if isinstance(value, torch.dtype):
                name = str(value).removeprefix("torch.")
                return {"$dtype": name} if name in DTYPES else opaque(value)
            if isinstance(value, torch.device):
                return {"$device": str(value)}
        if numpy is not None:
            if isinstance(value, numpy.ndarray):
                return self._ndarray(value, torch)
            if isinstance(value, numpy.generic) and not isinstance(value, numpy.object_):
                try:
                    return self.encode(value.item(), depth + 1)
                except Exception:
                    return opaque(value)
        if isinstance(value, list | tuple):
            items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
            encoded = [self.encode(item, depth + 1) for item in items]
            return encoded if isinstance(value, list) else {"$tuple": encoded}
        if isinstance(value, dict):
            pairs = list(dict.items(value))
            if all(type(key) is str for key in dict.keys(value)):
                return {
                    key if not key.startswith("$") else f"${key}": self.encode(item, depth + 1)
                    for key, item in pairs
                }
            return {
                "$dict": [[self.encode(key, depth + 1), self.encode(item, depth + 1)] for key, item in pairs]
            }
        return opaque(value)

    def _name(self) -> str:
        return f"t{len(self.tensors)}"

    def _tensor(self, value: Any, torch: Any) -> Any:
        try:
            facts = {
                "type": _type_name(value),
                "device": str(value.device),
                "requires_grad": bool(value.requires_grad),
                "grad_fn": None if value.grad_fn is None else type(value.grad_fn).__name__,
                "is_leaf": bool(value.is_leaf),
            }
            if self._facts is not None:
                facts.update(self._facts(value))
            dtype = str(value.dtype).removeprefix("torch.")
            if dtype not in DTYPES or value.layout != torch.strided or len(self.tensors) >= MAX_TENSORS:
                return {**opaque(value), "facts": facts}
            data = torch.Tensor.detach(value)
            if data.device.type != "cpu":
                data = data.to("cpu")
            data = data.resolve_conj().resolve_neg().contiguous().clone()
            name = self._name()
            self.tensors[name] = data
            return {"$tensor": name, "facts": facts}
        except Exception:
            return opaque(value)

    def _ndarray(self, value: Any, torch: Any) -> Any:
        if torch is None or value.dtype.name not in DTYPES or len(self.tensors) >= MAX_TENSORS:
            return opaque(value)
        try:
            name = self._name()
            self.tensors[name] = torch.from_numpy(value.copy())  # a copy: contiguous, writable
            return {"$ndarray": name}
        except Exception:
            return opaque(value)


def encode(value: Any, facts: Any = None) -> tuple[Any, bytes]:
    """(tree, body) for one value."""
    encoder = Encoder(facts)
    tree = encoder.encode(value)
    return tree, encoder.body()


# ---------------------------------------------------------------------------------------------------
# Decoding (the driver decodes the agent's replies: hostile; the agent decodes the driver's arguments)


class Opaque:
    """A value the agent could only describe: its type name and repr (both strings it chose)."""

    def __init__(self, type_name: str, text: str, facts: dict[str, Any] | None = None) -> None:
        self.type_name = type_name
        self.text = text
        self.facts = facts or {}

    def __repr__(self) -> str:
        return self.text


def load_body(body: bytes, *, max_elements: int = 1 << 26) -> dict[str, Any]:
    """The tensors of a frame body, checked: safetensors' own parsing, then the dtype whitelist and caps."""
    if not body:
        return {}
    import torch
    from safetensors.torch import load

    try:
        tensors = load(body)
    except Exception as error:
        raise Malformed(f"the body is not a safetensors file: {error}") from None
    if len(tensors) > MAX_TENSORS:
        raise Malformed("too many tensors in one frame")
    allowed = {getattr(torch, name) for name in DTYPES}
    for name, tensor in tensors.items():
        if tensor.dtype not in allowed or tensor.numel() > max_elements:
            raise Malformed(f"tensor {name!r}: dtype {tensor.dtype} or size not allowed")
    return tensors


class Decoder:
    """Turns a tree back into values, with tensors built here from the body. `facts[id(tensor)]` keeps
    what the sender said about each tensor (strings and bools only), for `describe`."""

    def __init__(self, tensors: dict[str, Any]) -> None:
        self.tensors = tensors
        self.facts: dict[int, dict[str, Any]] = {}
        self.keep: list[Any] = []  # the decoded tensors, so their ids stay theirs
        self._nodes = 0

    def decode(self, tree: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if depth > MAX_DEPTH or self._nodes > MAX_ITEMS:
            raise Malformed("the value is nested too deeply or has too many items")
        if tree is None or isinstance(tree, bool):
            return tree
        if isinstance(tree, int):
            if tree.bit_length() > 64:
                raise Malformed("integer out of range")
            return tree
        if isinstance(tree, float):
            return tree
        if isinstance(tree, str):
            if len(tree) > MAX_STRING_CHARS:
                raise Malformed("string too long")
            return tree
        if isinstance(tree, list):
            return [self.decode(item, depth + 1) for item in tree]
        if not isinstance(tree, dict):
            raise Malformed("not a value tree")
        if "$tensor" in tree or "$ndarray" in tree:
            return self._tensor(tree)
        if "$float" in tree:
            text = tree["$float"]
            if text not in ("nan", "inf", "-inf"):
                raise Malformed("bad float tag")
            return float(text)
        if "$tuple" in tree:
            items = tree["$tuple"]
            if not isinstance(items, list):
                raise Malformed("bad tuple")
            values = tuple(self.decode(item, depth + 1) for item in items)
            if tree.get("size") is True and all(type(item) is int and item >= 0 for item in values):
                import torch

                return torch.Size(values)
            return values
        if "$dict" in tree:
            pairs = tree["$dict"]
            if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise Malformed("bad dict")
            result = {}
            for key, item in pairs:
                decoded = self.decode(key, depth + 1)
                try:
                    hash(decoded)
                except TypeError:
                    raise Malformed("unhashable dict key") from None
                result[decoded] = self.decode(item, depth + 1)
            return result
        if "$dtype" in tree:
            import torch

            name = tree["$dtype"]
            if name not in DTYPES:
                raise Malformed("dtype not allowed")
            return getattr(torch, name)
        if "$device" in tree:
            import torch

            text = tree["$device"]
            if not isinstance(text, str) or text.split(":")[0] not in DEVICE_TYPES or len(text) > 16:
                raise Malformed("bad device")
            try:
                return torch.device(text)
            except (RuntimeError, ValueError):
                raise Malformed("bad device") from None
        if "$object" in tree:
            info = tree["$object"]
            if not isinstance(info, dict):
                raise Malformed("bad object tag")
            return Opaque(_short(info.get("type")), _short(info.get("repr")), _facts(tree.get("facts")))
        return {
            (key[1:] if key.startswith("$$") else key): self.decode(item, depth + 1)
            for key, item in tree.items()
        }

    def _tensor(self, tree: dict[str, Any]) -> Any:
        name = tree.get("$tensor", tree.get("$ndarray"))
        if not isinstance(name, str) or name not in self.tensors:
            raise Malformed("a tensor the body does not hold")
        tensor = self.tensors[name]
        if "$ndarray" in tree:
            return tensor.numpy()
        facts = _facts(tree.get("facts"))
        self.facts[id(tensor)] = facts
        self.keep.append(tensor)
        return tensor


def _short(value: Any) -> str:
    return value[:MAX_REPR_CHARS] if isinstance(value, str) else "?"


def _facts(value: Any) -> dict[str, Any]:
    """The sender's facts about a tensor: short strings, bools and None only."""
    if not isinstance(value, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, item in list(value.items())[:16]:
        if isinstance(key, str) and len(key) <= 32 and (item is None or isinstance(item, bool)):
            kept[key] = item
        elif isinstance(key, str) and len(key) <= 32 and isinstance(item, str):
            kept[key] = item[:MAX_REPR_CHARS]
    return kept


def decode(tree: Any, body: bytes) -> tuple[Any, Decoder]:
    """(value, decoder) for one tree and its frame body; raises Malformed."""
    decoder = Decoder(load_body(body))
    try:
        return decoder.decode(tree), decoder
    except RecursionError:
        raise Malformed("the value is nested too deeply") from None
