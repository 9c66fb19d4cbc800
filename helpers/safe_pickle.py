"""Check an untrusted pickle, opcode by opcode, before any unpickler touches it (bounded work).

The course reads two kinds of pickles it did not write: PyTorch weight files
(:mod:`helpers.torch_checkpoint`) and CIFAR-10's python batches from the Keras cache
(:func:`helpers.data.read_cifar10_batches`). Both restrict the globals their unpickler may resolve,
but a pickle with only harmless opcodes can still crash or stall Python's C unpickler:

* a tuple nested a million deep, used as a dictionary key, overflows the C stack while it is hashed
  (a segfault that kills the kernel);
* one ``LONG_BINPUT`` of index 10**9 makes the unpickler size its memo table for a billion entries;
* keys crafted to share one hash make dictionary insertion quadratic;
* a few kilobytes of opcodes can create millions of objects, and an integer of a million digits takes
  seconds to read or multiply.

:func:`scan` walks the opcodes without running them (it reads each argument itself, from the bytes
that are really there) and simulates the unpickler's stack just far enough to refuse all of that,
within limits that a caller sets from the real files it expects (:class:`PickleLimits`):

* the pickle's size (``max_bytes``): the scan never looks past it;
* a work budget (:class:`WorkBudget`), shared with the caller: every opcode costs at least one unit,
  opcodes that build containers or call a function cost more, and every memo entry costs extra, so the
  time and memory of scanning *and* then unpickling are bounded by the budget (the caller charges its
  own work, such as the arrays it builds, to the same budget);
* containers nest at most ``max_nesting`` levels; memo indices count up from 0; dictionary keys and set
  members are plain strings, bytes, numbers, None or bools;
* integers: a text ``INT``/``LONG``/``GET``/``PUT`` argument may have at most as many digits as
  ``max_int_bytes`` allows, a ``LONG4`` at most ``max_int_bytes`` bytes, checked *before* the number
  is read; a ``FRAME`` may not announce more bytes than are there.

Every refusal raises the caller's error class (default :class:`PickleRefused`, a :class:`ValueError`)
with a message that starts with ``what`` (which pickle) and says what was wrong. The real unpickler then
reads exactly the bytes that were scanned: pickles are read deterministically, so it meets the same
opcodes.
"""

from __future__ import annotations

import io
import pickletools
import struct
from dataclasses import dataclass

__all__ = ["PickleRefused", "PickleLimits", "WorkBudget", "scan", "DEFAULT_MAX_WORK", "OPCODE_COST", "MEMO_COST"]


class PickleRefused(ValueError):
    """The pickle was refused before it was unpickled (malformed, crafted, or over a limit)."""


#: Default work budget of one load, in units (about one opcode each). The largest real pickles the course
#: reads use a few percent of it: loading the EfficientNet-Lite2 checkpoint 40,328 units, a 10,000-image
#: CIFAR-10 batch 50,184. Scanning and unpickling a whole budget of cheap opcodes takes about a second.
DEFAULT_MAX_WORK = 1_000_000

#: Units an entry in the memo costs, on top of its opcode: it keeps its object alive and takes a slot
#: in the scan's own table and in the unpickler's.
MEMO_COST = 2

#: Units per opcode, where it is not 1: opcodes that create a container or call a function (each makes
#: a new object of 50-200 bytes, so memory stays proportional to the units spent).
OPCODE_COST = {
    **dict.fromkeys(["EMPTY_LIST", "EMPTY_DICT", "LIST", "DICT", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"], 2),
    **dict.fromkeys(["EMPTY_SET", "FROZENSET"], 4),  # an empty set is 216 bytes
    **dict.fromkeys(["REDUCE", "BUILD", "NEWOBJ", "NEWOBJ_EX", "OBJ", "INST", "GLOBAL", "STACK_GLOBAL",
                     "BINPERSID", "PERSID", "EXT1", "EXT2", "EXT4"], 4),
}

# Opcodes whose argument is a decimal number on a text line: its length is checked before it is parsed.
_TEXT_NUMBER_READERS = {"decimalnl_short", "decimalnl_long", "floatnl"}
# Opcodes that push a str: the size of their length field (UNICODE: a text line).
_TEXT_OPS = {"UNICODE": 0, "SHORT_BINUNICODE": 1, "BINUNICODE": 4, "BINUNICODE8": 8}
# Opcodes that push a value whose hash is cheap and cannot be steered into collisions (str and bytes
# hashes are randomised; floats and 64-bit ints have few equal-hash neighbours): the only dictionary
# keys and set members the scan lets through.
_PLAIN_KEY_OPS = {
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "FLOAT", "BINFLOAT", "NONE", "NEWTRUE", "NEWFALSE",
}
# What the scan does with each opcode (besides charging it and checking its argument).
_PUT, _GET, _MARK, _DUP, _MUTATE, _INT, _PLAIN, _OTHER = range(8)
_KINDS = {
    **dict.fromkeys(["PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"], _PUT),
    **dict.fromkeys(["GET", "BINGET", "LONG_BINGET"], _GET),
    "MARK": _MARK, "DUP": _DUP,
    # add to the container below them on the stack, which may get deeper
    **dict.fromkeys(["APPEND", "APPENDS", "BUILD"], _MUTATE),
    **dict.fromkeys(["SETITEM", "SETITEMS", "ADDITEMS"], _MUTATE),
    **dict.fromkeys(["INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"], _INT),
    **dict.fromkeys(_PLAIN_KEY_OPS, _PLAIN),
}
# Opcodes that hash the items they take: 2 takes key, value pairs (only the keys are hashed), 1 all items.
_HASHING = {"SETITEM": 2, "SETITEMS": 2, "DICT": 2, "ADDITEMS": 1, "FROZENSET": 1}


def _op_info(op):
    """(op, name, cost, kind, items below the MARK or -1, items popped, items pushed, hashing) for the scan."""
    before, after = op.stack_before, op.stack_after
    mark = pickletools.markobject
    below = before.index(mark) if mark in before else -1
    pushed = 0 if mark in after else len(after)
    return (op, op.name, OPCODE_COST.get(op.name, 1), _KINDS.get(op.name, _OTHER), below, len(before), pushed,
            _HASHING.get(op.name, 0))


_OPS = {op.code.encode("latin-1"): _op_info(op) for op in pickletools.opcodes}


@dataclass(frozen=True)
class PickleLimits:
    """What one pickle may hold; set from the real files a reader expects, with room.

    Attributes:
        max_bytes: the pickle's size, from its first opcode to its STOP.
        max_nesting: how deeply containers may nest.
        max_int_bytes: the largest integer, in bytes of two's complement (16: up to 2**127); text
            integers may have as many decimal digits as such a number.
        max_text_bytes: the longest ``str`` (UTF-8 or escaped bytes in the pickle), or None for no limit
            but ``max_bytes``. A str of ASCII with one character beyond U+FFFF takes 4 bytes a character
            in memory, so a limit well under ``max_bytes`` keeps that amplification small.
    """

    max_bytes: int
    max_nesting: int = 100
    max_int_bytes: int = 16
    max_text_bytes: int | None = None

    @property
    def max_int_digits(self) -> int:
        return len(str(1 << (8 * self.max_int_bytes))) + 1  # a sign, or the 'L' of a protocol-0 long


class WorkBudget:
    """Units of work still allowed in one load; :meth:`charge` raises once a file asks for more.

    One unit is about one pickle opcode's worth of scanning and unpickling (a microsecond or two, and at
    most a few dozen bytes of memory). Readers charge their own work (each array built) to the same budget.
    """

    def __init__(self, limit: int = DEFAULT_MAX_WORK, *, error: type[Exception] = PickleRefused):
        if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            raise ValueError(f"the work budget must be a positive int, got {limit!r}")
        self.limit = limit
        self.left = limit
        self.error = error

    @property
    def used(self) -> int:
        return self.limit - self.left

    def charge(self, units: int, what: str) -> None:
        """Spend ``units``; raise ``error`` naming ``what`` when the budget would go below zero."""
        self.left -= units
        if self.left < 0:
            self.left = 0
            raise self.error(
                f"{what}: the file asks for more work than the limit of {self.limit:,} units allows (one unit "
                "is about one pickle opcode or array); a real file of this kind needs a small part of it, so "
                "the file is damaged or crafted")


def _read_arg(f: io.BytesIO, op, limits: PickleLimits, error, what: str):
    """The argument of ``op`` at ``f``, read with pickletools' readers after the checks they lack."""
    reader = op.arg.name
    if reader in _TEXT_NUMBER_READERS:
        # a text number: refuse an overlong line before int()/float() parse it (int() of a million digits
        # takes seconds, and without CPython's default digit limit much longer)
        pos = f.tell()
        longest = limits.max_int_digits if reader != "floatnl" else 64
        line = f.readline(longest + 2)
        if not line.endswith(b"\n") and len(line) >= longest + 2:
            raise error(f"{what}: {op.name} with a number longer than {longest} characters; the file is crafted")
        f.seek(pos)
    elif op.name == "LONG4":
        pos = f.tell()
        head = f.read(4)
        if len(head) == 4:
            (n,) = struct.unpack("<i", head)
            if n > limits.max_int_bytes:
                raise error(f"{what}: LONG4 integer of {n:,} bytes (more than {limits.max_int_bytes}); no real "
                            "size or shape is that large, so the file is crafted")
        f.seek(pos)
    elif op.name in _TEXT_OPS and limits.max_text_bytes is not None:
        pos = f.tell()
        longest = limits.max_text_bytes
        if op.name == "UNICODE":
            line = f.readline(longest + 2)
            n = len(line) if line.endswith(b"\n") or len(line) < longest + 2 else longest + 1
        else:
            size = _TEXT_OPS[op.name]
            head = f.read(size)
            n = int.from_bytes(head, "little") if len(head) == size else 0
        if n > longest:
            raise error(f"{what}: a text of {n:,} bytes or more ({op.name}); files of this kind hold only short "
                        f"texts (at most {longest:,} bytes), so the file is crafted or damaged")
        f.seek(pos)
    return op.arg.reader(f)


def scan(buf: bytes, start: int = 0, *, what: str, limits: PickleLimits, budget: WorkBudget,
         error: type[Exception] = PickleRefused) -> int:
    """Check the pickle in ``buf`` that starts at ``start`` without running it; return where it ends.

    Each opcode is charged to ``budget`` (see :data:`OPCODE_COST`, :data:`MEMO_COST`); the pickle may
    not extend past ``limits.max_bytes``. A light simulation of the unpickler's stack tracks how deep
    containers nest and which items are plain dictionary keys. Raises ``error`` (a message starting
    with ``what``) for anything a real pickle of the caller's kind would not contain.
    """
    cap = limits.max_bytes
    capped = len(buf) - start > cap
    data = buf[start : start + cap] if (start or capped) else buf
    f = io.BytesIO(data)
    size = len(data)
    max_int = 1 << (8 * limits.max_int_bytes - 1)
    max_nesting = limits.max_nesting
    charge = budget.charge
    # One int per stack item: its containers' nesting depth times 2, plus 1 if it is a plain key.
    stack: list[int] = []
    marks: list[int] = []
    memo: dict[int, int] = {}
    count = 0
    try:
        while True:
            code = f.read(1)
            info = _OPS.get(code)
            if info is None:
                if not code:
                    raise ValueError("pickle exhausted before seeing STOP")
                raise ValueError(f"at position {f.tell() - 1}, opcode {code!r} unknown")
            op, name, cost, kind, below, n_before, n_after, hashing = info
            arg = None if op.arg is None else _read_arg(f, op, limits, error, what)
            count += 1
            if budget.left > 8:  # the common case, inlined: no opcode costs more than 4
                budget.left -= cost
            else:
                charge(cost, what)
            if kind == _PUT:
                if not stack:
                    raise error(f"{what}: memo store on an empty stack")
                index = len(memo) if name == "MEMOIZE" else arg
                # Picklers number memo slots 0, 1, 2, ...; the unpickler sizes its memo table by the
                # largest index, so one PUT of index 10^9 would allocate gigabytes.
                if type(index) is not int or not 0 <= index <= count:
                    raise error(f"{what}: memo index {str(index)[:40]} after {count} opcodes; picklers number "
                                "memo slots from 0, so the file is crafted or damaged")
                if index not in memo:
                    charge(MEMO_COST, what)
                memo[index] = stack[-1]
                continue
            if kind == _GET:
                if arg not in memo:
                    raise error(f"{what}: memo key {str(arg)[:40]} read before it was stored")
                stack.append(memo[arg])
                continue
            if kind == _MARK:
                marks.append(len(stack))
                continue
            if name == "FRAME" and arg > size - f.tell():
                raise error(f"{what}: a FRAME of {arg:,} bytes runs past the end of the pickle")
            container = -1  # the item of the container an opcode adds to, if any
            if below >= 0:  # the opcode takes the items above the last MARK (and ``below`` more)
                if not marks:
                    raise error(f"{what}: {name} without a MARK")
                m = marks.pop()
                popped = stack[m:]
                del stack[m:]
                if len(stack) < below:
                    raise error(f"{what}: {name} on a stack that is too short")
                if below:
                    container = stack[-1] if kind == _MUTATE else max(stack[len(stack) - below :])
                    del stack[len(stack) - below :]
            elif n_before:
                if len(stack) < n_before:
                    raise error(f"{what}: {name} on a stack that is too short")
                popped = stack[len(stack) - n_before :]
                del stack[len(stack) - n_before :]
                if kind == _MUTATE:
                    container = popped[0]
                    popped = popped[1:]
            else:
                popped = ()
            if kind == _DUP:
                stack.extend(popped * 2)
                continue
            if hashing:  # dictionary keys and set members are hashed
                if not all(item & 1 for item in (popped[0::2] if hashing == 2 else popped)):
                    raise error(
                        f"{what}: a dictionary key or set member that is not a string, number, None or bool; "
                        "real files hold only such keys (and hashing crafted ones can take forever)")
            if name == "STOP":
                return start + f.tell()
            if not n_after:  # POP, POP_MARK
                continue
            depth = (max(popped) >> 1) + 1 if popped else 0
            if container >= 0 and container >> 1 > depth:  # the container may get deeper, never shallower
                depth = container >> 1
            if depth > max_nesting:
                raise error(f"{what}: containers nested more than {max_nesting} levels deep; a real file nests "
                            "a few levels, so it is crafted or damaged")
            plain = 0
            if kind == _INT:
                value = int(arg)
                if not -max_int <= value < max_int:
                    raise error(f"{what}: an integer of {value.bit_length():,} bits; no real size or shape "
                                f"needs more than {8 * limits.max_int_bytes - 1}, so the file is crafted")
                plain = -(1 << 63) < value < 1 << 63
            elif kind == _PLAIN:
                plain = 1
            stack.append(depth * 2 + plain)
    except ValueError as exc:  # pickletools' readers: truncated argument, bad text, pickle exhausted
        if isinstance(exc, error) or isinstance(exc, PickleRefused):
            raise
        if capped:
            raise error(f"{what}: the pickle is larger than the {cap:,}-byte limit for this kind of file "
                        f"(or damaged: {exc})") from None
        raise error(f"{what}: malformed pickle ({exc})") from None
