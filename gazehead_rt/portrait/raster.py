"""Two renderers of the same textured triangle mesh: OpenGL (moderngl, headless) and OpenCV.

Both map each output pixel to the texture by the affine map of the triangle that covers it
(screen-space linear texture coordinates, ``noperspective`` in the shader), sample bilinearly
and hide what is behind: the OpenGL one with a depth buffer, the OpenCV one by drawing
triangle ids far to near. Visibility (back faces) is decided once, by the caller, for both.
So the two give the same picture up to rounding at triangle edges.
"""

from __future__ import annotations

import numpy as np

from .landmarks import import_cv2

#: Depth range mapped to the OpenGL depth buffer, millimetres around the face.
_DEPTH_SPAN_MM = 1000.0


class OpenCVRasterizer:
    """Pure OpenCV + NumPy: triangle ids drawn far to near, then one ``cv2.remap``."""

    name = "opencv"

    def __init__(self, texture: np.ndarray, uv: np.ndarray, tris: np.ndarray):
        self._cv2 = import_cv2()
        self.texture = np.ascontiguousarray(texture)
        self.size = texture.shape[0]
        self.uv = uv.astype(np.float64)
        self.tris = tris
        self._ids = np.empty((self.size, self.size), np.int32)
        ys, xs = np.mgrid[0 : self.size, 0 : self.size]
        self._x = xs.astype(np.float32).ravel()
        self._y = ys.astype(np.float32).ravel()
        # source triangle, as 2x3 (u, v) rows for the affine solve
        self._src = np.stack([self.uv[tris][:, :, 0], self.uv[tris][:, :, 1]], axis=1)  # (T, 2, 3)

    def render(self, xy: np.ndarray, depth: np.ndarray, visible: np.ndarray) -> np.ndarray:
        cv2 = self._cv2
        tris = self.tris
        idx = np.nonzero(visible)[0]
        order = idx[np.argsort(-depth[tris[idx]].mean(1), kind="stable")]
        ids = self._ids
        ids.fill(-1)
        corners = xy[tris]  # (T, 3, 2)
        pts = np.round(corners * 16.0).astype(np.int32)  # 4 fractional bits
        for t in order:
            cv2.fillConvexPoly(ids, pts[t], int(t), cv2.LINE_8, 4)
        # per triangle, the affine map from output pixel to texture pixel
        dst = np.empty((len(tris), 3, 3))
        dst[:, :2, :] = corners.transpose(0, 2, 1)
        dst[:, 2, :] = 1.0
        det = np.linalg.det(dst)
        ok = np.abs(det) > 1e-9
        dst[~ok] = np.eye(3)
        A = np.einsum("tij,tjk->tik", self._src, np.linalg.inv(dst))  # (T, 2, 3)
        table = np.zeros((len(tris) + 1, 6), np.float32)
        table[0] = (1, 0, 0, 0, 1, 0)  # uncovered pixels keep their own texture pixel
        table[1:] = A.reshape(-1, 6)
        k = ids.ravel() + 1
        x, y = self._x, self._y
        mx = table[k, 0] * x + table[k, 1] * y + table[k, 2]
        my = table[k, 3] * x + table[k, 4] * y + table[k, 5]
        s = self.size
        return cv2.remap(
            self.texture,
            mx.reshape(s, s),
            my.reshape(s, s),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )

    def close(self) -> None:
        pass


_VERT = """
#version 330
in vec3 in_pos;
in vec2 in_uv;
noperspective out vec2 v_uv;
void main() { gl_Position = vec4(in_pos, 1.0); v_uv = in_uv; }
"""
_FRAG = """
#version 330
uniform sampler2D tex;
noperspective in vec2 v_uv;
out vec4 color;
void main() { color = vec4(texture(tex, v_uv).rgb, 1.0); }
"""


class GLUnavailableError(RuntimeError):
    """No headless OpenGL 3.3 context could be created (no moderngl, EGL or driver)."""


def create_gl_context():
    """A headless OpenGL context: EGL first (no display needed), then the platform default."""
    try:
        import moderngl  # noqa: PLC0415 - optional dependency
    except ImportError as e:
        raise GLUnavailableError(f"moderngl is not installed ({e})") from e
    errors = []
    for kwargs in ({"backend": "egl"}, {}):
        try:
            return moderngl.create_standalone_context(require=330, **kwargs)
        except Exception as e:  # noqa: BLE001 - glcontext raises bare Exception per backend
            errors.append(f"{kwargs.get('backend', 'default')}: {' '.join(str(e).split())}")
    raise GLUnavailableError("no headless OpenGL 3.3 context: " + "; ".join(errors))


class GLRasterizer:
    """moderngl on a headless context (EGL; Mesa's llvmpipe where there is no GPU)."""

    name = "opengl"

    def __init__(self, texture: np.ndarray, uv: np.ndarray, tris: np.ndarray):
        import moderngl  # noqa: PLC0415

        self.ctx = create_gl_context()
        self.size = s = texture.shape[0]
        self.tris = tris
        ctx = self.ctx
        self._tex = ctx.texture((s, s), 3, np.ascontiguousarray(texture).tobytes(), alignment=1)
        self._tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self._tex.repeat_x = self._tex.repeat_y = False
        self._prog = ctx.program(vertex_shader=_VERT, fragment_shader=_FRAG)
        self._uv = ((uv.astype(np.float32) + 0.5) / s).astype(np.float32)
        # 4 more vertices: a backdrop quad of the untouched texture behind everything, so a
        # pixel no triangle covers shows the photo, as in the OpenCV renderer
        self._nv = len(uv)
        self._vbo = ctx.buffer(reserve=(len(uv) + 4) * 5 * 4, dynamic=True)
        self._ibo = ctx.buffer(reserve=(tris.size + 6) * 4, dynamic=True)
        self._vao = ctx.vertex_array(
            self._prog, [(self._vbo, "3f 2f", "in_pos", "in_uv")], index_buffer=self._ibo
        )
        self._fbo = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer((s, s), 3)],
            depth_attachment=ctx.depth_renderbuffer((s, s)),
        )
        self._data = np.empty((len(uv) + 4, 5), np.float32)
        self._data[: len(uv), 3:] = self._uv
        quad = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64)
        self._data[len(uv) :, 0:2] = 2.0 * quad - 1.0
        self._data[len(uv) :, 2] = 0.9999
        self._data[len(uv) :, 3:] = quad
        n = len(uv)
        self._backdrop = np.array([n, n + 1, n + 2, n, n + 2, n + 3], np.int32)

    def render(self, xy: np.ndarray, depth: np.ndarray, visible: np.ndarray) -> np.ndarray:
        import moderngl  # noqa: PLC0415

        s = self.size
        d = self._data[: self._nv]
        # pixel centre (integer) -> NDC; rows are not flipped, so the read-back is top first
        d[:, 0] = (xy[:, 0] + 0.5) * (2.0 / s) - 1.0
        d[:, 1] = (xy[:, 1] + 0.5) * (2.0 / s) - 1.0
        d[:, 2] = np.clip((depth - np.median(depth)) / _DEPTH_SPAN_MM, -0.999, 0.999)
        tris = np.concatenate([self.tris[visible].ravel(), self._backdrop]).astype(np.int32)
        self._vbo.write(self._data.tobytes())
        self._ibo.write(tris.tobytes())
        self._fbo.use()
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self._tex.use(0)
        self._vao.render(moderngl.TRIANGLES, vertices=tris.size)
        buf = self._fbo.read(components=3, alignment=1)
        return np.frombuffer(buf, np.uint8).reshape(s, s, 3)

    def close(self) -> None:
        for obj in (self._vao, self._vbo, self._ibo, self._fbo, self._tex, self._prog):
            obj.release()
        self.ctx.release()
