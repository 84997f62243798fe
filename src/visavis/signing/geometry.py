"""Where on a page, as the reader sees it: fractions of the displayed page (origin
top-left, `/Rotate` applied, the crop box as the visible area) to PDF user space and
back. The browser places signatures on rendered pages, so spots arrive in display
fractions; the PDF wants user-space points.
"""

from __future__ import annotations

from dataclasses import dataclass

import pikepdf

# user space = M · display, with display in points, origin bottom-left, y up
Matrix = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class Frame:
    x0: float
    y0: float
    x1: float
    y1: float
    rotate: int  # 0, 90, 180, 270 (clockwise when displayed)

    @property
    def display_size(self) -> tuple[float, float]:
        w, h = self.x1 - self.x0, self.y1 - self.y0
        return (h, w) if self.rotate in (90, 270) else (w, h)

    def display_to_user(self) -> Matrix:
        """(a, b, c, d, e, f): x' = a·x + c·y + e, y' = b·x + d·y + f, mapping display
        points (origin bottom-left of what the reader sees) to user space."""
        x0, y0, x1, y1 = self.x0, self.y0, self.x1, self.y1
        if self.rotate == 90:
            return (0, 1, -1, 0, x1, y0)
        if self.rotate == 180:
            return (-1, 0, 0, -1, x1, y1)
        if self.rotate == 270:
            return (0, -1, 1, 0, x0, y1)
        return (1, 0, 0, 1, x0, y0)

    def user_to_display(self, x: float, y: float) -> tuple[float, float]:
        """A user-space point in display points (origin bottom-left)."""
        a, b, c, d, e, f = self.display_to_user()
        # the matrix is a rotation by a multiple of 90°: its inverse is its transpose
        dx, dy = x - e, y - f
        return (a * dx + b * dy, c * dx + d * dy)


def page_frame(page: pikepdf.Page) -> Frame:
    # both inherit from the page tree; the crop box falls back to the media box
    box = [float(v) for v in page.cropbox]
    x0, x1 = sorted((box[0], box[2]))
    y0, y1 = sorted((box[1], box[3]))
    rotate = int(page.rotation) % 360
    if rotate not in (0, 90, 180, 270):
        rotate = 0  # viewers ignore a /Rotate that is no multiple of 90
    return Frame(x0, y0, x1, y1, rotate)
