"""Cache hints for compiled kernels: ``prefetch(a, i)`` asks the processor to start loading
row ``i`` of array ``a`` (``prefetch_at(a, i, j)``: element ``a[i, j]``) into its caches.

A hint changes no value and raises nothing, whatever the index (a prefetch of an address
outside the array is dropped by the processor; the index is not checked). It helps a kernel
that knows now which scattered rows it will read a little later, while it works on something
else: the choice of dwellings (:mod:`sim.model.mobility`), whose arrays outgrow the caches at
city size. LLVM's ``llvm.prefetch`` intrinsic (read, keep in all cache levels); on a processor
without prefetch instructions it compiles to nothing.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _hint(context, builder, aryty, ary, indices) -> None:
    ptr = cgutils.get_item_pointer(context, builder, aryty, ary, indices, wraparound=False,
                                   boundscheck=False)
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
    # read (0), keep in all levels (3), data cache (1)
    builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                      ir.Constant(i32, 1)])


@intrinsic
def prefetch(typingctx, arr, i):
    """Hint: row ``i`` of ``arr`` (its first element) will be read soon."""
    if not isinstance(arr, types.Array) or not isinstance(i, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, ity = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        indices = [context.cast(builder, args[1], ity, types.intp)] + [zero] * (aryty.ndim - 1)
        _hint(context, builder, aryty, ary, indices)
        return context.get_dummy_value()

    return types.void(arr, i), codegen


@intrinsic
def prefetch_at(typingctx, arr, i, j):
    """Hint: ``arr[i, j]`` of a 2-D array will be read soon."""
    if (not isinstance(arr, types.Array) or arr.ndim != 2 or not isinstance(i, types.Integer)
            or not isinstance(j, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        aryty, ity, jty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        indices = [context.cast(builder, args[1], ity, types.intp),
                   context.cast(builder, args[2], jty, types.intp)]
        _hint(context, builder, aryty, ary, indices)
        return context.get_dummy_value()

    return types.void(arr, i, j), codegen
