"""Photographs used as textures, where they come from, their licences, and the train / validation split.

Nothing is downloaded at run time: every image ships inside a PyPI wheel or a Debian package.

* ``skimage:<name>``: scikit-image's bundled sample images (``skimage/data/``), licences as stated in
  ``skimage.data.<name>``'s docstring (scikit-image 0.26);
* ``lomiri:<file>``: photographs in Debian's ``lomiri-wallpapers-16.04`` (``apt-get install
  lomiri-wallpapers-16.04``; files in ``/usr/share/backgrounds/``), licences from the package's
  ``/usr/share/doc/lomiri-wallpapers-16.04/copyright`` (DEP-5). Only the CC-BY-4.0 and CC0-1.0 photographs
  are used (the package's CC-BY-SA ones are not);
* ``mpl:<file>``: matplotlib's ``mpl-data/sample_data/``;
* ``pywt:<name>``: PyWavelets' ``pywt.data``.

Training and validation lists are disjoint: validation (validate.py) uses only images that training never
sees. CC-BY-4.0 images require attribution, which the model card's licence table gives.
"""
from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F

LOMIRI_DIR = "/usr/share/backgrounds"

LICENCES = {
    # scikit-image (as in synthetic.PHOTO_LICENCES), plus retina
    "skimage:astronaut": "public domain: NASA Great Images, \"No known copyright restrictions, released into the public domain\"",
    "skimage:coffee": "CC0 by the photographer (Rachel Michetti), \"No copyright restrictions\"",
    "skimage:chelsea": "CC0 by the photographer (Stefan van der Walt), \"No copyright restrictions\"",
    "skimage:rocket": "public domain: SpaceX photo, released in the public domain",
    "skimage:hubble_deep_field": "public domain: NASA HubbleSite, \"may be freely used in the public domain\"",
    "skimage:immunohistochemistry": "\"No known copyright restrictions\" (Center for Microscopy And Molecular Imaging); no explicit PD/CC0 dedication",
    "skimage:camera": "CC0 by the photographer (Lav Varshney), \"No copyright restrictions\"",
    "skimage:coins": "\"No known copyright restrictions\" (Brooklyn Museum Collection); no explicit PD/CC0 dedication",
    "skimage:brick": "CC0 (CC0Textures 'Bricks25', CC0 License)",
    "skimage:grass": "CC0 (DeviantArt linolafett 'Grass-01', CC0 License)",
    "skimage:gravel": "CC0 (CC0Textures 'Gravel04', CC0 License)",
    "skimage:retina": "CC0 1.0 (Mikael Häggström, Wikimedia Commons 'Fundus photograph of normal left eye')",
    # Debian lomiri-wallpapers-16.04 (debian/copyright)
    "lomiri:aitzgorri_by_Aitzol_Berasategi.jpg": "CC-BY-4.0, © 2018 Aitzol Berasategi (Debian lomiri-wallpapers-16.04)",
    "lomiri:life_by_Aitzol_Berasategi.jpg": "CC-BY-4.0, © 2018 Aitzol Berasategi (Debian lomiri-wallpapers-16.04)",
    "lomiri:sunset_by_Aitzol_Berasategi.jpg": "CC-BY-4.0, © 2018 Aitzol Berasategi (Debian lomiri-wallpapers-16.04)",
    "lomiri:Picture_0B_by_freespace.jpg": "CC-BY-4.0, © 2018 Trevor \"Freespace\" (Debian lomiri-wallpapers-16.04)",
    "lomiri:Picture_1A_by_freespace.jpg": "CC-BY-4.0, © 2018 Trevor \"Freespace\" (Debian lomiri-wallpapers-16.04)",
    "lomiri:seeding_by_Clements_Engelhardt.jpg": "CC0-1.0, Clemens Engelhardt 2018 (Debian lomiri-wallpapers-16.04)",
    # validation only
    "lomiri:picosdeeuropa_by_Aitzol_Berasategi.jpg": "CC-BY-4.0, © 2018 Aitzol Berasategi (Debian lomiri-wallpapers-16.04)",
    "lomiri:friends_by_Aitzol_Berasategi.jpg": "CC-BY-4.0, © 2018 Aitzol Berasategi (Debian lomiri-wallpapers-16.04)",
    "lomiri:Wine_by_Jakkub_Mede.jpg": "CC-BY-4.0, © 2018 Jakub Mede (Debian lomiri-wallpapers-16.04)",
    "mpl:grace_hopper.jpg": "public domain (U.S. Navy official photograph of Grace M. Hopper); ships in matplotlib's sample_data",
    "pywt:ascent": "public domain (pywt.data docstring: derived from accent-to-the-top.jpg, public-domain-image.com)",
}

TRAIN_PHOTOS = [
    "skimage:astronaut", "skimage:coffee", "skimage:chelsea", "skimage:rocket", "skimage:hubble_deep_field",
    "skimage:immunohistochemistry", "skimage:camera", "skimage:coins", "skimage:brick", "skimage:grass",
    "skimage:gravel", "skimage:retina",
    "lomiri:aitzgorri_by_Aitzol_Berasategi.jpg", "lomiri:life_by_Aitzol_Berasategi.jpg",
    "lomiri:sunset_by_Aitzol_Berasategi.jpg", "lomiri:Picture_0B_by_freespace.jpg",
    "lomiri:Picture_1A_by_freespace.jpg", "lomiri:seeding_by_Clements_Engelhardt.jpg",
]
VALIDATION_PHOTOS = [
    "lomiri:picosdeeuropa_by_Aitzol_Berasategi.jpg", "lomiri:friends_by_Aitzol_Berasategi.jpg",
    "lomiri:Wine_by_Jakkub_Mede.jpg", "mpl:grace_hopper.jpg", "pywt:ascent",
]
assert not set(TRAIN_PHOTOS) & set(VALIDATION_PHOTOS)


def read_photo(name: str) -> np.ndarray | None:
    """HxWx3 (or HxW) uint8/float array of one named photograph, or None when its package is missing."""
    src, key = name.split(":", 1)
    try:
        if src == "skimage":
            import skimage.data as skd
            return getattr(skd, key)()
        if src == "lomiri":
            path = os.path.join(LOMIRI_DIR, key)
            if not os.path.exists(path):
                return None
            import cv2
            return cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1].copy()
        if src == "mpl":
            import matplotlib
            import cv2
            path = os.path.join(matplotlib.get_data_path(), "sample_data", key)
            return cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1].copy()
        if src == "pywt":
            import pywt.data
            return getattr(pywt.data, key)()
    except Exception:
        return None
    raise ValueError(f"unknown photo source in {name!r}")


def _fit(t, height, width):
    """Aspect-filling resize (antialiased) and centre crop of t [3, h, w] to [3, height, width]."""
    h, w = t.shape[1:]
    s = max(height / h, width / w)
    t = F.interpolate(t[None], size=(max(height, round(h * s)), max(width, round(w * s))),
                      mode="bilinear", align_corners=False, antialias=True)[0]
    y0, x0 = (t.shape[1] - height) // 2, (t.shape[2] - width) // 2
    return t[:, y0:y0 + height, x0:x0 + width]


def load_photos(names, height=480, width=640, zooms=True, verbose=False) -> torch.Tensor | None:
    """[P, 3, height, width] float RGB in [0, 1]: each photograph aspect-filled to the size, and for large
    photographs (> 2x the size) also two half-size crops (left/top and right/bottom halves), which keep
    their fine detail. Missing sources are skipped (with a note when ``verbose``)."""
    out = []
    for name in names:
        img = read_photo(name)
        if img is None:
            if verbose:
                print(f"photos: {name} not available, skipped")
            continue
        t = torch.from_numpy(np.ascontiguousarray(img)).float()
        if t.max() > 1.5:
            t = t / 255.0
        t = t[None].expand(3, -1, -1) if t.dim() == 2 else t[..., :3].permute(2, 0, 1)
        out.append(_fit(t, height, width))
        h, w = t.shape[1:]
        if zooms and min(h / height, w / width) > 2:
            if w >= h:
                halves = (t[:, :, : w // 2], t[:, :, w // 2:])
            else:
                halves = (t[:, : h // 2], t[:, h // 2:])
            out.extend(_fit(x, height, width) for x in halves)
    return torch.stack(out).clamp(0, 1) if out else None


if __name__ == "__main__":
    for lst, label in ((TRAIN_PHOTOS, "train"), (VALIDATION_PHOTOS, "validation")):
        bank = load_photos(lst, verbose=True)
        print(label, len(lst), "images ->", None if bank is None else tuple(bank.shape))
