"""Synthetic flow pairs that cover real use (issue 15): large, heavy-tailed motions at full resolution,
homographies and smooth non-rigid deformation on every layer, real photographs, camera-like degradations.

``SceneFlow`` reuses ``synthetic.SyntheticFlow``'s textures and shapes (procedural + photographs) and its
layered rendering idea, with a different motion model and photometric pipeline:

* **Scale.** Motions are drawn in pixels of a full-size scene (``scene_height`` × ``scene_width``, 368×496
  by default, FlyingChairs' size) and the output is a ``height`` × ``width`` window of that scene at a random
  offset (a crop), so large motions stay large in pixels; nothing is scaled down to the crop.
* **Motion of each layer** (background and foreground shapes): a forward map
  ``F(p) = Hm(p) + d(p)`` of frame-1 pixels to frame-2 pixels, where ``Hm`` is a homography (translation,
  rotation, zoom, anisotropy, perspective) about a centre and ``d`` a smooth, low-frequency displacement
  field (bicubic interpolation of a coarse random grid). Ground truth at frame-1 pixel ``p`` on top layer
  ``i``: ``F_i(p) - p``, evaluated exactly. Frame 2 is rendered by backward warping, which needs
  ``F^-1``: ``x = Hm^-1(y - d(x))`` by fixed-point iteration (a contraction: ``d``'s gradient is kept small),
  converged to ~1e-4 px (``--check`` reports the residual ``|F(x) - y|``).
* **Motion statistics.** Background translation is heavy-tailed, ``r = r_max·u^3.5`` (r_max 110 px at
  496 px width): median 10 px, 61 % under 20 px, 20 % over 50 px; rotation, zoom and perspective add more
  near the edges; the background moves as much as the foreground. Measured over 120 training samples at
  256×320 (``scenes.py --stats 20``): per-pixel |flow| median 16 px, 56 % under 20 px, 20 % over 50 px,
  4 % over 100 px, 21 % under 1 px. Foreground shapes move with the camera
  (probability 0.5) plus their own heavy-tailed motion. Some scenes are static (zero flow, only noise and
  photometric changes differ), some have sub-pixel motion (< 1 px), some a static background.
* **Weak texture** (``smooth_texture``, off by default): some layer textures low-passed and of lower
  contrast, as walls, sky and skin, where the flow must be filled in from the textured surroundings.
* **Camera effects.** Grayscale pairs in every batch (≥ 1 sample, 25 % on average), colour jitter shared by
  both frames, brightness / contrast / gamma changes between the frames, Gaussian blur, sensor noise,
  JPEG-like 8×8 DCT quantisation, 8-bit rounding.

Photographs come from ``photos.py`` (scikit-image, matplotlib, PyWavelets and Debian's
``lomiri-wallpapers-16.04``; licences there). Training and validation use disjoint photograph lists
(``photos.TRAIN_PHOTOS`` / ``photos.VALIDATION_PHOTOS``).

Everything is vectorised torch on the generator's device and seeded by one ``torch.Generator``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from synthetic import SyntheticConfig, SyntheticFlow, warp_check, write_preview


@dataclass
class SceneConfig:
    height: int = 256             # output (crop) size
    width: int = 320
    scene_height: int = 368       # full scene size the motions are drawn for
    scene_width: int = 496
    max_layers: int = 5           # foreground layers
    min_layers: int = 0
    r_max: float = 110.0          # background translation tail (px at scene_width 496)
    tail_power: float = 3.5       # r = r_max * u**tail_power
    fg_r_max: float = 80.0        # foreground own translation tail
    bg_rot_deg: float = 2.0       # std, clipped at 2.5 std
    bg_log_zoom: float = 0.03
    fg_rot_deg: float = 10.0
    fg_log_zoom: float = 0.12
    perspective: float = 3e-4     # |g| bound (1/px at 496 width) of the homography's last row
    deform_probability: float = 0.5
    deform_strength: float = 0.10  # amplitude / control-point spacing (keeps |grad d| < ~0.4)
    static_scene: float = 0.06    # probability: nothing moves
    subpixel_scene: float = 0.08  # probability: every motion scaled to < 1 px
    small_scene: float = 0.0      # probability: every motion (translation, rotation, zoom, deformation) x0.02-0.15
    static_background: float = 0.15
    identical_scene: float = 0.0  # probability: frame 2 is an exact copy of frame 1 (no noise, no change)
    saturate_probability: float = 0.0  # probability: contrast x2-4 about a random level, clipping large flat areas
    smooth_texture: float = 0.0   # probability per layer texture: low-passed, lower contrast (walls, sky, skin)
    with_camera: float = 0.5      # foreground layer also moves with the background
    photo_probability: float = 0.5
    bg_photo_probability: float = 0.7
    gray_probability: float = 0.25   # grayscale pairs (at least one per batch)
    texture_gray_probability: float = 0.15
    photometric: bool = True
    frame_change: float = 0.5     # probability of brightness/contrast/gamma change between frames
    blur_probability: float = 0.25
    noise_max: float = 0.03
    jpeg_probability: float = 0.3
    quantise: bool = True         # round frames to 8 bits
    invert_iters: int = 12


_JPEG_Y = torch.tensor([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55], [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62], [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], dtype=torch.float32)
_JPEG_C = torch.full((8, 8), 99.0)
_JPEG_C[:4, :4] = torch.tensor([[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]],
                               dtype=torch.float32)


def _dct_matrix(n=8):
    k = torch.arange(n, dtype=torch.float32)
    D = torch.cos(math.pi * (2 * k[None] + 1) * k[:, None] / (2 * n)) * math.sqrt(2 / n)
    D[0] /= math.sqrt(2)
    return D


class SceneFlow(SyntheticFlow):
    """``gen.sample(batch)`` -> (img1, img2, flow, valid); see the module docstring."""

    def __init__(self, config: SceneConfig, seed: int = 0, device="cpu", photos=None, refresh: float = 1.0,
                 photo_bank_size=(480, 640)):
        base = SyntheticConfig(height=config.height, width=config.width, max_layers=config.max_layers,
                               min_layers=config.min_layers, photo_probability=config.photo_probability,
                               gray_probability=config.texture_gray_probability, photometric=False)
        super().__init__(base, seed=seed, device=device, photos=False, refresh=refresh)
        self.scfg = config
        if photos is None:
            from photos import TRAIN_PHOTOS
            photos = TRAIN_PHOTOS
        if isinstance(photos, torch.Tensor):
            self.photos = photos.to(self.device)
        elif photos:
            from photos import load_photos
            self.photos = load_photos(photos, *photo_bank_size).to(self.device)
        else:
            self.photos = None
        self.D = _dct_matrix().to(self.device)

    def _textures(self, n):
        """SyntheticFlow's textures; with ``smooth_texture`` some become weakly textured: area-averaged by a
        factor of 4-16 and bicubic back (shading, soft edges), 0-25 % of the fine detail kept, contrast ×0.3-1.
        Large smooth areas are where the model's flow was least accurate on photographs (RAFT has to fill them
        from textured surroundings, as DIS's variational refinement does)."""
        tex = super()._textures(n)
        p = self.scfg.smooth_texture
        if p <= 0:
            return tex
        on = self._u(n) < p
        k = int(on.sum())
        if k == 0:
            return tex
        H, W = tex.shape[2:]
        factor = float(torch.exp(self._u(1, lo=math.log(4.0), hi=math.log(16.0))))  # one per call: one size
        small = F.interpolate(tex[on], size=(max(2, round(H / factor)), max(2, round(W / factor))), mode="area")
        smooth = F.interpolate(small, size=(H, W), mode="bicubic", align_corners=False)
        detail = self._u(k, 1, 1, 1, hi=0.25)
        smooth = smooth + detail * (tex[on] - smooth)
        m = smooth.mean(dim=(1, 2, 3), keepdim=True)
        smooth = m + (smooth - m) * self._u(k, 1, 1, 1, lo=0.3, hi=1.0)
        tex = tex.clone()
        tex[on] = smooth.clamp(0, 1)
        return tex

    # -- motion -----------------------------------------------------------------------------------------
    def _heavy(self, shape, r_max, power):
        return r_max * self._u(*shape) ** power

    def _deform_fields(self, n, amp_scale):
        """Coarse random displacement grids [n, 2, gh, gw] over the crop (+ margin) and their box."""
        cfg, H, W = self.scfg, self.scfg.height, self.scfg.width
        # control-point spacing in scene px: 3x4 (coarse) or 5x7 grids over the whole scene
        coarse = self._u(n) < 0.5
        g_small = self._n(n, 2, 3, 4)
        g_big = self._n(n, 2, 5, 7)
        up_small = F.interpolate(g_small, size=(5, 7), mode="bilinear", align_corners=True)
        grid = torch.where(coarse[:, None, None, None], up_small, g_big)
        spacing = torch.where(coarse, torch.tensor(cfg.scene_width / 3.0, device=self.device),
                              torch.tensor(cfg.scene_width / 6.0, device=self.device))
        amp = spacing * cfg.deform_strength * self._u(n) * amp_scale
        on = self._u(n) < cfg.deform_probability
        grid = grid * (amp * on)[:, None, None, None]
        return grid

    def _eval_field(self, grid, pts, box):
        """Bilinear interpolation of fields ``grid`` [n, 2, gh, gw] (the coarse random grids upsampled
        bicubically to 33x41) at points pts [n, H, W, 2] (window px); the grid spans box = (x0, y0, x1, y1)
        in window px (border-clamped outside)."""
        x0, y0, x1, y1 = box
        g = torch.stack([2 * (pts[..., 0] - x0) / (x1 - x0) - 1, 2 * (pts[..., 1] - y0) / (y1 - y0) - 1], -1)
        v = F.grid_sample(grid, g, mode="bilinear", padding_mode="border", align_corners=True)
        return v.permute(0, 2, 3, 1)

    @staticmethod
    def _apply_h(Hm, pts):
        """Homographies Hm [n, 3, 3] applied to pts [n, H, W, 2]."""
        x, y = pts[..., 0], pts[..., 1]
        h = Hm[:, None, None]
        den = h[..., 2, 0] * x + h[..., 2, 1] * y + h[..., 2, 2]
        return torch.stack([(h[..., 0, 0] * x + h[..., 0, 1] * y + h[..., 0, 2]) / den,
                            (h[..., 1, 0] * x + h[..., 1, 1] * y + h[..., 1, 2]) / den], -1)

    def _motions(self, B, L, mag_range=None):
        """Per-layer homography Hm [B, L, 3, 3] (window px -> window px) and field amplitude scale."""
        cfg, H, W, dev = self.scfg, self.scfg.height, self.scfg.width, self.device
        ref = cfg.scene_width / 496.0
        # per-sample motion regime: static / sub-pixel / small / normal
        u = self._u(B)
        scale = torch.ones(B, device=dev)
        below_small = cfg.static_scene + cfg.subpixel_scene
        # small regime: smooth motion of a few px (translations mostly < 5 px, rarely 16), like a slow camera;
        # draws nothing from the generator when off, so the other regimes' streams are unchanged
        if cfg.small_scene > 0:
            scale = torch.where(u < below_small + cfg.small_scene, self._u(B, lo=0.02, hi=0.15), scale)
        # sub-pixel regime: every motion scaled by 0.001-0.012 (translations < ~1 px)
        scale = torch.where(u < below_small, self._u(B, lo=0.001, hi=0.012), scale)
        scale = torch.where(u < cfg.static_scene, torch.zeros_like(scale), scale)
        bg_still = self._u(B) < cfg.static_background

        def tdir(shape):
            a = self._u(*shape, lo=0, hi=2 * math.pi)
            return torch.stack([torch.cos(a), torch.sin(a)], -1)

        extra = 1.0
        if mag_range is None:
            r_bg = self._heavy((B,), cfg.r_max * ref, cfg.tail_power)
            r_fg = self._heavy((B, L), cfg.fg_r_max * ref, cfg.tail_power)
        else:  # validation: translation magnitudes uniform in the given range (px)
            lo, hi = mag_range
            r_bg = self._u(B, lo=lo, hi=hi)
            r_fg = self._u(B, L, lo=lo, hi=hi) * self._u(B, L, lo=0.3, hi=1.0)
            # rotation / zoom / perspective / deformation shrink with the range, so small bins stay small
            extra = min(1.0, hi / 50.0)
        r_bg = torch.where(bg_still, torch.zeros_like(r_bg), r_bg)
        t = torch.zeros(B, L, 2, device=dev)
        t_bg = tdir((B,)) * r_bg[:, None]
        cam = (self._u(B, L) < cfg.with_camera).float()
        t[:] = cam[..., None] * t_bg[:, None] + tdir((B, L)) * r_fg[..., None]
        t[:, 0] = t_bg
        clipn = lambda x: x.clamp(-2.5, 2.5)
        rot = clipn(self._n(B, L)) * math.radians(cfg.fg_rot_deg)
        zoom = clipn(self._n(B, L)) * cfg.fg_log_zoom
        aniso = clipn(self._n(B, L)) * cfg.fg_log_zoom * 0.3
        persp = self._u(B, L, 2, lo=-1, hi=1) * cfg.perspective / ref * (self._u(B, L, 1) < 0.5)
        rot[:, 0] = clipn(self._n(B)) * math.radians(cfg.bg_rot_deg)
        zoom[:, 0] = clipn(self._n(B)) * cfg.bg_log_zoom
        aniso[:, 0] = aniso[:, 0] * 0.3
        persp[:, 0] = self._u(B, 2, lo=-1, hi=1) * cfg.perspective / ref * (self._u(B, 1) < 0.6)
        # the still background keeps only a tiny part of its rotation/zoom/perspective (and none w.p. 1/2)
        keep = torch.where(bg_still, torch.zeros(B, device=dev), torch.ones(B, device=dev))
        for v in (rot, zoom, aniso):
            v[:, 0] *= keep
        persp[:, 0] *= keep[:, None]
        t = t * scale[:, None, None]
        scale = scale * extra
        amp = scale[:, None].expand(B, L).clone()
        amp[:, 0] *= keep
        rot, zoom, aniso, persp = (rot * scale[:, None], zoom * scale[:, None], aniso * scale[:, None],
                                   persp * scale[:, None, None])
        # centre of each layer's motion (window px); the background's about a point of the whole scene
        ox = (cfg.scene_width - W) / 2 if cfg.scene_width > W else 0.0
        oy = (cfg.scene_height - H) / 2 if cfg.scene_height > H else 0.0
        c = torch.stack([self._u(B, L, lo=-ox, hi=W + ox), self._u(B, L, lo=-oy, hi=H + oy)], -1)
        cs, sn = torch.cos(rot), torch.sin(rot)
        sx, sy = torch.exp(zoom + aniso), torch.exp(zoom - aniso)
        A = torch.stack([torch.stack([cs * sx, -sn * sy], -1), torch.stack([sn * sx, cs * sy], -1)], -2)
        # Hm(p) = c + t + (A (p - c)) / (1 + g.(p - c)):  T(c+t) . [[A, 0], [g, 1]] . T(-c)
        M = torch.zeros(B, L, 3, 3, device=dev)
        M[..., :2, :2] = A
        M[..., 2, :2] = persp
        M[..., 2, 2] = 1
        T1 = torch.eye(3, device=dev).repeat(B, L, 1, 1)
        T1[..., :2, 2] = c + t
        T0 = torch.eye(3, device=dev).repeat(B, L, 1, 1)
        T0[..., :2, 2] = -c
        Hm = T1 @ M @ T0
        return Hm, amp

    # -- sample -----------------------------------------------------------------------------------------
    def sample(self, batch: int, mag_range=None, max_layers=None, min_layers=None, photo_only=False,
               return_info=False, gray=None):
        """img1, img2 [B,3,H,W] in [0,1], flow [B,2,H,W] (px), valid [B,H,W].

        Keyword overrides (for validation sets): ``mag_range`` = (lo, hi) px uniform translation instead of
        the heavy tail; ``max_layers``/``min_layers`` foreground count (0 = background only, i.e. one
        smooth non-rigid motion over the frame); ``photo_only``: every layer a photograph; ``gray``: bool
        tensor [B] of grayscale pairs instead of the random choice (which makes at least one per batch).
        """
        cfg, H, W, dev = self.scfg, self.scfg.height, self.scfg.width, self.device
        L = cfg.max_layers + 1
        n = batch * L
        old_p = self.cfg.photo_probability
        if photo_only:
            self.cfg.photo_probability = 1.0
        tex, alpha = self._layer_pool(n)
        self.cfg.photo_probability = old_p
        if not photo_only and self.photos is not None:
            # backgrounds: photographs more often than foreground layers
            bgp = (self._u(batch) < (cfg.bg_photo_probability - cfg.photo_probability) /
                   max(1e-6, 1 - cfg.photo_probability))
            if bool(bgp.any()):
                self.cfg.photo_probability = 1.0
                ph = self._textures(int(bgp.sum()))
                self.cfg.photo_probability = old_p
                tex = tex.view(batch, L, 3, H, W).clone()
                tex[bgp, 0] = ph
                tex = tex.view(n, 3, H, W)
        alpha = alpha.view(batch, L, 1, H, W).clone()
        alpha[:, 0] = 1.0
        lo = cfg.min_layers if min_layers is None else min_layers
        hi = cfg.max_layers if max_layers is None else max_layers
        nfg = torch.randint(lo, hi + 1, (batch, 1), generator=self.gen, device=dev)
        present = torch.arange(1, L, device=dev)[None] <= nfg
        alpha[:, 1:] = alpha[:, 1:] * present[..., None, None, None]
        rgba = torch.cat([tex.view(batch, L, 3, H, W), alpha], 2)

        # G1: canonical q -> window p = c1 + A1 (q - cq); the background covers the window
        cq = torch.tensor([(W - 1) / 2, (H - 1) / 2], device=dev)
        ang1 = self._u(batch, L, lo=-math.pi, hi=math.pi)
        s1 = torch.exp(self._u(batch, L, lo=math.log(0.7), hi=math.log(1.8)))
        A1 = self._rot_scale(ang1, s1, s1)
        c1 = torch.stack([self._u(batch, L, lo=-0.1, hi=1.1) * W, self._u(batch, L, lo=-0.1, hi=1.1) * H], -1)
        bg_ang = self._u(batch, lo=-0.2, hi=0.2)
        bg_s = torch.exp(self._u(batch, lo=math.log(1.0), hi=math.log(1.6)))
        A1[:, 0] = self._rot_scale(bg_ang, bg_s, bg_s)
        c1[:, 0] = cq
        A1inv = torch.linalg.inv(A1)

        Hm, amp = self._motions(batch, L, mag_range)
        Hinv = torch.linalg.inv(Hm)
        fields = self._deform_fields(n, amp.reshape(n))
        m = 0.5 * max(self.scfg.scene_width - W, 0) + 0.5 * W
        mv = 0.5 * max(self.scfg.scene_height - H, 0) + 0.5 * H
        box = (-m + W / 2, -mv + H / 2, m + W / 2, mv + H / 2)

        pix = self.pix[None].expand(n, H, W, 2)
        Hm_n, Hinv_n = Hm.reshape(n, 3, 3), Hinv.reshape(n, 3, 3)
        # layers with a deformation field (and present): only these need the fixed-point inversion
        active = (fields.abs().amax(dim=(1, 2, 3)) > 0) & torch.cat(
            [torch.ones(batch, 1, dtype=torch.bool, device=dev), present], 1).reshape(n)
        idx = active.nonzero()[:, 0]
        dense = F.interpolate(fields[idx], size=(33, 41), mode="bicubic", align_corners=True)
        # frame 2 -> frame 1 positions per layer: solve Hm(x) + d(x) = y
        x = self._apply_h(Hinv_n, pix)
        if len(idx):
            xa, pa, Ha = x[idx], pix[idx], Hinv_n[idx]
            for _ in range(cfg.invert_iters):
                xa = self._apply_h(Ha, pa - self._eval_field(dense, xa, box))
            self._last_inversion_residual = (self._apply_h(Hm_n[idx], xa) + self._eval_field(dense, xa, box) - pa)
            x = x.clone()
            x[idx] = xa
        else:
            self._last_inversion_residual = torch.zeros(1, 2)

        A1i = A1inv.reshape(n, 1, 1, 2, 2)
        c1n = c1.reshape(n, 1, 1, 2)

        def to_canonical(p):  # window px [n,H,W,2] -> normalised texture coords
            dx, dy = p[..., 0] - c1n[..., 0], p[..., 1] - c1n[..., 1]
            qx = A1i[..., 0, 0] * dx + A1i[..., 0, 1] * dy + cq[0]
            qy = A1i[..., 1, 0] * dx + A1i[..., 1, 1] * dy + cq[1]
            return torch.stack([(2 * qx + 1) / W - 1, (2 * qy + 1) / H - 1], -1)

        def render(g):
            g = g.view(batch, L, H, W, 2)
            bg = F.grid_sample(rgba[:, 0], g[:, 0], mode="bilinear", padding_mode="reflection",
                               align_corners=False)
            fg = F.grid_sample(rgba[:, 1:].reshape(-1, 4, H, W), g[:, 1:].reshape(-1, H, W, 2),
                               mode="bilinear", padding_mode="zeros", align_corners=False).view(batch, L - 1, 4, H, W)
            img = bg[:, :3]
            top = torch.zeros(batch, H, W, dtype=torch.long, device=dev)
            for i in range(L - 1):
                a = fg[:, i, 3:4]
                img = img * (1 - a) + fg[:, i, :3] * a
                top = torch.where(a[:, 0] > 0.5, torch.full_like(top, i + 1), top)
            return img, top

        img1, top1 = render(to_canonical(pix))
        img2, _ = render(to_canonical(x))
        # ground truth: F_i(p) - p for the top layer i at p in frame 1
        fwd = self._apply_h(Hm_n, pix)                                          # [n, H, W, 2]
        if len(idx):
            fwd = fwd.clone()
            fwd[idx] = fwd[idx] + self._eval_field(dense, pix[idx], box)
        fwd = fwd.view(batch, L, H, W, 2)
        flow = fwd.gather(1, top1[:, None, :, :, None].expand(-1, 1, -1, -1, 2))[:, 0] - self.pix[None]
        flow = flow.permute(0, 3, 1, 2).contiguous()
        if cfg.photometric:
            img1, img2 = self._camera(img1, img2, gray)
        elif cfg.quantise:
            img1, img2 = (img1 * 255).round() / 255, (img2 * 255).round() / 255
        if cfg.identical_scene > 0:
            # exact copies teach stillness without the noise/photometric ambiguity of static scenes
            same = self._u(batch) < cfg.identical_scene
            if bool(same.any()):
                img2 = torch.where(same[:, None, None, None], img1, img2)
                flow = torch.where(same[:, None, None, None], torch.zeros_like(flow), flow)
        valid = torch.ones(batch, H, W, device=dev)
        if return_info:
            return img1, img2, flow, valid, {"layers": nfg[:, 0]}
        return img1, img2, flow, valid

    def _layer_pool(self, n):
        """Textures and masks for n layer slots (pool with partial refresh, as SyntheticFlow.sample)."""
        if self.refresh >= 1.0 or self.pool is None or self.pool[0].shape[0] != n:
            tex, alpha = self._textures(n), self._masks(n)
            if self.refresh < 1.0:
                self.pool = (tex, alpha)
                tex, alpha = tex.clone(), alpha.clone()
            return tex, alpha
        k = max(1, round(self.refresh * n))
        slots = torch.randperm(n, generator=self.gen, device=self.device)[:k]
        self.pool[0][slots] = self._textures(k)
        self.pool[1][slots] = self._masks(k)
        pick = torch.randint(0, n, (n,), generator=self.gen, device=self.device)
        return self.pool[0][pick], self.pool[1][pick]

    # -- camera / photometric ---------------------------------------------------------------------------
    def _blur(self, img, sigma):
        """Per-sample Gaussian blur, sigma [B] (0 = none), separable 9-tap kernel."""
        B, C, H, W = img.shape
        k = torch.arange(-4, 5, device=self.device, dtype=torch.float32)
        s = sigma.clamp(min=1e-3)[:, None]
        w = torch.exp(-0.5 * (k[None] / s) ** 2)
        w = w / w.sum(1, keepdim=True)
        w = w.repeat_interleave(C, 0)                                  # [B*C, 9]
        x = img.reshape(1, B * C, H, W)
        x = F.conv2d(F.pad(x, (4, 4, 0, 0), mode="reflect"), w[:, None, None, :], groups=B * C)
        x = F.conv2d(F.pad(x, (0, 0, 4, 4), mode="reflect"), w[:, None, :, None], groups=B * C)
        return x.view(B, C, H, W)

    def _jpeg(self, img, quality_scale):
        """JPEG-like artefacts: YCbCr, 8x8 DCT, quantisation by the standard tables x scale [B], inverse."""
        B, C, H, W = img.shape
        ph, pw = (-H) % 8, (-W) % 8
        x = F.pad(img, (0, pw, 0, ph), mode="replicate") * 255
        r, g, b = x[:, 0], x[:, 1], x[:, 2]
        y = 0.299 * r + 0.587 * g + 0.114 * b
        cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
        cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
        ycc = torch.stack([y, cb, cr], 1) - 128
        Hp, Wp = ycc.shape[2:]
        blocks = ycc.view(B, 3, Hp // 8, 8, Wp // 8, 8).permute(0, 1, 2, 4, 3, 5)   # [B,3,h,w,8,8]
        D = self.D
        coef = D @ blocks @ D.T
        q = torch.stack([_JPEG_Y, _JPEG_C, _JPEG_C]).to(self.device)[None, :, None, None] * \
            quality_scale.view(B, 1, 1, 1, 1, 1)
        coef = torch.round(coef / q) * q
        blocks = D.T @ coef @ D
        ycc = blocks.permute(0, 1, 2, 4, 3, 5).reshape(B, 3, Hp, Wp) + 128
        y, cb, cr = ycc[:, 0], ycc[:, 1] - 128, ycc[:, 2] - 128
        rgb = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1) / 255
        return rgb[:, :, :H, :W]

    def _camera(self, img1, img2, gray_override=None):
        cfg, B, dev = self.scfg, img1.shape[0], self.device
        u = lambda lo, hi, *s: self._u(B, *s, lo=lo, hi=hi)
        # shared colour jitter
        brightness, contrast, saturation = u(0.6, 1.4, 1, 1, 1), u(0.6, 1.4, 1, 1, 1), u(0.5, 1.5, 1, 1, 1)
        gains, gamma = u(0.85, 1.15, 3, 1, 1), torch.exp(u(-0.3, 0.3, 1, 1, 1))
        # changes between the frames
        ch = (self._u(B, 1, 1, 1) < cfg.frame_change).float()
        d_bright = 1 + ch * u(-0.12, 0.12, 1, 1, 1)
        d_contrast = 1 + ch * u(-0.12, 0.12, 1, 1, 1)
        d_gamma = torch.exp(ch * u(-0.12, 0.12, 1, 1, 1))
        gray = self._u(B) < cfg.gray_probability
        gray[0] = True                                                   # at least one per batch
        pivot = None
        if cfg.saturate_probability > 0:
            # over- and under-exposure: flat clipped regions with no texture to match, as in real footage
            sat = (self._u(B) < cfg.saturate_probability).view(B, 1, 1, 1)
            contrast = torch.where(sat, contrast * u(2.0, 4.0, 1, 1, 1), contrast)
            pivot = torch.where(sat, u(0.25, 0.75, 1, 1, 1), torch.full_like(contrast, float("nan")))
        if gray_override is not None:
            gray = gray_override.to(dev)
        blur_on = self._u(B) < cfg.blur_probability
        sig = torch.where(blur_on, u(0.3, 1.6), torch.zeros(B, device=dev))
        sig2 = torch.where(blur_on, sig * u(0.8, 1.25), sig)
        noise = u(0.0, cfg.noise_max, 1, 1, 1) * (self._u(B, 1, 1, 1) < 0.8)
        jpeg_on = self._u(B) < cfg.jpeg_probability
        jq = u(0.3, 2.0)
        out = []
        for k, img in enumerate((img1, img2)):
            g = img.mean(1, keepdim=True)
            img = g + (img - g) * saturation
            img = img * gains * brightness * (d_bright if k else 1.0)
            m = img.mean(dim=(1, 2, 3), keepdim=True)
            if pivot is not None:
                m = torch.where(torch.isnan(pivot), m, pivot)
            img = (img - m) * contrast * (d_contrast if k else 1.0) + m
            img = img.clamp(0, 1) ** (gamma * (d_gamma if k else 1.0))
            gw = torch.tensor([0.299, 0.587, 0.114], device=dev).view(1, 3, 1, 1)
            img = torch.where(gray[:, None, None, None], (img * gw).sum(1, keepdim=True).expand(-1, 3, -1, -1), img)
            if bool(blur_on.any()):
                img = self._blur(img, sig2 if k else sig)
            img = img + self._n(*img.shape[:1], 1, *img.shape[2:]) * noise * 0.5 \
                + self._n(*img.shape) * noise * 0.5
            img = img.clamp(0, 1)
            if bool(jpeg_on.any()):
                jp = self._jpeg(img[jpeg_on], jq[jpeg_on])
                img = img.clone()
                img[jpeg_on] = jp.clamp(0, 1)
                # grayscale stays grayscale
                img = torch.where(gray[:, None, None, None], img.mean(1, keepdim=True).expand(-1, 3, -1, -1), img)
            if cfg.quantise:
                img = (img * 255).round() / 255
            out.append(img)
        return out[0], out[1]


if __name__ == "__main__":
    import argparse
    import time
    p = argparse.ArgumentParser(description="Preview / time / check the scene generator")
    p.add_argument("--height", type=int, default=256)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--batch", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--refresh", type=float, default=1.0)
    p.add_argument("--batches", type=int, default=3)
    p.add_argument("--out", default=None, help="write a PNG preview grid here")
    p.add_argument("--check", action="store_true",
                   help="photometric off: |frame1 - frame2 warped back by the ground truth| and the inversion residual")
    p.add_argument("--stats", type=int, default=0, help="print motion statistics over this many batches")
    p.add_argument("--smooth-texture", type=float, default=0.0, help="SceneConfig.smooth_texture (preview)")
    p.add_argument("--tail-power", type=float, default=SceneConfig.tail_power, help="SceneConfig.tail_power")
    p.add_argument("--small-scene", type=float, default=0.0, help="SceneConfig.small_scene")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    import sys, os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if a.check:
        g = SceneFlow(SceneConfig(height=a.height, width=a.width, photometric=False, quantise=False), seed=a.seed)
        i1, i2, fl, _ = g.sample(a.batch)
        res = g._last_inversion_residual.norm(dim=-1)
        e, e0, _ = warp_check(i1, i2, fl)
        print(f"inversion residual |F(x) - y|: max {res.max():.2e} px, mean {res.mean():.2e} px")
        print(f"|I1 - warp(I2, gt)| on in-frame pixels: median {e.median():.5f}, mean {e.mean():.4f} "
              f"(occlusions), 90% {e.quantile(0.9):.4f};  |I1 - I2|: median {e0.median():.4f}, mean {e0.mean():.4f}")
        raise SystemExit
    g = SceneFlow(SceneConfig(height=a.height, width=a.width, smooth_texture=a.smooth_texture,
                              tail_power=a.tail_power, small_scene=a.small_scene), seed=a.seed,
                  refresh=a.refresh)
    print("photos:", None if g.photos is None else tuple(g.photos.shape))
    if a.stats:
        mags, means = [], []
        for _ in range(a.stats):
            _, _, fl, _ = g.sample(a.batch)
            m = fl.norm(dim=1)
            mags.append(m.flatten()[::97])
            means.append(m.mean(dim=(1, 2)))
        mags, means = torch.cat(mags), torch.cat(means)
        qs = torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])
        print("per-pixel |flow| quantiles", [f"{v:.1f}" for v in mags.quantile(qs).tolist()],
              f"max {mags.max():.1f}; share <1px {(mags < 1).float().mean():.2f}, <20 {(mags < 20).float().mean():.2f}, "
              f">50 {(mags > 50).float().mean():.2f}, >100 {(mags > 100).float().mean():.3f}")
        print("per-sample mean |flow| quantiles", [f"{v:.1f}" for v in means.quantile(qs).tolist()])
    for _ in range(a.batches):
        t0 = time.time()
        i1, i2, fl, v = g.sample(a.batch)
        print(f"batch {a.batch} {a.height}x{a.width}: {time.time() - t0:.3f}s  |flow| max {fl.norm(dim=1).max():.1f} "
              f"mean {fl.norm(dim=1).mean():.1f}")
    if a.out:
        write_preview(a.out, i1, i2, fl)
