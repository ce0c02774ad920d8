"""AVERAGE_POOL_2D and MAX_POOL_2D -> tf_avg_pool_s8 / tf_max_pool_s8."""

from __future__ import annotations

from tinyflow.codegen.emit import LayerCtx
from tinyflow.codegen.quantmath import activation_range, out_size, pad_before
from tinyflow.codegen.registry import Unsupported, lowering


@lowering("AVERAGE_POOL_2D", "MAX_POOL_2D")
def pool(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, "int8", "int16", role="input")
    ctx.need_dtype(y, x.dtype, role="output")
    if len(x.shape) != 4:
        raise Unsupported("expects a 4-D NHWC input")
    n, ih, iw, c = x.shape
    _, oh, ow, oc = y.shape
    o = ctx.opts
    kh, kw = int(o["filter_height"]), int(o["filter_width"])
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    padding = o.get("padding", "VALID")
    if (out_size(padding, ih, kh, sh), out_size(padding, iw, kw, sw), c) != (oh, ow, oc):
        raise Unsupported(f"output {list(y.shape)} does not follow from input {list(x.shape)}")
    s_in, z_in = ctx.need_quant(x, "input")
    s_out, z_out = ctx.need_quant(y, "output")
    if (s_in, z_in) != (s_out, z_out):
        raise Unsupported("input and output quantization differ (pooling does not rescale)")
    act = o.get("fused_activation_function", "NONE")
    rng = activation_range(act, s_out, z_out, *ctx.int_range(y))
    if rng is None:
        raise Unsupported(f"fused activation {act}")
    params = ctx.params("tf_pool_params_t", batches=n, in_h=ih, in_w=iw, channels=c, out_h=oh,
                        out_w=ow, k_h=kh, k_w=kw, stride_h=sh, stride_w=sw,
                        pad_top=pad_before(sh, 1, ih, kh, oh),
                        pad_left=pad_before(sw, 1, iw, kw, ow),
                        act_min=rng[0], act_max=rng[1])
    fn = ("tf_avg_pool" if ctx.op.opcode == "AVERAGE_POOL_2D" else "tf_max_pool") + \
        ("_s16" if x.dtype == "int16" else "_s8")
    ctx.call(fn, params, ctx.ptr(x, const=True), ctx.ptr(y))
