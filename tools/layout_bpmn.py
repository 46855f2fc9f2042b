#!/usr/bin/env python3
"""Draw a BPMN file: add (or replace) its diagram interchange (bpmndi).

    python tools/layout_bpmn.py bpmn/client_ownership.bpmn        # in place
    python tools/layout_bpmn.py in.bpmn -o out.bpmn
    python tools/layout_bpmn.py --check bpmn/*.bpmn               # has complete DI?

A process written by hand (or generated) has the semantics but no picture;
bpmn-js needs one shape per participant, lane and flow node and one edge per
sequence flow. This lays them out:

* one pool per participant, one horizontal band per lane, in laneSet order;
* columns by longest-path layering of the sequence-flow graph from the start
  event(s), after a depth-first search has set aside back edges (edges to a
  node still on the search stack, i.e. the loops "send back -> resubmit");
* within a lane, nodes of the same column are stacked in rows, the default
  flow of a gateway keeping its row, so the main path runs straight;
* orthogonal edges from the source's right side to the target's left side,
  gateways branching from their top or bottom corner, back edges routed
  around above or below; every route is picked from a set of candidates by
  a score (collisions with shapes, crossings, overlaps, bends, length);
* labels of events, gateways and named flows placed where they hit nothing.

Only the diagram is written: every other byte of the file is kept as it was
(the new bpmndi:BPMNDiagram is spliced into the original text, and the result
is checked to hold exactly the same model). Standard library + lxml.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
ACTIVITIES = {
    "task",
    "userTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "manualTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
}
FLOW_NODES = EVENTS | GATEWAYS | ACTIVITIES
SIZES = {"event": (36, 36), "gateway": (50, 50), "activity": (100, 80)}

# Geometry (px). bpmn-js draws lane and pool names in a 30 px header.
ORIGIN_X, ORIGIN_Y = 160, 80
POOL_HEADER = 30
LANE_HEADER = 30
POOL_GAP = 60
PAD_LEFT, PAD_RIGHT = 50, 60
COL_GAP = 80
WIDE_GAP = 115  # after a column with a gateway or a named flow leaving it: room for labels
ROW_SLOT, ROW_GAP = 80, 70
LANE_PAD_TOP, LANE_PAD_BOTTOM = 45, 55

# Text metrics of bpmn-js labels (Arial 11px, line height 1.2, 90 px wide).
LABEL_WIDTH = 90
LINE_HEIGHT = 13.2

# Route scores.
HIT_SHAPE = 10000
OUTSIDE = 10000
OVERLAP = 400
CROSSING = 25
BEND = 15
PER_PX = 0.15


def local(el) -> str:
    return etree.QName(el).localname


def kind_of(tag: str) -> str:
    if tag in EVENTS:
        return "event"
    if tag in GATEWAYS:
        return "gateway"
    return "activity"


# --------------------------------------------------------------------------
# Geometry helpers


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def grown(self, d: float) -> Box:
        return Box(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)

    def overlaps(self, o: Box) -> bool:
        return self.x < o.right and o.x < self.right and self.y < o.bottom and o.y < self.bottom

    def contains(self, o: Box) -> bool:
        return self.x <= o.x and self.y <= o.y and o.right <= self.right and o.bottom <= self.bottom

    def hits_segment(self, a, b) -> bool:
        """An axis-parallel segment a-b passes through the open interior."""
        (x1, y1), (x2, y2) = a, b
        if y1 == y2:
            lo, hi = sorted((x1, x2))
            return self.y < y1 < self.bottom and lo < self.right and self.x < hi
        lo, hi = sorted((y1, y2))
        return self.x < x1 < self.right and lo < self.bottom and self.y < hi


def segments(points):
    return list(zip(points, points[1:], strict=False))


def simplify(points):
    """Drop repeated and collinear middle points."""
    out = []
    for p in points:
        p = (round(p[0]), round(p[1]))
        if out and p == out[-1]:
            continue
        out.append(p)
    changed = True
    while changed:
        changed = False
        for i in range(1, len(out) - 1):
            (x0, y0), (x1, y1), (x2, y2) = out[i - 1], out[i], out[i + 1]
            if (x0 == x1 == x2) or (y0 == y1 == y2):
                del out[i]
                changed = True
                break
    return out


def orthogonal(points) -> bool:
    return all(a[0] == b[0] or a[1] == b[1] for a, b in segments(points))


def backtracks(points) -> bool:
    """A route that doubles back on itself along one line."""
    for (a, b), (_, c) in zip(segments(points), segments(points)[1:], strict=False):
        if a[0] == b[0] == c[0] and (b[1] - a[1]) * (c[1] - b[1]) < 0:
            return True
        if a[1] == b[1] == c[1] and (b[0] - a[0]) * (c[0] - b[0]) < 0:
            return True
    return False


def seg_length(a, b) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def collinear_overlap(s, t) -> bool:
    (a, b), (c, d) = s, t
    if a[1] == b[1] == c[1] == d[1]:
        lo1, hi1 = sorted((a[0], b[0]))
        lo2, hi2 = sorted((c[0], d[0]))
        return min(hi1, hi2) - max(lo1, lo2) > 2
    if a[0] == b[0] == c[0] == d[0]:
        lo1, hi1 = sorted((a[1], b[1]))
        lo2, hi2 = sorted((c[1], d[1]))
        return min(hi1, hi2) - max(lo1, lo2) > 2
    return False


def crosses(s, t) -> bool:
    (a, b), (c, d) = s, t
    if a[1] == b[1] and c[0] == d[0]:
        h, v = (a, b), (c, d)
    elif a[0] == b[0] and c[1] == d[1]:
        h, v = (c, d), (a, b)
    else:
        return False
    hx = sorted((h[0][0], h[1][0]))
    vy = sorted((v[0][1], v[1][1]))
    return hx[0] < v[0][0] < hx[1] and vy[0] < h[0][1] < vy[1]


def text_lines(text: str, width: float = LABEL_WIDTH) -> list[float]:
    """Widths of the lines bpmn-js will wrap `text` into (an estimate)."""

    def char_w(ch):
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            return 11.2
        if ch == " ":
            return 3.1
        if ch.isupper():
            return 7.4
        if ch.isdigit():
            return 6.2
        if ch in "il.,:;'|!()[]":
            return 3.2
        if ch in "mwMW":
            return 9.0
        return 5.9

    lines, cur = [], 0.0
    for word in text.split():
        w = sum(char_w(c) for c in word)
        if cur and cur + 3.1 + w <= width:
            cur += 3.1 + w
            continue
        if cur:
            lines.append(cur)
        while w > width:  # a long word is cut
            lines.append(width)
            w -= width
        cur = w
    if cur:
        lines.append(cur)
    return lines or [0.0]


# --------------------------------------------------------------------------
# Model


@dataclass
class Node:
    id: str
    tag: str
    name: str
    kind: str
    lane: str | None = None
    attached_to: str | None = None
    default: str | None = None
    col: int = 0
    row: int = 0
    box: Box | None = None
    label: Box | None = None

    @property
    def size(self):
        return SIZES[self.kind]


@dataclass
class Flow:
    id: str
    name: str
    source: str
    target: str
    back: bool = False
    points: list = field(default_factory=list)
    label: Box | None = None


@dataclass
class Lane:
    id: str
    name: str
    rows: int = 1
    box: Box | None = None


@dataclass
class Pool:
    participant: str | None
    name: str
    process: str | None
    lanes: list = field(default_factory=list)
    nodes: dict = field(default_factory=dict)
    flows: list = field(default_factory=list)
    box: Box | None = None


class Layouter:
    def __init__(self, pool: Pool, origin_y: float, warnings: list):
        self.pool = pool
        self.origin_y = origin_y
        self.warn = warnings.append
        self.routed: list[Flow] = []
        self.labels: list[Box] = []

    # ---------------------------------------------------------------- graph

    def out_flows(self, node_id):
        node = self.pool.nodes[node_id]
        flows = [f for f in self.pool.flows if f.source == node_id]
        flows.sort(key=lambda f: f.id != node.default)  # default flow first (stable)
        return flows

    def search(self):
        """Depth-first search from the start events: marks back edges and
        returns the visiting order and the discovering parent of each node."""
        nodes = self.pool.nodes
        children = {nid: [f.target for f in self.out_flows(nid)] for nid in nodes}
        for n in nodes.values():  # a boundary event hangs off its host, after its normal flows
            if n.attached_to in nodes:
                children[n.attached_to].append(n.id)
        incoming = {f.target for f in self.pool.flows}
        roots = [n.id for n in nodes.values() if n.tag == "startEvent"]
        roots += [nid for nid, n in nodes.items() if nid not in incoming and not n.attached_to and nid not in roots]
        roots += list(nodes)
        state, order, parent, back = {}, [], {}, set()
        for root in roots:
            if root in state:
                continue
            state[root] = "open"
            order.append(root)
            stack = [(root, iter(children[root]))]
            while stack:
                nid, it = stack[-1]
                for child in it:
                    if state.get(child) == "open":
                        back.add((nid, child))
                    elif child not in state:
                        state[child] = "open"
                        order.append(child)
                        parent[child] = nid
                        stack.append((child, iter(children[child])))
                        break
                else:
                    state[nid] = "done"
                    stack.pop()
        for f in self.pool.flows:
            f.back = (f.source, f.target) in back
        return order, parent

    def layer(self):
        """Longest-path layering of the graph without its back edges."""
        nodes = self.pool.nodes
        edges = [(f.source, f.target, 1) for f in self.pool.flows if not f.back]
        edges += [(n.attached_to, n.id, 0) for n in nodes.values() if n.attached_to in nodes]
        indeg = {nid: 0 for nid in nodes}
        succ = {nid: [] for nid in nodes}
        for s, t, w in edges:
            succ[s].append((t, w))
            indeg[t] += 1
        col = {nid: 0 for nid in nodes}
        ready = [nid for nid in nodes if indeg[nid] == 0]
        while ready:
            nid = ready.pop(0)
            for t, w in succ[nid]:
                col[t] = max(col[t], col[nid] + w)
                indeg[t] -= 1
                if indeg[t] == 0:
                    ready.append(t)
        for nid, n in nodes.items():
            n.col = col[nid]

    def assign_rows(self, order, parent):
        """Rows within each lane: a node keeps the row of the node that led to
        it when that slot is free; a straight same-row edge reserves the slots
        it passes through."""
        nodes = self.pool.nodes
        taken = set()
        for nid in order:
            n = nodes[nid]
            if n.attached_to:
                continue
            p = nodes.get(parent.get(nid))
            if p is not None and p.attached_to:
                p = nodes.get(p.attached_to)
            want = p.row if p is not None and p.lane == n.lane else 0
            row = want
            while (n.lane, n.col, row) in taken:
                row += 1
            n.row = row
            taken.add((n.lane, n.col, row))
            if p is not None and p.lane == n.lane and p.row == row:
                for c in range(p.col + 1, n.col):
                    taken.add((n.lane, c, row))
        for lane in self.pool.lanes:
            lane.rows = 1 + max((n.row for n in nodes.values() if n.lane == lane.id and not n.attached_to), default=0)

    # ------------------------------------------------------------- geometry

    def place(self):
        pool, nodes = self.pool, self.pool.nodes
        ncols = 1 + max((n.col for n in nodes.values()), default=0)
        widths = [0] * ncols
        for n in nodes.values():
            if not n.attached_to:
                widths[n.col] = max(widths[n.col], n.size[0])
        widths = [w or 36 for w in widths]
        header = (POOL_HEADER if pool.participant else 0) + (LANE_HEADER if pool.lanes else 0)
        wide = {n.col for n in nodes.values() if n.kind == "gateway"}
        wide |= {nodes[f.source].col for f in pool.flows if f.name}
        gaps = [WIDE_GAP if c in wide else COL_GAP for c in range(ncols)]
        x = ORIGIN_X + header + PAD_LEFT
        self.col_x = []
        for w, gap in zip(widths, gaps, strict=True):
            self.col_x.append(x)
            x += w + gap
        self.col_w = widths
        content_right = x - gaps[-1] + PAD_RIGHT

        bands = pool.lanes or [Lane(id=None, name="", rows=1 + max((n.row for n in nodes.values()), default=0))]
        y = self.origin_y
        for lane in bands:
            h = LANE_PAD_TOP + lane.rows * ROW_SLOT + (lane.rows - 1) * ROW_GAP + LANE_PAD_BOTTOM
            lane.box = Box(
                ORIGIN_X + (POOL_HEADER if pool.participant else 0),
                y,
                content_right - ORIGIN_X - (POOL_HEADER if pool.participant else 0),
                h,
            )
            y += h
        self.bands = bands
        pool.box = Box(ORIGIN_X, self.origin_y, content_right - ORIGIN_X, y - self.origin_y)
        band_of = {lane.id: lane for lane in bands}
        for n in nodes.values():
            if n.attached_to:
                continue
            band = band_of.get(n.lane, bands[0])
            w, h = n.size
            cx = self.col_x[n.col] + widths[n.col] / 2
            cy = band.box.y + LANE_PAD_TOP + n.row * (ROW_SLOT + ROW_GAP) + ROW_SLOT / 2
            n.box = Box(cx - w / 2, cy - h / 2, w, h)
        on_host = {}
        for n in nodes.values():
            if n.attached_to:
                host = nodes.get(n.attached_to)
                if host is None or host.box is None:
                    self.warn(f"{n.id}: attached to unknown {n.attached_to}; placed at its column")
                    band = band_of.get(n.lane, bands[0])
                    n.box = Box(self.col_x[n.col], band.box.y + LANE_PAD_TOP, 36, 36)
                    continue
                k = on_host.get(host.id, 0)
                on_host[host.id] = k + 1
                cx = host.box.right - 25 - 40 * k
                n.box = Box(cx - 18, host.box.bottom - 18, 36, 36)
        self.channels = [self.col_x[i] + widths[i] + gaps[i] / 2 for i in range(ncols)]
        self.channels.insert(0, self.col_x[0] - COL_GAP / 2)
        ys = set()
        for band in bands:
            ys.add(band.box.y + LANE_PAD_TOP / 2)
            ys.add(band.box.bottom - LANE_PAD_BOTTOM / 2)
            for r in range(band.rows - 1):
                ys.add(band.box.y + LANE_PAD_TOP + (r + 1) * ROW_SLOT + r * ROW_GAP + ROW_GAP / 2)
        self.corridors = sorted(ys)

    # -------------------------------------------------------------- routing

    def candidates(self, S: Box, T: Box):
        rm, lm = (S.right, S.cy), (T.x, T.cy)
        s_tb = [(S.cx, S.y), (S.cx, S.bottom)]
        t_tb = [(T.cx, T.y), (T.cx, T.bottom)]
        out = []
        if T.x > S.right:
            out.append([rm, lm])
            for x in self.channels:
                if S.right < x < T.x:
                    out.append([rm, (x, S.cy), (x, T.cy), lm])
            for p in s_tb:
                out.append([p, (S.cx, T.cy), lm])
            for q in t_tb:
                out.append([rm, (T.cx, S.cy), q])
        if abs(S.cx - T.cx) < 1:
            out.append([(S.cx, S.bottom), (T.cx, T.y)] if T.y > S.bottom else [(S.cx, S.y), (T.cx, T.bottom)])
        right_of_s = [x for x in self.channels if x > S.right][:2]
        left_of_t = [x for x in reversed(self.channels) if x < T.x][:2]
        for y in self.corridors + [S.y - 20, S.bottom + 20, T.y - 20, T.bottom + 20]:
            for p in s_tb:
                for q in t_tb:
                    out.append([p, (S.cx, y), (T.cx, y), q])
                for xl in left_of_t:
                    out.append([p, (S.cx, y), (xl, y), (xl, T.cy), lm])
            for xr in right_of_s:
                for q in t_tb:
                    out.append([rm, (xr, S.cy), (xr, y), (T.cx, y), q])
                for xl in left_of_t:
                    out.append([rm, (xr, S.cy), (xr, y), (xl, y), (xl, T.cy), lm])
        return out

    def score(self, points, flow: Flow, S: Box, T: Box, boxes):
        pts = simplify(points)
        if len(pts) < 2 or not orthogonal(pts) or backtracks(pts):
            return math.inf, pts
        segs = segments(pts)
        cost = 0.0
        inner = self.pool.box.grown(-2)
        for a, _ in segs[1:]:
            if not (inner.x <= a[0] <= inner.right and inner.y <= a[1] <= inner.bottom):
                cost += OUTSIDE
        for nid, box in boxes:
            box = box.grown(-2) if nid in (flow.source, flow.target) else box.grown(6)
            for a, b in segs:
                if box.hits_segment(a, b):
                    cost += HIT_SHAPE
        for other in self.routed:
            osegs = segments(other.points)
            for i, s in enumerate(segs):
                for j, t in enumerate(osegs):
                    if collinear_overlap(s, t):
                        # flows may join on their way into one target, not leave a source together
                        merge = other.target == flow.target and i == len(segs) - 1 and j == len(osegs) - 1
                        cost += 0 if merge else OVERLAP
                    elif crosses(s, t):
                        cost += CROSSING
        cost += BEND * (len(pts) - 2)
        cost += PER_PX * sum(seg_length(a, b) for a, b in segs)
        # A gateway's branches leave from its corners, other shapes from the right.
        src, tgt = self.pool.nodes[flow.source], self.pool.nodes[flow.target]
        if src.kind != "gateway" and pts[0][0] != S.right and not flow.back:
            cost += 40
        if tgt.kind != "gateway" and pts[-1][0] != T.x and not flow.back:
            cost += 30
        return cost, pts

    def route(self):
        nodes = self.pool.nodes
        boxes = [(nid, n.box) for nid, n in nodes.items()]
        # straight and short first, back edges last
        flows = sorted(self.pool.flows, key=lambda f: (f.back, nodes[f.target].col - nodes[f.source].col))
        for f in flows:
            S, T = nodes[f.source].box, nodes[f.target].box
            if f.source == f.target:
                x, y = S.right + 20, S.y - 20
                f.points = simplify([(S.right, S.cy), (x, S.cy), (x, y), (S.cx, y), (S.cx, S.y)])
            elif nodes[f.source].attached_to:
                f.points = self.best(
                    f, [[(S.cx, S.bottom), (S.cx, T.cy), (T.x, T.cy)]] + self.candidates(S, T), S, T, boxes
                )
            else:
                f.points = self.best(f, self.candidates(S, T), S, T, boxes)
            self.routed.append(f)

    def best(self, f, cands, S, T, boxes):
        scored = [self.score(c, f, S, T, boxes) for c in cands]
        cost, pts = min(scored, key=lambda cp: cp[0])
        if cost >= HIT_SHAPE:
            self.warn(f"{f.id}: no clear route from {f.source} to {f.target}; drawn through a shape")
        return pts

    # --------------------------------------------------------------- labels

    def label_cost(self, box: Box, own_segments=(), owner=None):
        cost = 0.0
        if not self.pool.box.grown(-2).contains(box):
            cost += 5000
        header = (POOL_HEADER if self.pool.participant else 0) + (LANE_HEADER if self.pool.lanes else 0)
        if box.x < self.pool.box.x + header + 5:
            cost += 5000
        for n in self.pool.nodes.values():
            if n.id != owner and box.overlaps(n.box.grown(3)):
                cost += 3000
            elif n.id == owner and box.overlaps(n.box):
                cost += 3000
        for other in self.labels:
            if box.overlaps(other.grown(3)):
                cost += 3000
        for f in self.routed:
            for a, b in segments(f.points):
                if box.grown(2).hits_segment(a, b) or (
                    box.grown(2).contains(Box(min(a[0], b[0]), min(a[1], b[1]), 0, 0))
                ):
                    cost += 400
        for band in self.bands:
            if band.box.y < box.cy < band.box.bottom and (box.y < band.box.y or box.bottom > band.box.bottom):
                cost += 60
        return cost

    def place_labels(self):
        nodes = self.pool.nodes
        for n in nodes.values():
            if n.kind == "activity" or not n.name:
                continue
            lines = text_lines(n.name)
            w, h = max(lines), math.ceil(len(lines) * LINE_HEIGHT)
            b = n.box
            spots = [
                (b.cx - w / 2, b.bottom + 5),  # below (bpmn-js default)
                (b.cx - w / 2, b.y - 5 - h),  # above
                (b.cx + 7, b.bottom + 5),  # below, right of a flow leaving downwards
                (b.cx - 7 - w, b.bottom + 5),  # below, left of it
                (b.cx + 7, b.y - 5 - h),  # above, right of a flow leaving upwards
                (b.cx - 7 - w, b.y - 5 - h),  # above, left of it
                (b.x - 6 - w, b.bottom - 4),  # below left
                (b.right + 6, b.bottom - 4),  # below right
                (b.x - 6 - w, b.y + 4 - h),  # above left
                (b.right + 6, b.y + 4 - h),  # above right
            ]
            best = min(
                (
                    (self.label_cost(Box(x, y, w, h), owner=n.id) + i * 5, Box(x, y, w, h))
                    for i, (x, y) in enumerate(spots)
                ),
                key=lambda cb: cb[0],
            )
            n.label = best[1]
            self.labels.append(n.label)
        for f in self.pool.flows:
            if not f.name:
                continue
            lines = text_lines(f.name)
            w, h = max(lines), math.ceil(len(lines) * LINE_HEIGHT)
            spots, along = [], 0.0
            for a, b in segments(f.points):
                L = seg_length(a, b)
                if a[1] == b[1]:  # horizontal: above or below
                    sign = 1 if b[0] > a[0] else -1
                    for t in (14 + w / 2, L / 2):
                        if t > L:
                            continue
                        cx = a[0] + sign * t
                        for y in (a[1] - 4 - h, a[1] + 4):
                            spots.append((along + t, Box(cx - w / 2, y, w, h)))
                else:  # vertical: left or right
                    sign = 1 if b[1] > a[1] else -1
                    for t in (16 + h / 2, L / 2):
                        if t > L:
                            continue
                        cy = a[1] + sign * t
                        for x in (a[0] + 7, a[0] - 7 - w):
                            spots.append((along + t, Box(x, cy - h / 2, w, h)))
                along += L
            if not spots:
                continue
            cost, box = min(((self.label_cost(bx) + d * 0.6, bx) for d, bx in spots), key=lambda cb: cb[0])
            if cost >= 3000:
                self.warn(f"{f.id}: label overlaps something")
            f.label = box
            self.labels.append(box)

    def run(self):
        if not self.pool.nodes:
            lanes = self.pool.lanes or [Lane(id=None, name="")]
            h = 160
            y = self.origin_y
            for lane in lanes:
                lane.box = Box(ORIGIN_X + POOL_HEADER, y, 570, h)
                y += h
            self.pool.box = Box(ORIGIN_X, self.origin_y, 600, y - self.origin_y)
            return
        order, parent = self.search()
        self.layer()
        self.assign_rows(order, parent)
        self.place()
        self.route()
        self.place_labels()


# --------------------------------------------------------------------------
# Reading the model


def read_model(root, warnings):
    """Pools to draw and the plane's bpmnElement."""
    processes = {p.get("id"): p for p in root.iter(f"{{{BPMN}}}process")}
    collab = root.find(f"{{{BPMN}}}collaboration")
    pools = []
    if collab is not None:
        plane_ref = collab.get("id")
        for part in collab.findall(f"{{{BPMN}}}participant"):
            ref = part.get("processRef")
            pools.append(Pool(part.get("id"), part.get("name") or "", ref if ref in processes else None))
        message_flows = [
            (m.get("id"), m.get("name") or "", m.get("sourceRef"), m.get("targetRef"))
            for m in collab.findall(f"{{{BPMN}}}messageFlow")
        ]
    else:
        if not processes:
            raise SystemExit("no bpmn:process in the file")
        proc = next((p for p in processes.values() if p.get("isExecutable") == "true"), next(iter(processes.values())))
        plane_ref = proc.get("id")
        pools.append(Pool(None, "", proc.get("id")))
        message_flows = []
    for pool in pools:
        if pool.process is None:
            continue
        proc = processes[pool.process]
        lane_of = {}
        for lane_set in proc.findall(f"{{{BPMN}}}laneSet"):
            for lane in lane_set.findall(f"{{{BPMN}}}lane"):
                pool.lanes.append(Lane(lane.get("id"), lane.get("name") or ""))
                if lane.find(f"{{{BPMN}}}childLaneSet") is not None:
                    warnings.append(f"{lane.get('id')}: nested lanes are drawn as one lane")
                for ref in lane.iter(f"{{{BPMN}}}flowNodeRef"):
                    lane_of.setdefault((ref.text or "").strip(), lane.get("id"))
        for el in proc:
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN:
                continue
            tag = local(el)
            if tag in FLOW_NODES:
                node = Node(
                    el.get("id"),
                    tag,
                    (el.get("name") or "").strip(),
                    kind_of(tag),
                    lane=lane_of.get(el.get("id")),
                    attached_to=el.get("attachedToRef"),
                    default=el.get("default"),
                )
                pool.nodes[node.id] = node
                if tag in {"subProcess", "transaction", "adHocSubProcess"} and len(el.findall("*")):
                    if any(local(c) in FLOW_NODES for c in el if isinstance(c.tag, str)):
                        warnings.append(f"{node.id}: sub-process drawn collapsed; its content is not laid out")
            elif tag == "sequenceFlow":
                pool.flows.append(
                    Flow(el.get("id"), (el.get("name") or "").strip(), el.get("sourceRef"), el.get("targetRef"))
                )
            elif tag not in {"laneSet", "extensionElements", "documentation", "ioSpecification", "property"}:
                warnings.append(f"{el.get('id') or tag}: {tag} is not drawn")
        known = pool.nodes
        bad = [f for f in pool.flows if f.source not in known or f.target not in known]
        for f in bad:
            warnings.append(f"{f.id}: source or target is not a flow node of {pool.process}; not drawn")
        pool.flows = [f for f in pool.flows if f not in bad]
        if pool.lanes:
            lane_ids = {lane.id for lane in pool.lanes}
            for n in known.values():
                if n.lane is None and n.attached_to and known.get(n.attached_to):
                    n.lane = known[n.attached_to].lane
            for n in known.values():
                if n.lane not in lane_ids:
                    near = [known[f.source].lane for f in pool.flows if f.target == n.id] + [
                        known[f.target].lane for f in pool.flows if f.source == n.id
                    ]
                    n.lane = next((lane for lane in near if lane in lane_ids), pool.lanes[0].id)
                    warnings.append(f"{n.id}: in no lane; drawn in {n.lane}")
    return plane_ref, pools, message_flows


# --------------------------------------------------------------------------
# Writing the diagram


def fmt(v) -> str:
    return str(int(round(v)))


def diagram_lines(root, plane_ref, pools, message_flows, prefixes, indent, taken_ids):
    di_p, dc_p, dd_p = prefixes["bpmndi"], prefixes["dc"], prefixes["di"]

    def uid(base):
        i, cand = 1, base
        while cand in taken_ids:
            i += 1
            cand = f"{base}_{i}"
        taken_ids.add(cand)
        return cand

    def bounds(box, depth):
        x, y, w, h = fmt(box.x), fmt(box.y), fmt(box.w), fmt(box.h)
        return f'{indent * depth}<{dc_p}:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/>'

    decl = "".join(f' xmlns:{p}="{uri}"' for p, uri in prefixes.get("declare", []))
    out = [f'{indent}<{di_p}:BPMNDiagram id="{uid("BPMNDiagram_" + plane_ref)}"{decl}>']
    out.append(
        f'{indent * 2}<{di_p}:BPMNPlane id="{uid("BPMNPlane_" + plane_ref)}" bpmnElement={quoteattr(plane_ref)}>'
    )

    def shape(element_id, box, depth=3, extra="", label=None):
        ids = f"id={quoteattr(uid(element_id + '_di'))} bpmnElement={quoteattr(element_id)}"
        out.append(f"{indent * depth}<{di_p}:BPMNShape {ids}{extra}>")
        out.append(bounds(box, depth + 1))
        if label is not None:
            out.append(f"{indent * (depth + 1)}<{di_p}:BPMNLabel>")
            out.append(bounds(label, depth + 2))
            out.append(f"{indent * (depth + 1)}</{di_p}:BPMNLabel>")
        out.append(f"{indent * depth}</{di_p}:BPMNShape>")

    def edge(element_id, points, label=None, depth=3):
        ids = f"id={quoteattr(uid(element_id + '_di'))} bpmnElement={quoteattr(element_id)}"
        out.append(f"{indent * depth}<{di_p}:BPMNEdge {ids}>")
        for x, y in points:
            out.append(f'{indent * (depth + 1)}<{dd_p}:waypoint x="{fmt(x)}" y="{fmt(y)}"/>')
        if label is not None:
            out.append(f"{indent * (depth + 1)}<{di_p}:BPMNLabel>")
            out.append(bounds(label, depth + 2))
            out.append(f"{indent * (depth + 1)}</{di_p}:BPMNLabel>")
        out.append(f"{indent * depth}</{di_p}:BPMNEdge>")

    def label_box(box: Box | None):
        # bpmn-js wraps external labels at 90 px and centres them in the box
        if box is None:
            return None
        return Box(box.cx - LABEL_WIDTH / 2, box.y, LABEL_WIDTH, box.h) if box.w < LABEL_WIDTH else box

    shapes_by_id = {}
    for pool in pools:
        if pool.participant:
            shape(pool.participant, pool.box, extra=' isHorizontal="true"')
            shapes_by_id[pool.participant] = pool.box
        for lane in pool.lanes:
            shape(lane.id, lane.box, extra=' isHorizontal="true"')
        for n in pool.nodes.values():
            extra = ""
            if n.tag == "exclusiveGateway":
                extra = ' isMarkerVisible="true"'
            elif n.tag in {"subProcess", "transaction", "adHocSubProcess"}:
                extra = ' isExpanded="false"'
            shape(n.id, n.box, extra=extra, label=label_box(n.label))
            shapes_by_id[n.id] = n.box
    for pool in pools:
        for f in pool.flows:
            edge(f.id, f.points, label_box(f.label))
    for mid, _name, src, tgt in message_flows:
        S, T = shapes_by_id.get(src), shapes_by_id.get(tgt)
        if S is None or T is None:
            continue
        x = S.cx if T.x < S.cx < T.right else T.cx if S.x < T.cx < S.right else None
        if x is not None:  # to or from a pool: straight down or up
            pts = [(x, S.bottom), (x, T.y)] if T.y > S.bottom else [(x, S.y), (x, T.bottom)]
        elif T.y > S.bottom:
            ym = (S.bottom + T.y) / 2
            pts = [(S.cx, S.bottom), (S.cx, ym), (T.cx, ym), (T.cx, T.y)]
        else:
            ym = (T.bottom + S.y) / 2
            pts = [(S.cx, S.y), (S.cx, ym), (T.cx, ym), (T.cx, T.bottom)]
        edge(mid, simplify(pts))
    out.append(f"{indent * 2}</{di_p}:BPMNPlane>")
    out.append(f"{indent}</{di_p}:BPMNDiagram>")
    return out


def choose_prefixes(root):
    """Prefixes in scope on the root for the DI namespaces, declaring the
    missing ones on the new BPMNDiagram element."""
    nsmap = {p: u for p, u in root.nsmap.items() if p}
    by_uri = {}
    for p, u in nsmap.items():
        by_uri.setdefault(u, p)
    result, declare = {}, []
    for want, uri in (("bpmndi", BPMNDI), ("dc", DC), ("di", DI)):
        if uri in by_uri:
            result[want] = by_uri[uri]
            continue
        p, i = want, 1
        while p in nsmap:
            i += 1
            p = f"{want}{i}"
        nsmap[p] = uri
        result[want] = p
        declare.append((p, uri))
    result["declare"] = declare
    return result


def model_without_di(root):
    """Canonical bytes of the document minus its diagrams, to compare."""
    copy = etree.fromstring(etree.tostring(root))
    for d in copy.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        copy.remove(d)
    for el in copy.iter():  # indentation between elements is not content
        if el.text is not None and not el.text.strip() and len(el):
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.tostring(copy, method="c14n")


def layout_text(raw: bytes, warnings: list) -> bytes:
    parser = etree.XMLParser(remove_blank_text=False, strip_cdata=False, resolve_entities=False)
    root = etree.fromstring(raw, parser)
    if root.tag != f"{{{BPMN}}}definitions":
        raise SystemExit("not a BPMN 2.0 file (root is not bpmn:definitions)")
    plane_ref, pools, message_flows = read_model(root, warnings)

    y = ORIGIN_Y
    for pool in pools:
        Layouter(pool, y, warnings).run()
        y = pool.box.bottom + POOL_GAP
    width = max(p.box.w for p in pools)
    for pool in pools:  # pools of one collaboration are equally wide
        grow = width - pool.box.w
        pool.box.w += grow
        for lane in pool.lanes:
            lane.box.w += grow

    old = root.findall(f"{{{BPMNDI}}}BPMNDiagram")
    taken_ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for d in old:
        taken_ids -= {el.get("id") for el in d.iter() if isinstance(el.tag, str)}

    declared = re.search(rb'^\s*<\?xml[^>]*encoding=["\']([A-Za-z0-9._-]+)["\']', raw)
    encoding = declared.group(1).decode() if declared else "utf-8"
    text = raw.decode(encoding)
    m = re.search(r"\n([ \t]+)<", text[text.index(">", text.index("definitions")) :])
    indent = m.group(1) if m else "  "
    lines = diagram_lines(root, plane_ref, pools, message_flows, choose_prefixes(root), indent, taken_ids)
    newline = "\r\n" if "\r\n" in text else "\n"

    # Splice: remove the old diagrams' text, put the new one where the first was
    # (or before the closing tag of definitions).
    di_prefixes = sorted({d.prefix or "" for d in old})
    removed, insert_at = 0, None
    for p in di_prefixes:
        q = f"{p}:BPMNDiagram" if p else "BPMNDiagram"
        pat = re.compile(r"(?:\r?\n[ \t]*)?<" + re.escape(q) + r"\b(?:[^>]*?/>|[\s\S]*?</" + re.escape(q) + r"\s*>)")
        while True:
            mm = pat.search(text)
            if not mm:
                break
            text = text[: mm.start()] + text[mm.end() :]
            insert_at = mm.start() if insert_at is None else min(insert_at, mm.start())
            removed += 1
    block = newline.join(lines)
    if removed and removed == len(old):
        text = text[:insert_at] + newline + block + text[insert_at:]
    elif not old:
        close = f"</{root.prefix}:definitions" if root.prefix else "</definitions"
        at = text.rindex(close)
        line_start = text.rfind("\n", 0, at) + 1
        if text[line_start:at].strip():
            text = text[:at] + newline + block + newline + text[at:]
        else:
            text = text[:line_start] + block + newline + text[line_start:]
    else:
        text = None
    if text is not None:
        out = text.encode(encoding, errors="xmlcharrefreplace")
        new_root = etree.fromstring(out, parser)
        if (
            model_without_di(new_root) == model_without_di(root)
            and len(new_root.findall(f"{{{BPMNDI}}}BPMNDiagram")) == 1
        ):
            return out
    # Fallback: let lxml write the whole document.
    warnings.append("could not splice the diagram into the original text; the file was rewritten by lxml")
    for d in old:
        d.getparent().remove(d)
    new = etree.fromstring(
        newline.join(
            ["<x " + " ".join(f'xmlns:{p}="{u}"' for p, u in root.nsmap.items() if p) + ">"] + lines + ["</x>"]
        )
    )[0]
    root.append(new)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding=encoding)


def check(raw: bytes) -> list[str]:
    """What a diagram is missing: elements without a shape or edge."""
    root = etree.fromstring(raw)
    drawn = {el.get("bpmnElement") for el in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge")}
    missing = []
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN:
            continue
        if local(el) in FLOW_NODES | {"sequenceFlow", "participant", "lane"} and el.get("id") not in drawn:
            if el.getparent() is not None and local(el.getparent()) in {"subProcess", "transaction", "adHocSubProcess"}:
                continue
            missing.append(el.get("id"))
    return missing


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("-o", "--output", type=Path, help="write here instead of in place (one input file)")
    ap.add_argument("--check", action="store_true", help="only report elements without a shape or edge")
    args = ap.parse_args(argv)
    if args.output and len(args.files) != 1:
        ap.error("-o takes one input file")
    status = 0
    for path in args.files:
        raw = path.read_bytes()
        if args.check:
            missing = check(raw)
            print(f"{path}: " + (f"{len(missing)} elements not drawn: {', '.join(missing)}" if missing else "complete"))
            status |= bool(missing)
            continue
        warnings: list[str] = []
        out = layout_text(raw, warnings)
        (args.output or path).write_bytes(out)
        for w in warnings:
            print(f"{path}: warning: {w}", file=sys.stderr)
        missing = check(out)
        print(f"{path}: laid out" + (f"; not drawn: {', '.join(missing)}" if missing else ""))
    return status


if __name__ == "__main__":
    sys.exit(main())
