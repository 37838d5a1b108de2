// Chroma Studio's point map: a small WebGL renderer (no libraries) for hundreds of thousands of points.
// Points live in two GPU buffers (positions, RGBA colours) and a full draw renders every one of them at the current
// view. While a pan or zoom gesture goes on, a frame draws nothing: the canvas already on screen (the last full draw)
// is moved and scaled with a CSS transform, which the browser's compositor applies to the picture it holds (no
// WebGL work, no copy of the drawing buffer: software GL without a GPU cannot redraw 200,000 points, or even
// re-texture a full-size quad, 30 times a second); once the view has been still for `settleMs` the points are drawn
// again, crisp, at the new view, and the transform is dropped in the same frame. The canvas's parent must clip it
// (overflow: hidden). Frames are requested only while something is to be drawn. Picking and selection run over the
// typed arrays on the CPU. Without WebGL (a browser with it turned off) the same points are drawn on a 2-D canvas,
// slower but the same picture, moved the same way during gestures.
// The offline report (chroma-server report) embeds this very file and draws its scatter with it.
"use strict";

class PointMap {
  constructor(canvas, overlay) {
    this.canvas = canvas;
    this.overlay = overlay;
    this.count = 0;
    this.x = new Float32Array(0);
    this.y = new Float32Array(0);
    this.colors = new Uint8Array(0);
    this.order = null; // drawing order (setPoints), null: by index
    this.rings = null; // { indexes, color, radius }: circles drawn around chosen points on the overlay
    this.center = [0, 0];
    this.k = 1; // CSS pixels per data unit
    this.pointSize = 4;
    this.frameCount = 0;
    this.onFrame = null;
    // A gesture (panBy, zoomAt) lasts until the view has been still this long; then the points are redrawn.
    this.settleMs = 150;
    this.gestureUntil = 0;
    this.movedSinceFrame = false;
    this.settling = false; // a moved frame was shown: a full draw is owed once the gesture ends
    this.fullDraws = 0;
    this.movedFrames = 0;
    this.lastFullDrawMs = 0; // main-thread time of the last full draw (the GPU work may finish later)
    this.shown = null; // { center, k }: the view the canvas's pixels were drawn at (k 0: they are out of date)
    this.overlayBlank = true; // an empty overlay is hidden: the compositor then has one layer less to blend
    overlay.style.visibility = "hidden";
    this.frameRequested = false;
    this.frame = (now) => {
      this.frameRequested = false;
      this.tick(now);
      if (this._dirty || this.settling) this.requestFrame();
    };
    this._dirty = false;
    // preserveDrawingBuffer off: the browser presents the drawing buffer instead of copying it every frame.
    const gl = canvas.getContext("webgl", { antialias: false, preserveDrawingBuffer: false, alpha: false });
    if (!gl) {
      this.ctx = canvas.getContext("2d", { alpha: false });
      if (!this.ctx) throw new Error("Neither WebGL nor a 2-D canvas is available in this browser");
      this.dirty = true;
      return;
    }
    this.gl = gl;
    this.program = this.link(
      "attribute vec2 p; attribute vec4 c; uniform vec2 u_c; uniform vec2 u_s; uniform float u_z; varying vec4 v;" +
      "void main(){ gl_Position = vec4((p - u_c) * u_s, 0.0, 1.0); gl_PointSize = u_z; v = c; }",
      "precision mediump float; varying vec4 v;" +
      "void main(){ vec2 d = gl_PointCoord - 0.5; if (dot(d, d) > 0.25) discard; gl_FragColor = v; }");
    this.positionBuffer = gl.createBuffer();
    this.colorBuffer = gl.createBuffer();
    this.loc = {
      p: gl.getAttribLocation(this.program, "p"),
      c: gl.getAttribLocation(this.program, "c"),
      center: gl.getUniformLocation(this.program, "u_c"),
      scale: gl.getUniformLocation(this.program, "u_s"),
      size: gl.getUniformLocation(this.program, "u_z"),
    };
    this.dirty = true;
  }

  // Something to draw: the next animation frame draws it (frames are requested only while there is).
  get dirty() { return this._dirty; }

  set dirty(value) {
    this._dirty = value;
    if (value) this.requestFrame();
  }

  requestFrame() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(this.frame);
  }

  // One animation frame: a frame whose view a gesture moved shows the last full draw moved (a CSS transform); a full
  // draw comes once a frame has seen no move and the view has been still for settleMs (counted from the last move,
  // so frames slower than settleMs on a busy machine still move the picture rather than redraw every point), or for
  // any other change.
  tick(now) {
    const moved = this.movedSinceFrame;
    this.movedSinceFrame = false;
    if (this._dirty && moved && this.canMoveShown()) { this.showMoved(); return; }
    if (this._dirty || (this.settling && !moved && now >= this.gestureUntil)) this.draw();
  }

  // Marks the view changed by a gesture: frames move the picture until the view is still for settleMs.
  moved() {
    this.movedSinceFrame = true;
    this.gestureUntil = performance.now() + this.settleMs;
    this.dirty = true;
  }

  link(vertex, fragment) {
    const gl = this.gl;
    const shader = (type, source) => {
      const s = gl.createShader(type);
      gl.shaderSource(s, source);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
      return s;
    };
    const program = gl.createProgram();
    gl.attachShader(program, shader(gl.VERTEX_SHADER, vertex));
    gl.attachShader(program, shader(gl.FRAGMENT_SHADER, fragment));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
    return program;
  }

  // x, y: Float32Array of data coordinates; colors: Uint8Array RGBA per point; order (optional): Uint32Array, the
  // point drawn k-th at order[k] (later points on top), else points are drawn by index. Indexes everywhere else
  // (picking, selection, colours) stay the caller's.
  setPoints(x, y, colors, order) {
    const gl = this.gl;
    this.x = x;
    this.y = y;
    this.count = x.length;
    this.order = order && order.length === this.count ? order : null;
    if (!gl) { this.setColors(colors); return; }
    const interleaved = new Float32Array(this.count * 2), o = this.order;
    for (let k = 0; k < this.count; k++) { const i = o ? o[k] : k; interleaved[2 * k] = x[i]; interleaved[2 * k + 1] = y[i]; }
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positionBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, interleaved, gl.STATIC_DRAW);
    this.setColors(colors);
  }

  setColors(colors) {
    const gl = this.gl;
    this.colors = colors;
    if (this.shown) this.shown.k = 0; // other points or colours: the next frame draws them, gesture or not
    if (gl) {
      let drawn = colors;
      if (this.order) {
        const o = this.order;
        drawn = new Uint8Array(colors.length);
        for (let k = 0; k < this.count; k++) {
          const i = 4 * o[k], j = 4 * k;
          drawn[j] = colors[i]; drawn[j + 1] = colors[i + 1]; drawn[j + 2] = colors[i + 2]; drawn[j + 3] = colors[i + 3];
        }
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colorBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, drawn, gl.DYNAMIC_DRAW);
    }
    this.dirty = true;
  }

  fit() {
    if (this.count === 0) { this.center = [0, 0]; this.k = 1; this.dirty = true; return; }
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < this.count; i++) {
      const a = this.x[i], b = this.y[i];
      if (a < minX) minX = a; if (a > maxX) maxX = a;
      if (b < minY) minY = b; if (b > maxY) maxY = b;
    }
    const w = this.canvas.clientWidth || 1, h = this.canvas.clientHeight || 1;
    this.center = [(minX + maxX) / 2, (minY + maxY) / 2];
    this.k = 0.9 * Math.min(w / Math.max(maxX - minX, 1e-9), h / Math.max(maxY - minY, 1e-9));
    this.dirty = true;
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    for (const c of [this.canvas, this.overlay]) {
      if (c.width !== w || c.height !== h) { c.width = w; c.height = h; if (c === this.overlay) this.showOverlay(false); }
    }
  }

  // A full draw: every point at the current view, on the canvas as it is laid out (no transform).
  draw() {
    const gl = this.gl;
    const started = performance.now();
    this.resize();
    this.settling = false;
    this.fullDraws++;
    const w = this.canvas.clientWidth || 1, h = this.canvas.clientHeight || 1;
    if (gl) this.drawPoints(w, h); else this.draw2d(w, h);
    this.shown = { center: [this.center[0], this.center[1]], k: this.k };
    this.setTransform("");
    this.lastFullDrawMs = performance.now() - started;
    this.finishFrame();
  }

  // A frame during a gesture: the last full draw moved and scaled to the current view by the compositor (blank where
  // it has no pixels). A point drawn at p (CSS pixels from the canvas's centre) is at p * s + t now.
  showMoved() {
    const shown = this.shown, s = this.k / shown.k;
    const tx = (shown.center[0] - this.center[0]) * this.k, ty = (this.center[1] - shown.center[1]) * this.k;
    this.setTransform(`translate(${tx}px, ${ty}px) scale(${s})`);
    this.settling = true;
    this.movedFrames++;
    this.dirty = false;
    this.frameCount++;
    if (this.onFrame) this.onFrame(this.frameCount);
  }

  // The same transform on the canvas and on the overlay (rings stay on their points; both are redrawn when it ends).
  setTransform(transform) {
    if (this.transform === transform) return;
    this.transform = transform;
    this.canvas.style.transform = transform;
    this.overlay.style.transform = transform;
  }

  canMoveShown() {
    const shown = this.shown, dpr = window.devicePixelRatio || 1;
    return !!shown && shown.k > 0 &&
      Math.max(1, Math.round(this.canvas.clientWidth * dpr)) === this.canvas.width &&
      Math.max(1, Math.round(this.canvas.clientHeight * dpr)) === this.canvas.height;
  }

  // Every point at the current view onto the canvas.
  drawPoints(w, h) {
    const gl = this.gl;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (this.count > 0) {
      gl.useProgram(this.program);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.positionBuffer);
      gl.enableVertexAttribArray(this.loc.p);
      gl.vertexAttribPointer(this.loc.p, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colorBuffer);
      gl.enableVertexAttribArray(this.loc.c);
      gl.vertexAttribPointer(this.loc.c, 4, gl.UNSIGNED_BYTE, true, 0, 0);
      gl.uniform2f(this.loc.center, this.center[0], this.center[1]);
      gl.uniform2f(this.loc.scale, 2 * this.k / w, 2 * this.k / h);
      gl.uniform1f(this.loc.size, this.pointSize * (window.devicePixelRatio || 1));
      gl.drawArrays(gl.POINTS, 0, this.count);
      gl.disableVertexAttribArray(this.loc.c);
    }
  }

  // The fallback: the same discs, in the same order and colours, on a 2-D canvas.
  draw2d(w, h) {
    const ctx = this.ctx, dpr = window.devicePixelRatio || 1, r = this.pointSize / 2, c = this.colors;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    for (let k = 0; k < this.count; k++) {
      const i = this.order ? this.order[k] : k;
      const [sx, sy] = this.toScreen(i);
      if (sx < -r || sy < -r || sx > w + r || sy > h + r) continue;
      ctx.fillStyle = `rgb(${c[4 * i]},${c[4 * i + 1]},${c[4 * i + 2]})`;
      ctx.beginPath();
      ctx.arc(sx, sy, r, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  finishFrame() {
    if (this.rings) this.drawRings();
    this.dirty = false;
    this.frameCount++;
    // Time since navigation of the first frame that drew points (read by the performance measurement).
    if (this.count > 0 && this.firstPaintMs === undefined) this.firstPaintMs = performance.now();
    if (this.onFrame) this.onFrame(this.frameCount);
  }

  // Data coordinates to CSS pixels of the canvas, and back.
  toScreen(i) {
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    return [(this.x[i] - this.center[0]) * this.k + w / 2, h / 2 - (this.y[i] - this.center[1]) * this.k];
  }

  toData(sx, sy) {
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    return [(sx - w / 2) / this.k + this.center[0], (h / 2 - sy) / this.k + this.center[1]];
  }

  panBy(dx, dy) { this.center = [this.center[0] - dx / this.k, this.center[1] + dy / this.k]; this.moved(); }

  zoomAt(sx, sy, factor) {
    const [ax, ay] = this.toData(sx, sy);
    this.k *= factor;
    const [bx, by] = this.toData(sx, sy);
    this.center = [this.center[0] + ax - bx, this.center[1] + ay - by];
    this.moved();
  }

  // The point nearest (sx, sy) within `radius` CSS pixels, or -1; later (drawn on top) points win ties.
  pick(sx, sy, radius) {
    const [dx, dy] = this.toData(sx, sy);
    const r = radius / this.k, r2 = r * r;
    let best = -1, bestD = r2;
    for (let k = 0; k < this.count; k++) {
      const i = this.order ? this.order[k] : k;
      const ex = this.x[i] - dx, ey = this.y[i] - dy;
      const d = ex * ex + ey * ey;
      if (d <= bestD) { bestD = d; best = i; }
    }
    return best;
  }

  // Indexes of the points inside the screen rectangle.
  selectBox(x0, y0, x1, y1) {
    const [ax, ay] = this.toData(Math.min(x0, x1), Math.max(y0, y1));
    const [bx, by] = this.toData(Math.max(x0, x1), Math.min(y0, y1));
    const out = [];
    for (let i = 0; i < this.count; i++) {
      const x = this.x[i], y = this.y[i];
      if (x >= ax && x <= bx && y >= ay && y <= by) out.push(i);
    }
    return out;
  }

  // Indexes of the points inside the screen polygon (even-odd rule).
  selectPolygon(points) {
    if (points.length < 3) return [];
    const poly = points.map(([sx, sy]) => this.toData(sx, sy));
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (const [x, y] of poly) { minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y); }
    const out = [];
    for (let i = 0; i < this.count; i++) {
      const x = this.x[i], y = this.y[i];
      if (x < minX || x > maxX || y < minY || y > maxY) continue;
      let inside = false;
      for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
        const [xa, ya] = poly[a], [xb, yb] = poly[b];
        if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) inside = !inside;
      }
      if (inside) out.push(i);
    }
    return out;
  }

  // Rings around chosen points (the report's recommended records), on the overlay, redrawn with every frame.
  drawRings() {
    const ctx = this.overlay.getContext("2d"), dpr = window.devicePixelRatio || 1, { indexes, color, radius } = this.rings;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.showOverlay(indexes.length > 0);
    ctx.strokeStyle = color;
    ctx.lineWidth = 3;
    for (const i of indexes) {
      const [sx, sy] = this.toScreen(i);
      ctx.beginPath();
      ctx.arc(sx, sy, radius, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  // The overlay takes part in compositing only while it has something on it.
  showOverlay(visible) {
    if (this.overlayBlank === !visible) return;
    this.overlayBlank = !visible;
    this.overlay.style.visibility = visible ? "" : "hidden";
  }

  // The selection outline (box or lasso) on the 2-D overlay.
  drawOutline(points) {
    const ctx = this.overlay.getContext("2d");
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.showOverlay(!!points && points.length >= 2);
    if (!points || points.length < 2) return;
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
    ctx.closePath();
    ctx.fillStyle = "rgba(255, 153, 0, 0.08)";
    ctx.fill();
    ctx.strokeStyle = "#ff9900";
    ctx.lineWidth = 1.5;
    ctx.setLineDash([5, 4]);
    ctx.stroke();
  }
}

window.PointMap = PointMap;
