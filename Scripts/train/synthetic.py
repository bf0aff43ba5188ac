"""Synthetic optical-flow pairs with exact ground truth (FlyingChairs / AutoFlow in spirit).

Each sample is a stack of layers, back to front: a background that covers the frame and up to
``max_layers`` foreground shapes (convex polygons, ellipses, noise blobs). Every layer is a textured
RGBA image in its own canonical pixel frame, placed in frame 1 by an affine map G1 (rotation, scale,
position) and in frame 2 by G2 = M o G1, where M is the layer's own random affine motion (translation,
rotation, anisotropic scale about the layer centre). Both frames are rendered by backward warping
(``grid_sample`` at G_k^-1(p)) and alpha compositing, so the ground-truth flow of a frame-1 pixel p is
exactly M_i(p) - p for the layer i that is on top at p in frame 1 (alpha > 0.5). Occlusions, disocclusions
and motion boundaries come from the layer order; nothing is interpolated.

Textures are procedural (multi-octave noise, stripes, checkerboards, thresholded noise with sharp edges;
colour and grayscale) or crops of the public-domain / CC0 photographs bundled with scikit-image (see
``PHOTO_LICENCES``); photographs are optional (``photos=False`` or scikit-image missing).

Everything is vectorised over the batch in torch and seeded through a ``torch.Generator``: the same
(seed, call sequence, device) gives the same samples. Frames are float32 in [0, 1], shape [B, 3, H, W];
flow is [B, 2, H, W] in pixels (u = x-displacement, v = y-displacement); valid is [B, H, W] (all ones:
every frame-1 pixel has an exact flow, even those leaving the frame, as in FlyingChairs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# scikit-image images used as photographic textures; all ship inside the wheel (skimage/data/*), nothing is
# downloaded. Licences as stated in skimage.data's own docstrings (scikit-image 0.26).
PHOTO_LICENCES = {
    "astronaut": "public domain: NASA Great Images, \"No known copyright restrictions, released into the public domain\"",
    "coffee": "CC0 by the photographer (Rachel Michetti), \"No copyright restrictions\"",
    "chelsea": "CC0 by the photographer (Stefan van der Walt), \"No copyright restrictions\"",
    "rocket": "public domain: SpaceX photo, released in the public domain",
    "hubble_deep_field": "public domain: NASA HubbleSite, \"may be freely used in the public domain\"",
    "immunohistochemistry": "\"No known copyright restrictions\" (Center for Microscopy And Molecular Imaging); no explicit PD/CC0 dedication",
    "camera": "CC0 by the photographer (Lav Varshney), \"No copyright restrictions\"",
    "coins": "\"No known copyright restrictions\" (Brooklyn Museum Collection); no explicit PD/CC0 dedication",
    "brick": "CC0 (CC0Textures 'Bricks25', CC0 License)",
    "grass": "CC0 (DeviantArt linolafett 'Grass-01', CC0 License)",
    "gravel": "CC0 (CC0Textures 'Gravel04', CC0 License)",
}
PHOTO_NAMES = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
               "immunohistochemistry", "camera", "coins", "brick", "grass", "gravel"]
# explicitly public domain or CC0: used for anything that redistributes pixels (Samples/)
PHOTO_NAMES_STRICT = [n for n in PHOTO_NAMES if n not in ("immunohistochemistry", "coins")]


def load_photo_bank(height: int = 384, width: int = 512, names=None, device="cpu") -> torch.Tensor | None:
    """Loads the bundled skimage photographs, RGB float [0,1], resized (aspect-filling crop) to one size.

    Returns [P, 3, height, width] or None when scikit-image is not installed.
    """
    try:
        import skimage.data as skd
    except Exception:
        return None
    names = names or PHOTO_NAMES
    out = []
    for name in names:
        try:
            img = getattr(skd, name)()
        except Exception:
            continue
        t = torch.from_numpy(img.copy()).float()
        if t.max() > 1.5:
            t = t / 255.0
        if t.dim() == 2:
            t = t[None].expand(3, -1, -1)
        else:
            t = t[..., :3].permute(2, 0, 1)
        h, w = t.shape[1:]
        s = max(height / h, width / w)
        t = F.interpolate(t[None], size=(max(height, round(h * s)), max(width, round(w * s))),
                          mode="bilinear", align_corners=False, antialias=True)[0]
        y0 = (t.shape[1] - height) // 2
        x0 = (t.shape[2] - width) // 2
        out.append(t[:, y0:y0 + height, x0:x0 + width].clamp(0, 1))
    return torch.stack(out).to(device) if out else None


@dataclass
class SyntheticConfig:
    height: int = 160
    width: int = 224
    max_layers: int = 6          # foreground layers (background excluded)
    min_layers: int = 2
    max_translation: float = 40.0  # px at reference width 496 (scaled by width / 496)
    reference_width: float = 496.0
    max_rotation_deg: float = 10.0
    max_log_scale: float = 0.12
    bg_translation_fraction: float = 0.5  # background motion relative to foreground range
    photo_probability: float = 0.3
    gray_probability: float = 0.15
    photometric: bool = True
    noise_std: float = 0.02


class SyntheticFlow:
    """On-the-fly generator: ``gen.sample(batch)`` -> (img1, img2, flow, valid)."""

    def __init__(self, config: SyntheticConfig, seed: int = 0, device="cpu", photos=True,
                 refresh: float = 1.0, photo_names=None):
        """``refresh`` < 1 keeps a pool of layer textures/masks (one per layer slot of a batch) and
        regenerates only that fraction of it per call; layers are drawn from the pool with replacement
        and get fresh random placements and motions, so samples stay distinct while texture synthesis
        costs ``refresh`` times as much. Use 1.0 (every layer fresh) for evaluation sets."""
        self.cfg = config
        self.refresh = refresh
        self.pool = None
        self.device = torch.device(device)
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(seed)
        self.photos = load_photo_bank(names=photo_names, device=self.device) if photos else None
        H, W = config.height, config.width
        ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32, device=self.device),
                                torch.arange(W, dtype=torch.float32, device=self.device), indexing="ij")
        self.pix = torch.stack([xs, ys], -1)  # [H, W, 2] pixel coordinates (x, y)

    # -- random helpers -------------------------------------------------------------------------------
    def _u(self, *shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=self.gen, device=self.device)

    def _n(self, *shape):
        return torch.randn(*shape, generator=self.gen, device=self.device)

    # -- textures ---------------------------------------------------------------------------------------
    def _noise(self, n, c, octaves=(2, 4, 8, 16, 32, 64)):
        """Multi-octave value noise [n, c, H, W] with a per-sample random spectral slope, ~N(0,1).

        Built coarse to fine (upsample x2, add the next octave), so only the last upsampling is at
        full resolution; the normalisation is analytic (sum of octave weights), not a per-image std.
        """
        H, W = self.cfg.height, self.cfg.width
        beta = self._u(n, 1, 1, 1, lo=0.5, hi=2.0)
        aspect = W / H
        acc = None
        total = torch.zeros(n, 1, 1, 1, device=self.device)
        for o in octaves:
            w = float(o) ** -beta
            g = self._n(n, c, o, max(2, round(o * aspect))) * w
            total = total + w * w
            acc = g if acc is None else F.interpolate(acc, size=g.shape[2:], mode="bilinear",
                                                      align_corners=False) + g
        acc = F.interpolate(acc, size=(H, W), mode="bicubic", align_corners=False)
        return acc / total.sqrt()

    def _textures(self, n):
        """n RGB textures [n, 3, H, W] in [0, 1], a random mix of procedural kinds and photographs."""
        cfg, H, W = self.cfg, self.cfg.height, self.cfg.width
        dev = self.device
        x = self.pix[..., 0][None] - W / 2
        y = self.pix[..., 1][None] - H / 2
        base = self._noise(n, 1)[:, 0]                      # scalar field
        # stripes / checker fields with random orientation and period
        th = self._u(n, 1, 1, hi=math.pi)
        period = torch.exp(self._u(n, 1, 1, lo=math.log(4.0), hi=math.log(40.0)))
        ph = self._u(n, 1, 1, hi=2 * math.pi)
        a = (x * torch.cos(th) + y * torch.sin(th)) * (2 * math.pi / period) + ph
        b = (-x * torch.sin(th) + y * torch.cos(th)) * (2 * math.pi / period) + ph
        stripes = torch.sin(a)
        stripes_sharp = torch.tanh(4 * stripes)
        checker = torch.tanh(4 * torch.sin(a) * torch.sin(b))
        sharp = torch.tanh(6 * (base - self._u(n, 1, 1, lo=-0.5, hi=0.5)))  # piecewise-constant regions
        kinds = torch.randint(0, 5, (n,), generator=self.gen, device=dev)
        field = torch.stack([base, stripes, stripes_sharp, checker, sharp], 1)  # [n, 5, H, W]
        field = field.gather(1, kinds[:, None, None, None].expand(-1, 1, H, W))[:, 0]
        # modulate periodic patterns with some noise so they are not perfectly repetitive
        field = field + 0.35 * self._u(n, 1, 1) * self._noise(n, 1, octaves=(4, 8, 16))[:, 0]
        s = torch.sigmoid(1.5 * field)[:, None]              # [n, 1, H, W] in (0, 1)
        c0 = self._u(n, 3, 1, 1)
        c1 = self._u(n, 3, 1, 1)
        gray = (self._u(n, 1, 1, 1) < cfg.gray_probability).float()
        c0 = c0 + gray * (c0.mean(1, keepdim=True) - c0)
        c1 = c1 + gray * (c1.mean(1, keepdim=True) - c1)
        tex = c0 + (c1 - c0) * s
        cn = self._noise(n, 3, octaves=(4, 16, 64)) * self._u(n, 1, 1, 1, hi=0.12)
        tex = tex + cn + gray * (cn.mean(1, keepdim=True) - cn)
        if self.photos is not None and cfg.photo_probability > 0:
            use = self._u(n) < cfg.photo_probability
            if bool(use.any()):
                m = int(use.sum())
                idx = torch.randint(0, self.photos.shape[0], (m,), generator=self.gen, device=dev)
                ang = self._u(m, lo=-math.pi, hi=math.pi)
                sc = torch.exp(self._u(m, lo=math.log(0.5), hi=math.log(1.5)))  # photo px per output px
                ph, pw = self.photos.shape[2:]
                cs, sn = torch.ones(m, device=dev), torch.zeros(m, device=dev)  # photos mostly upright
                rotated = self._u(m) < 0.4
                cs = torch.where(rotated, torch.cos(ang), cs)
                sn = torch.where(rotated, torch.sin(ang), sn)
                # affine_grid maps output normalised coords to photo normalised coords:
                # theta = diag(2/pw, 2/ph) . sc R . diag(W/2, H/2), window kept inside the photo if it fits
                theta = torch.zeros(m, 2, 3, device=dev)
                theta[:, 0, 0] = sc * cs * W / pw
                theta[:, 0, 1] = -sc * sn * H / pw
                theta[:, 1, 0] = sc * sn * W / ph
                theta[:, 1, 1] = sc * cs * H / ph
                theta[:, 0, 2] = self._u(m, lo=-1, hi=1) * (1 - sc * W / pw).clamp(min=0)
                theta[:, 1, 2] = self._u(m, lo=-1, hi=1) * (1 - sc * H / ph).clamp(min=0)
                grid = F.affine_grid(theta, (m, 3, H, W), align_corners=False)
                crop = F.grid_sample(self.photos[idx], grid, mode="bilinear", padding_mode="reflection",
                                     align_corners=False)
                crop_gray = self._u(m, 1, 1, 1) < cfg.gray_probability
                crop = torch.where(crop_gray, crop.mean(1, keepdim=True).expand(-1, 3, -1, -1), crop)
                tex = tex.clone()
                tex[use] = crop
        return tex.clamp(0, 1)

    # -- shapes -----------------------------------------------------------------------------------------
    def _masks(self, n):
        """n soft masks [n, 1, H, W] centred in the canonical frame: convex polygon, ellipse or noise blob."""
        H, W = self.cfg.height, self.cfg.width
        x = self.pix[..., 0][None] - (W - 1) / 2
        y = self.pix[..., 1][None] - (H - 1) / 2
        r = self._u(n, 1, 1, lo=0.08, hi=0.3) * min(H, W) * 1.0
        # ellipse
        ar = torch.exp(self._u(n, 1, 1, lo=-0.7, hi=0.7))
        ell = r - torch.sqrt((x * ar) ** 2 + (y / ar) ** 2)   # signed distance-ish (px), >0 inside
        # convex polygon as intersection of k half-planes at random angles (k = 3..8)
        k = 7
        ang = torch.sort(self._u(n, k, lo=0, hi=2 * math.pi), dim=1).values
        active = torch.arange(k, device=self.device)[None] < torch.randint(3, k + 1, (n, 1), generator=self.gen,
                                                                            device=self.device)
        dist = r[:, 0] * self._u(n, k, lo=0.6, hi=1.2)
        proj = x[:, None] * torch.cos(ang)[..., None, None] + y[:, None] * torch.sin(ang)[..., None, None]
        margin = dist[..., None, None] - proj
        poly = (margin + (~active[..., None, None]).float() * 1e4).min(1).values
        # ensure small polygons from few half-planes stay bounded
        poly = torch.minimum(poly, 1.6 * r - torch.sqrt(x ** 2 + y ** 2))
        # blob: low-frequency noise minus radial falloff
        nz = self._noise(n, 1, octaves=(3, 6, 12))[:, 0]
        rho = torch.sqrt((x * ar) ** 2 + (y / ar) ** 2) / r
        blob = (0.8 * nz + 1.6 - 1.6 * rho ** 2) * r * 0.5
        kinds = torch.randint(0, 3, (n,), generator=self.gen, device=self.device)
        sd = torch.stack([poly, ell, blob], 1).gather(1, kinds[:, None, None, None].expand(-1, 1, H, W))
        return torch.sigmoid(2.5 * sd)  # ~1 px anti-aliased edge

    # -- geometry ---------------------------------------------------------------------------------------
    @staticmethod
    def _rot_scale(angle, sx, sy, shear=None):
        c, s = torch.cos(angle), torch.sin(angle)
        # R(angle) @ diag(sx, sy)
        A = torch.stack([torch.stack([c * sx, -s * sy], -1), torch.stack([s * sx, c * sy], -1)], -2)
        return A

    def sample(self, batch: int):
        """Returns img1, img2 [B,3,H,W] in [0,1], flow [B,2,H,W] (px), valid [B,H,W]."""
        cfg, H, W, dev = self.cfg, self.cfg.height, self.cfg.width, self.device
        L = cfg.max_layers + 1
        n = batch * L
        tscale = cfg.max_translation * W / cfg.reference_width

        if self.refresh >= 1.0 or self.pool is None or self.pool[0].shape[0] != n:
            tex = self._textures(n)                                    # [n, 3, H, W]
            alpha = self._masks(n)                                     # [n, 1, H, W]
            if self.refresh < 1.0:
                self.pool = (tex, alpha)
                tex, alpha = tex.clone(), alpha.clone()
        else:
            k = max(1, round(self.refresh * n))
            slots = torch.randperm(n, generator=self.gen, device=dev)[:k]
            self.pool[0][slots] = self._textures(k)
            self.pool[1][slots] = self._masks(k)
            pick = torch.randint(0, n, (n,), generator=self.gen, device=dev)
            tex, alpha = self.pool[0][pick], self.pool[1][pick]
        alpha = alpha.view(batch, L, 1, H, W)
        alpha[:, 0] = 1.0                                              # background
        nfg = torch.randint(cfg.min_layers, cfg.max_layers + 1, (batch, 1), generator=self.gen, device=dev)
        present = torch.arange(1, L, device=dev)[None] <= nfg          # [B, L-1]
        alpha[:, 1:] = alpha[:, 1:] * present[..., None, None, None]
        rgba = torch.cat([tex.view(batch, L, 3, H, W), alpha], 2).view(n, 4, H, W)

        # G1: canonical q -> frame p:  p = c1 + A1 (q - cq)
        cq = torch.tensor([(W - 1) / 2, (H - 1) / 2], device=dev)
        ang1 = self._u(batch, L, lo=-math.pi, hi=math.pi)
        s1 = torch.exp(self._u(batch, L, lo=math.log(0.6), hi=math.log(1.6)))
        A1 = self._rot_scale(ang1, s1, s1)
        c1 = torch.stack([self._u(batch, L, lo=-0.1, hi=1.1) * W, self._u(batch, L, lo=-0.1, hi=1.1) * H], -1)
        # background: fills the frame, zoomed in a bit so reflections are rare, small rotation
        bg_ang = self._u(batch, lo=-0.3, hi=0.3)
        bg_s = torch.exp(self._u(batch, lo=math.log(1.0), hi=math.log(2.0)))
        A1[:, 0] = self._rot_scale(bg_ang, bg_s, bg_s)
        c1[:, 0] = cq

        # M: motion about the layer centre:  p2 = c1 + t + AM (p - c1)
        mag = self._u(batch, L) ** 1.5                                 # favour small, allow large
        dirn = self._u(batch, L, lo=0, hi=2 * math.pi)
        t = torch.stack([torch.cos(dirn), torch.sin(dirn)], -1) * (mag * tscale * math.sqrt(2))[..., None]
        t = t.clamp(-tscale, tscale)
        t[:, 0] = t[:, 0] * cfg.bg_translation_fraction
        still = self._u(batch, L) < 0.05                               # some layers do not move at all
        rot = self._u(batch, L, lo=-1, hi=1) * math.radians(cfg.max_rotation_deg)
        ls = self._u(batch, L, lo=-1, hi=1) * cfg.max_log_scale
        aniso = self._u(batch, L, lo=-1, hi=1) * cfg.max_log_scale * 0.3
        rot[:, 0] *= 0.3
        ls[:, 0] *= 0.5
        aniso[:, 0] *= 0.3
        AM = self._rot_scale(rot, torch.exp(ls + aniso), torch.exp(ls - aniso))
        eye = torch.eye(2, device=dev).expand(batch, L, 2, 2)
        AM = torch.where(still[..., None, None], eye, AM)
        t = torch.where(still[..., None], torch.zeros_like(t), t)

        A2 = AM @ A1
        c2 = c1 + t   # p2 = c1 + t + AM A1 (q - cq)

        def render(A, c):
            Ainv = torch.linalg.inv(A).view(n, 1, 1, 2, 2)
            d = self.pix[None] - c.view(n, 1, 1, 2)                    # [n, H, W, 2]
            q = (Ainv @ d[..., None])[..., 0] + cq                     # canonical pixel coordinates
            g = torch.stack([(2 * q[..., 0] + 1) / W - 1, (2 * q[..., 1] + 1) / H - 1], -1)
            bg = F.grid_sample(rgba.view(batch, L, 4, H, W)[:, 0], g.view(batch, L, H, W, 2)[:, 0],
                               mode="bilinear", padding_mode="reflection", align_corners=False)
            fg = F.grid_sample(rgba.view(batch, L, 4, H, W)[:, 1:].reshape(-1, 4, H, W),
                               g.view(batch, L, H, W, 2)[:, 1:].reshape(-1, H, W, 2),
                               mode="bilinear", padding_mode="zeros", align_corners=False)
            fg = fg.view(batch, L - 1, 4, H, W)
            img = bg[:, :3]
            top = torch.zeros(batch, H, W, dtype=torch.long, device=dev)
            for i in range(L - 1):
                a = fg[:, i, 3:4]
                img = img * (1 - a) + fg[:, i, :3] * a
                top = torch.where(a[:, 0] > 0.5, torch.full_like(top, i + 1), top)
            return img, top

        img1, top1 = render(A1.reshape(n, 2, 2), c1.reshape(n, 2))
        img2, _ = render(A2.reshape(n, 2, 2), c2.reshape(n, 2))

        # flow of frame-1 pixel p under the top layer i:  M_i(p) - p = t + (AM - I)(p - c1)
        AMt = AM.gather(1, top1.view(batch, H * W, 1, 1).expand(-1, -1, 2, 2))   # [B, HW, 2, 2]
        tt = t.gather(1, top1.view(batch, H * W, 1).expand(-1, -1, 2))
        cc = c1.gather(1, top1.view(batch, H * W, 1).expand(-1, -1, 2))
        d = self.pix.view(1, H * W, 2) - cc
        flow = tt + ((AMt - torch.eye(2, device=dev)) @ d[..., None])[..., 0]
        flow = flow.view(batch, H, W, 2).permute(0, 3, 1, 2).contiguous()

        if cfg.photometric:
            img1, img2 = self._photometric(img1, img2)
        valid = torch.ones(batch, H, W, device=dev)
        return img1, img2, flow, valid

    def _photometric(self, img1, img2):
        """Colour jitter shared by both frames plus a small per-frame change, gamma, and sensor noise."""
        B = img1.shape[0]
        u = lambda lo, hi, *s: self._u(B, *s, lo=lo, hi=hi)
        out = []
        brightness = u(0.6, 1.4, 1, 1, 1)
        contrast = u(0.6, 1.4, 1, 1, 1)
        saturation = u(0.5, 1.5, 1, 1, 1)
        gains = u(0.85, 1.15, 3, 1, 1)
        gamma = torch.exp(u(-0.3, 0.3, 1, 1, 1))
        for k, img in enumerate((img1, img2)):
            jitter = u(0.95, 1.05, 1, 1, 1) if k == 1 else 1.0
            g = img.mean(1, keepdim=True)
            img = g + (img - g) * saturation
            img = img * gains * brightness * jitter
            m = img.mean(dim=(1, 2, 3), keepdim=True)
            img = (img - m) * contrast + m
            img = img.clamp(0, 1) ** gamma
            noise = self._n(*img.shape) * (self._u(B, 1, 1, 1) * self.cfg.noise_std)
            out.append((img + noise).clamp(0, 1))
        return out[0], out[1]


def warp_check(i1, i2, fl):
    """|I1 - I2(p + flow)| on pixels whose target is inside the frame (median, mean, 90 %), and unwarped."""
    H, W = i1.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(H).float(), torch.arange(W).float(), indexing="ij")
    x2, y2 = xs + fl[:, 0], ys + fl[:, 1]
    grid = torch.stack([(2 * x2 + 1) / W - 1, (2 * y2 + 1) / H - 1], -1)
    warped = F.grid_sample(i2, grid, align_corners=False, padding_mode="border")
    inside = (x2 >= 0) & (x2 <= W - 1) & (y2 >= 0) & (y2 <= H - 1)
    e = (warped - i1).abs().mean(1)[inside]
    e0 = (i2 - i1).abs().mean(1)[inside]
    return e, e0, warped


def write_preview(path, i1, i2, fl, rows=6):
    """A PNG grid, one row per sample: frame 1, frame 2, frame 2 warped back by the flow, the flow's colours."""
    import cv2
    import numpy as np
    from torchvision.utils import flow_to_image
    _, _, warped = warp_check(i1, i2, fl)
    grid = torch.cat([torch.cat([i1[b], i2[b], warped[b], flow_to_image(fl[b]).float() / 255], 2)
                      for b in range(min(len(i1), rows))], 1)
    cv2.imwrite(path, (grid.permute(1, 2, 0).numpy()[..., ::-1] * 255).astype(np.uint8))
    print("wrote", path)


def write_flo(path, flow_hw2):
    """Middlebury .flo: float32 202021.25, int32 w, int32 h, then (u, v) interleaved, little-endian."""
    import numpy as np
    f = np.asarray(flow_hw2, dtype="<f4")
    h, w = f.shape[:2]
    with open(path, "wb") as fh:
        fh.write(np.array([202021.25], dtype="<f4").tobytes())
        fh.write(np.array([w, h], dtype="<i4").tobytes())
        fh.write(f.reshape(-1).tobytes())


def read_flo(path):
    import numpy as np
    with open(path, "rb") as fh:
        magic = np.frombuffer(fh.read(4), dtype="<f4")[0]
        assert abs(magic - 202021.25) < 1e-3, f"{path}: bad .flo magic {magic}"
        w, h = np.frombuffer(fh.read(8), dtype="<i4")
        return np.frombuffer(fh.read(), dtype="<f4").reshape(h, w, 2)


if __name__ == "__main__":
    import argparse, time
    p = argparse.ArgumentParser(description="Preview / time the synthetic generator")
    p.add_argument("--height", type=int, default=160)
    p.add_argument("--width", type=int, default=224)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--refresh", type=float, default=1.0)
    p.add_argument("--out", default=None, help="write a PNG preview grid here")
    p.add_argument("--check", action="store_true",
                   help="photometric off: report |frame1 - frame2 warped back by the ground truth|")
    a = p.parse_args()
    if a.check:
        torch.set_num_threads(a.threads)
        g = SyntheticFlow(SyntheticConfig(height=a.height, width=a.width, photometric=False), seed=a.seed)
        i1, i2, fl, _ = g.sample(a.batch)
        e, e0, _ = warp_check(i1, i2, fl)
        print(f"|I1 - warp(I2, gt)| on in-frame pixels: median {e.median():.5f}, mean {e.mean():.4f} "
              f"(occlusions), 90% {e.quantile(0.9):.4f};  |I1 - I2|: median {e0.median():.4f}, mean {e0.mean():.4f}")
        raise SystemExit
    torch.set_num_threads(a.threads)
    g = SyntheticFlow(SyntheticConfig(height=a.height, width=a.width), seed=a.seed, refresh=a.refresh)
    print("photos:", None if g.photos is None else tuple(g.photos.shape))
    for _ in range(3):
        t0 = time.time()
        i1, i2, fl, v = g.sample(a.batch)
        print(f"batch {a.batch} {a.height}x{a.width}: {time.time() - t0:.3f}s  |flow| max {fl.norm(dim=1).max():.1f} "
              f"mean {fl.norm(dim=1).mean():.1f}")
    if a.out:
        write_preview(a.out, i1, i2, fl)
