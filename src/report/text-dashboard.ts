/**
 * Feature dashboards of a sparse autoencoder on a language model's activations, as one
 * self-contained HTML page, laid out like SAEDashboard (github.com/jbloomAus/SAEDashboard, after
 * Anthropic's feature browser in "Towards Monosemanticity", Bricken et al. 2023) and Neuronpedia's
 * feature pages: per latent its top-activating contexts with each token shaded by the latent's
 * activation, contexts drawn from equal-width activation intervals, a histogram of its nonzero
 * activations, the tokens its decoder direction promotes and suppresses through the unembedding,
 * the latents whose activations correlate with it, and the part-of-speech tags and genres of the
 * rows it fires on. At the top, the log10 feature-density histogram of all latents and an index
 * table of the shown latents, filterable by text and sortable by each column.
 *
 * Rendering only: the numbers arrive as plain arrays (workflows/lm-report.ts computes them).
 *
 * Self-contained and inert (see plot/html.ts): a Content-Security-Policy meta forbids every
 * network load (default-src 'none') and every script but the page's own, named by its SHA-256
 * hash (no 'unsafe-inline'); no URL outside the page. Every string from data (tokens, tags, genres,
 * document ids, labels) goes through escapeHtml, in text and in attributes. The index table's
 * data for sorting and filtering travels as JSON in a <script type="application/json"> block,
 * where `<`, `>` and `&` are written as the JSON escapes \u003c, \u003e, \u0026 (a script
 * element's content is raw text, so HTML entities would not be decoded there; these escapes are
 * the HTML-safe form JSON.parse reads back); the page script only reorders and hides the rows
 * rendered on the server and writes text with textContent, never innerHTML.
 *
 * Hand-written: page assembly, as sae-report.ts. The bar charts are a few <rect>s each, written
 * here rather than by vega so that building the page stays synchronous and small.
 */
import { NestlabArgumentError, checkInt, checkKnownKeys } from '../errors.js';
import { escapeHtml, formatNumber, reportCspMeta } from '../plot/html.js';
import { divergingColor, GROUP_COLORS } from './sae-report.js';

/** A window of tokens around one row on which a latent fires. */
export interface TokenContext {
  /** The window's tokens as strings (the tokenizer's vocabulary entries), in stream order. */
  tokens: string[];
  /** The latent's activation on each token of the window (0 where it does not fire). */
  values: number[];
  /** Index in `tokens` of the row the context was chosen for (for a top context, the row of the activation ranked). */
  focus: number;
  /** The capture row of that token. */
  row: number;
  /** The id of the document the window lies in (a window never crosses a document boundary). */
  document: string;
  /** That document's genre. */
  genre: string;
}

/** An equal-width interval of a latent's activations, [lo·max, hi·max), with a few of its contexts. */
export interface ActivationBucket {
  /** Lower and upper ends as fractions of the latent's max activation (the last interval includes 1). */
  lo: number;
  hi: number;
  /** Rows whose activation falls in the interval. */
  count: number;
  /** A few of those rows, spread evenly over the interval's rows in capture order. */
  contexts: TokenContext[];
}

/** A token with a number: a logit effect. */
export interface TokenValue {
  token: string;
  value: number;
}

/** A name with its share of a latent's firing rows (POS tag, genre). */
export interface NamedShare {
  name: string;
  /** Share of the latent's firing rows, in [0, 1]; the shares of one list sum to 1. */
  share: number;
}

/** What one latent's dashboard shows. */
export interface TextDashboardLatent {
  /** The latent's index. */
  latent: number;
  /** 1-based Matryoshka group (prefix index, `prefixGroup`). */
  group: number;
  /** Firing frequency: share of the rows on which the latent is > 0. */
  density: number;
  /** Rows on which it fires. */
  fires: number;
  /** Largest and mean nonzero activation (0 for a dead latent). */
  maxActivation: number;
  meanActivation: number;
  /** The top-activating rows' contexts, strongest first. */
  topContexts: TokenContext[];
  /** Contexts from equal-width activation intervals of [0, max], highest interval first. */
  buckets: ActivationBucket[];
  /** Histogram of the nonzero activations, bins [lo, hi) with counts. */
  histogram: { lo: number; hi: number; count: number }[];
  /** Tokens with the largest entries of W_dec[latent]·W_U, largest first. */
  topLogits: TokenValue[];
  /** Tokens with the smallest entries, smallest first. */
  bottomLogits: TokenValue[];
  /** Latents whose activations correlate most with this one's (Pearson r over rows), largest r first. */
  correlated: { latent: number; correlation: number }[];
  /** POS tags of the firing rows, largest share first. */
  tags: NamedShare[];
  /** Genres of the firing rows, largest share first. */
  genres: NamedShare[];
}

/** Everything a text dashboard page shows (`buildTextDashboard`'s input). */
export interface TextDashboardData {
  /** The hook the SAE reads (TransformerLens name). */
  hook: string;
  /** Rows (tokens) the statistics were computed on. */
  rows: number;
  /** The SAE's number of latents and Matryoshka prefix sizes. */
  dSae: number;
  prefixes: number[];
  /**
   * log10 firing frequency of all dSae latents: `counts[b]` live latents in [edges[b], edges[b+1])
   * (the last bin includes its upper edge); `dead` latents never fire and are kept out of the bins.
   */
  density: { edges: number[]; counts: number[]; dead: number };
  /** The latents with a dashboard, in the order shown. */
  latents: TextDashboardLatent[];
  /** Where the data came from, as label–value lines (paths, the SAE's config). */
  sources?: { label: string; value: string }[];
  /** Sentences shown under the header (e.g. how the code was selected). */
  notes?: string[];
}

/** Options of `buildTextDashboard`. */
export interface TextDashboardOptions {
  /** Page title. Default "SAE feature dashboards · <hook>". */
  title?: string;
  /** The date shown in the header. Default now. */
  date?: Date;
}

/** The shade of an activating token: tableau orange at opacity activation / max. */
const HIGHLIGHT = '242,142,43';

/** Tags listed per latent before the rest is summed as "other". */
const TAGS_SHOWN = 8;

// ---------------------------------------------------------------------------------------------
// Validation: the data is produced by code, but a hand-made object should fail with a name.

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

function checkArray(where: string, argument: string, v: unknown, expected: string): unknown[] {
  if (!Array.isArray(v)) throw new NestlabArgumentError(where, argument, expected, v);
  return v;
}

function checkContext(where: string, argument: string, c: unknown): TokenContext {
  const x = c as TokenContext;
  if (x === null || typeof x !== 'object') throw new NestlabArgumentError(where, argument, 'a context {tokens, values, focus, row, document, genre}', c);
  if (!Array.isArray(x.tokens) || x.tokens.length === 0 || x.tokens.some((t) => typeof t !== 'string')) {
    throw new NestlabArgumentError(where, `${argument}.tokens`, 'a non-empty array of strings', x.tokens);
  }
  if (!isNumberArray(x.values) || x.values.length !== x.tokens.length) {
    throw new NestlabArgumentError(where, `${argument}.values`, `an array of ${x.tokens.length} numbers (one per token)`, x.values);
  }
  checkInt(where, `${argument}.focus`, x.focus, 0, x.tokens.length - 1);
  checkInt(where, `${argument}.row`, x.row, 0);
  for (const k of ['document', 'genre'] as const) if (typeof x[k] !== 'string') throw new NestlabArgumentError(where, `${argument}.${k}`, 'a string', x[k]);
  return x;
}

function checkShares(where: string, argument: string, v: unknown): NamedShare[] {
  const a = checkArray(where, argument, v, 'an array of {name, share}') as NamedShare[];
  a.forEach((s, i) => {
    if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || typeof s.share !== 'number') {
      throw new NestlabArgumentError(where, `${argument}[${i}]`, 'a {name: string, share: number}', s);
    }
  });
  return a;
}

function checkLatent(where: string, argument: string, v: unknown): TextDashboardLatent {
  const l = v as TextDashboardLatent;
  if (l === null || typeof l !== 'object') throw new NestlabArgumentError(where, argument, 'a latent dashboard {latent, group, density, ...}', v);
  checkInt(where, `${argument}.latent`, l.latent, 0);
  checkInt(where, `${argument}.group`, l.group, 1);
  checkInt(where, `${argument}.fires`, l.fires, 0);
  for (const k of ['density', 'maxActivation', 'meanActivation'] as const) {
    if (typeof l[k] !== 'number' || !Number.isFinite(l[k]) || l[k] < 0) throw new NestlabArgumentError(where, `${argument}.${k}`, 'a finite number ≥ 0', l[k]);
  }
  checkArray(where, `${argument}.topContexts`, l.topContexts, 'an array of contexts').forEach((c, i) => checkContext(where, `${argument}.topContexts[${i}]`, c));
  checkArray(where, `${argument}.buckets`, l.buckets, 'an array of {lo, hi, count, contexts}').forEach((b, i) => {
    const x = b as ActivationBucket;
    if (x === null || typeof x !== 'object' || typeof x.lo !== 'number' || typeof x.hi !== 'number' || typeof x.count !== 'number') {
      throw new NestlabArgumentError(where, `${argument}.buckets[${i}]`, 'a {lo, hi, count, contexts}', b);
    }
    checkArray(where, `${argument}.buckets[${i}].contexts`, x.contexts, 'an array of contexts').forEach((c, j) => checkContext(where, `${argument}.buckets[${i}].contexts[${j}]`, c));
  });
  checkArray(where, `${argument}.histogram`, l.histogram, 'an array of {lo, hi, count}').forEach((h, i) => {
    const x = h as { lo: number; hi: number; count: number };
    if (x === null || typeof x !== 'object' || ![x.lo, x.hi, x.count].every((n) => typeof n === 'number')) {
      throw new NestlabArgumentError(where, `${argument}.histogram[${i}]`, 'a {lo, hi, count} of numbers', h);
    }
  });
  for (const k of ['topLogits', 'bottomLogits'] as const) {
    checkArray(where, `${argument}.${k}`, l[k], 'an array of {token, value}').forEach((t, i) => {
      const x = t as TokenValue;
      if (x === null || typeof x !== 'object' || typeof x.token !== 'string' || typeof x.value !== 'number') {
        throw new NestlabArgumentError(where, `${argument}.${k}[${i}]`, 'a {token: string, value: number}', t);
      }
    });
  }
  checkArray(where, `${argument}.correlated`, l.correlated, 'an array of {latent, correlation}').forEach((c, i) => {
    const x = c as { latent: number; correlation: number };
    if (x === null || typeof x !== 'object' || typeof x.correlation !== 'number') throw new NestlabArgumentError(where, `${argument}.correlated[${i}]`, 'a {latent, correlation}', c);
    checkInt(where, `${argument}.correlated[${i}].latent`, x.latent, 0);
  });
  checkShares(where, `${argument}.tags`, l.tags);
  checkShares(where, `${argument}.genres`, l.genres);
  return l;
}

function checkData(where: string, data: unknown): TextDashboardData {
  const d = data as TextDashboardData;
  if (d === null || typeof d !== 'object') throw new NestlabArgumentError(where, 'data', 'an object {hook, rows, dSae, prefixes, density, latents}', data);
  checkKnownKeys(where, d, ['hook', 'rows', 'dSae', 'prefixes', 'density', 'latents', 'sources', 'notes'], 'data');
  if (typeof d.hook !== 'string') throw new NestlabArgumentError(where, 'data.hook', 'a string', d.hook);
  checkInt(where, 'data.rows', d.rows, 0);
  checkInt(where, 'data.dSae', d.dSae, 1);
  if (!isNumberArray(d.prefixes) || d.prefixes.length === 0) throw new NestlabArgumentError(where, 'data.prefixes', 'a non-empty array of prefix sizes', d.prefixes);
  const dens = d.density;
  if (dens === null || typeof dens !== 'object' || !isNumberArray(dens.edges) || !isNumberArray(dens.counts) || dens.edges.length !== dens.counts.length + 1) {
    throw new NestlabArgumentError(where, 'data.density', 'a {edges, counts, dead} with edges.length = counts.length + 1', dens);
  }
  checkInt(where, 'data.density.dead', dens.dead, 0);
  checkArray(where, 'data.latents', d.latents, 'an array of latent dashboards').forEach((l, i) => checkLatent(where, `data.latents[${i}]`, l));
  if (d.sources !== undefined) {
    checkArray(where, 'data.sources', d.sources, 'an array of {label, value}').forEach((s, i) => {
      const x = s as { label: string; value: string };
      if (x === null || typeof x !== 'object' || typeof x.label !== 'string' || typeof x.value !== 'string') throw new NestlabArgumentError(where, `data.sources[${i}]`, 'a {label: string, value: string}', s);
    });
  }
  if (d.notes !== undefined && (!Array.isArray(d.notes) || d.notes.some((n) => typeof n !== 'string'))) throw new NestlabArgumentError(where, 'data.notes', 'an array of strings', d.notes);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Pieces

/** A number for an attribute or a short label: at most 3 significant digits. */
const short = (v: number): string => formatNumber(v, 3);

/**
 * A small bar chart of binned counts as inline SVG: bars over [bins[0].lo, bins.at(-1).hi], the
 * range's ends and the largest count as labels, each bar's range and count as its tooltip.
 */
function barChart(bins: { lo: number; hi: number; count: number }[], color: string, xTitle: string, label: string): string {
  const [W, H, left, right, top, bottom] = [300, 110, 34, 8, 8, 30]; // size and margins (px)
  const x0 = bins[0].lo;
  const x1 = bins[bins.length - 1].hi;
  const span = x1 > x0 ? x1 - x0 : 1;
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  const px = (x: number) => left + ((x - x0) / span) * (W - left - right);
  const py = (c: number) => top + (1 - c / maxCount) * (H - top - bottom);
  const bars = bins
    .filter((b) => b.count > 0)
    .map((b) => {
      const xa = px(b.lo);
      const w = Math.max(1, px(b.hi) - xa - 0.5);
      const y = py(b.count);
      return `<rect x="${xa.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${(H - bottom - y).toFixed(1)}" fill="${color}"><title>${escapeHtml(`${short(b.lo)} to ${short(b.hi)}: ${b.count}`)}</title></rect>`;
    })
    .join('');
  const axes =
    `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#888"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#888"/>` +
    `<text x="${left - 4}" y="${top + 8}" text-anchor="end">${escapeHtml(String(maxCount))}</text>` +
    `<text x="${left - 4}" y="${H - bottom}" text-anchor="end">0</text>` +
    `<text x="${left}" y="${H - bottom + 12}" text-anchor="start">${escapeHtml(short(x0))}</text>` +
    `<text x="${W - right}" y="${H - bottom + 12}" text-anchor="end">${escapeHtml(short(x1))}</text>` +
    `<text x="${(left + W - right) / 2}" y="${H - 4}" text-anchor="middle" class="axis-title">${escapeHtml(xTitle)}</text>`;
  return `<svg class="bars" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(label)}">${axes}${bars}</svg>`;
}

/** One token, shaded by activation / max, its value as the tooltip. */
function tokenSpan(token: string, value: number, max: number, focus: boolean): string {
  const t = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  const style = t > 0 ? ` style="background:rgba(${HIGHLIGHT},${t.toFixed(3)})"` : '';
  const tip = `${token}: ${value === 0 ? '0' : formatNumber(value)}`;
  return `<span class="tk${focus ? ' focus' : ''}"${style} title="${escapeHtml(tip)}">${escapeHtml(token)}</span>`;
}

/** One context as a line: the focus token's activation, the shaded tokens, the document. */
function contextLine(c: TokenContext, max: number): string {
  const toks = c.tokens.map((tok, i) => tokenSpan(tok, c.values[i], max, i === c.focus)).join(' ');
  const src = `document ${c.document} (${c.genre}), row ${c.row}`;
  return `<div class="ctx"><span class="act">${escapeHtml(short(c.values[c.focus]))}</span><span class="toks">${toks}</span><span class="src" title="${escapeHtml(src)}">${escapeHtml(c.document)}</span></div>`;
}

/** Shares as labeled horizontal bars; past `limit` entries the rest is summed as "other". */
function shareBars(shares: NamedShare[], limit: number, emptyName: string): string {
  const shown = shares.slice(0, limit);
  const rest = shares.slice(limit).reduce((a, s) => a + s.share, 0);
  const rows = shown.map((s) => ({ name: s.name === '' ? emptyName : s.name, share: s.share, other: false }));
  if (rest > 0) rows.push({ name: `other (${shares.length - limit})`, share: rest, other: true });
  return `<table class="shares">${rows
    .map(
      (s) =>
        `<tr><td class="name${s.other ? ' other' : ''}" title="${escapeHtml(s.name)}">${escapeHtml(s.name)}</td><td class="bar"><i style="width:${(100 * Math.max(0, Math.min(1, s.share))).toFixed(1)}%"></i></td><td class="num">${escapeHtml((100 * s.share).toFixed(1))}%</td></tr>`,
    )
    .join('')}</table>`;
}

/** Promoted and suppressed tokens side by side; the shade is the value over the largest |value| shown (blue promotes, red suppresses). */
function logitTable(top: TokenValue[], bottom: TokenValue[]): string {
  const scale = Math.max(1e-12, ...top.map((t) => Math.abs(t.value)), ...bottom.map((t) => Math.abs(t.value)));
  const cell = (t: TokenValue | undefined) => {
    if (t === undefined) return '<td></td><td></td>';
    // divergingColor maps −1 to blue: negate so that promoting (positive) entries are blue, as
    // SAEDashboard draws them; at most 60% of the way to RdBu's dark ends, so black text stays legible
    const [r, g, b] = divergingColor((-0.6 * t.value) / scale);
    return `<td class="tok"><span style="background:rgb(${r},${g},${b})" title="${escapeHtml(`${t.token}: ${formatNumber(t.value)}`)}">${escapeHtml(t.token)}</span></td><td class="num">${escapeHtml(formatNumber(t.value, 3))}</td>`;
  };
  const n = Math.max(top.length, bottom.length);
  const rows = Array.from({ length: n }, (_, i) => `<tr>${cell(top[i])}${cell(bottom[i])}</tr>`).join('');
  return `<table class="logits"><thead><tr><th colspan="2">promoted</th><th colspan="2">suppressed</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The distinct focus tokens of the top contexts, strongest first: the index table's "top tokens". */
function topTokens(l: TextDashboardLatent, limit = 5): string[] {
  const out: string[] = [];
  for (const c of l.topContexts) {
    const t = c.tokens[c.focus];
    if (!out.includes(t)) out.push(t);
    if (out.length === limit) break;
  }
  return out;
}

/** JSON that can sit inside a <script> element: no `<`, `>`, `&` or line separators appear raw. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function latentCard(l: TextDashboardLatent, prefixes: number[], shown: Set<number>): string {
  const color = GROUP_COLORS[(l.group - 1) % GROUP_COLORS.length];
  const g = Math.min(l.group, prefixes.length);
  const lo = g === 1 ? 0 : prefixes[g - 2];
  const dead = l.fires === 0;
  const c: string[] = [];
  c.push(`<section class="card${dead ? ' dead' : ''}" id="latent-${l.latent}" style="border-left-color:${color}">`);
  c.push(`<header><h3>Latent ${l.latent}</h3><span class="badge" style="background:${color}">group ${l.group} · latents ${lo}–${prefixes[g - 1] - 1}</span>${dead ? '<span class="flag">DEAD</span>' : ''}<a class="up" href="#index-title">index ↑</a></header>`);
  c.push(
    dead
      ? `<p class="stats">Never fires on these rows.</p>`
      : `<p class="stats">fires on ${escapeHtml(formatNumber(100 * l.density, 3))}% of rows (${l.fires}) · mean activation ${escapeHtml(short(l.meanActivation))} · max ${escapeHtml(short(l.maxActivation))}</p>`,
  );
  c.push(`<div class="cols"><div class="side">`);
  if (!dead && l.histogram.length > 0) c.push(`<h4>Nonzero activations</h4>${barChart(l.histogram, color, 'activation', `histogram of the nonzero activations of latent ${l.latent}`)}`);
  if (l.topLogits.length + l.bottomLogits.length > 0) c.push(`<h4>Logit effects W_dec·W_U</h4>${logitTable(l.topLogits, l.bottomLogits)}`);
  if (l.correlated.length > 0) {
    const items = l.correlated.map((k) => {
      const name = shown.has(k.latent) ? `<a href="#latent-${k.latent}">#${k.latent}</a>` : `#${k.latent}`;
      return `<li>${name} <span class="num">r = ${escapeHtml(formatNumber(k.correlation, 3))}</span></li>`;
    });
    c.push(`<h4>Most correlated latents</h4><ul class="corr">${items.join('')}</ul>`);
  }
  if (l.tags.length > 0) c.push(`<h4>POS tags of its rows</h4>${shareBars(l.tags, TAGS_SHOWN, '(no tag)')}`);
  if (l.genres.length > 0) c.push(`<h4>Genres of its rows</h4>${shareBars(l.genres, Infinity, '(none)')}`);
  c.push(`</div><div class="main">`);
  if (l.topContexts.length > 0) {
    c.push(`<h4>Top ${l.topContexts.length} activations</h4>`);
    c.push(`<div class="ctxs">${l.topContexts.map((x) => contextLine(x, l.maxActivation)).join('')}</div>`);
  }
  for (const b of l.buckets) {
    if (b.contexts.length === 0) continue;
    const share = l.fires > 0 ? ` (${formatNumber((100 * b.count) / l.fires, 3)}%)` : '';
    c.push(`<h4>Interval ${escapeHtml(short(b.lo))}–${escapeHtml(short(b.hi))} of max: ${b.count} rows${escapeHtml(share)}, ${b.contexts.length} shown</h4>`);
    c.push(`<div class="ctxs">${b.contexts.map((x) => contextLine(x, l.maxActivation)).join('')}</div>`);
  }
  c.push(`</div></div></section>`);
  return c.join('');
}

// The index table's sort and filter (no network, no innerHTML): rows rendered on the server are
// reordered or hidden; sort keys and filter text come from the JSON block #index-data.
const INDEX_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('index-data').textContent);
  var table = document.getElementById('index');
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var count = document.getElementById('index-count');
  var filter = document.getElementById('index-filter');
  var buttons = table.querySelectorAll('thead button');
  var state = { key: null, dir: 1 };
  function entry(r) { return data[Number(r.getAttribute('data-i'))]; }
  function compare(a, b) {
    var x = entry(a)[state.key], y = entry(b)[state.key];
    var c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return c * state.dir || entry(a).latent - entry(b).latent;
  }
  Array.prototype.forEach.call(buttons, function (btn) {
    btn.addEventListener('click', function () {
      var key = btn.getAttribute('data-key');
      state.dir = state.key === key ? -state.dir : Number(btn.getAttribute('data-first'));
      state.key = key;
      rows.sort(compare);
      rows.forEach(function (r) { body.appendChild(r); });
      Array.prototype.forEach.call(buttons, function (b) {
        b.parentNode.setAttribute('aria-sort', b === btn ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
      });
    });
  });
  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (r) {
      var e = entry(r);
      var hit = q === '' || String(e.latent) === q || ('#' + e.latent) === q || e.text.toLowerCase().indexOf(q) >= 0;
      r.hidden = !hit;
      if (hit) n++;
    });
    count.textContent = n + ' of ' + rows.length + ' latents';
  }
  filter.addEventListener('input', applyFilter);
  applyFilter();
  table.setAttribute('data-ready', 'true');
})();
`;

const CSS = `
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:24px;color:#222;background:#fafafa;font-size:14px;line-height:1.4}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:0}h4{font-size:12px;margin:10px 0 4px;color:#555;font-weight:600}
.meta{color:#555;margin:2px 0}.note{color:#777;font-size:12px}
dl.cfg{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0;font-size:13px}
dl.cfg dt{color:#666}dl.cfg dd{margin:0;font-family:"DejaVu Sans Mono",monospace;word-break:break-all}
svg.bars{background:#fff;border:1px solid #e4e4e4;display:block}
svg.bars text{font-size:10px;fill:#555}svg.bars .axis-title{font-size:11px}
.filter{margin:6px 0;display:flex;gap:10px;align-items:center}
.filter input{font:inherit;padding:3px 6px;width:320px}
.filter span{color:#666;font-size:12px}
table.index{border-collapse:collapse;font-size:13px;background:#fff}
table.index th,table.index td{border:1px solid #ddd;padding:3px 10px;text-align:right}
table.index td.tokens,table.index th:last-child button{text-align:left}
table.index td.tokens{font-family:"DejaVu Sans Mono",monospace;font-size:12px}
table.index th{background:#f0f0f0;padding:0}
table.index th button{font:inherit;font-weight:600;border:0;background:none;padding:4px 10px;cursor:pointer;width:100%;text-align:right}
table.index th[aria-sort=ascending] button::after{content:" ▲"}table.index th[aria-sort=descending] button::after{content:" ▼"}
table.index tr.dead td{color:#999}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
.cards{display:flex;flex-direction:column;gap:14px;max-width:1400px}
.card{background:#fff;border:1px solid #ddd;border-left:6px solid #999;border-radius:4px;padding:10px 12px}
.card.dead{background:#f4f4f4;opacity:.85}
.card header{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
.card header .up{margin-left:auto;font-size:11px;color:#777}
.badge{font-size:11px;color:#fff;padding:1px 6px;border-radius:3px}
.flag{font-size:11px;color:#fff;background:#b2182b;padding:1px 6px;border-radius:3px;font-weight:bold}
.stats{font-size:12px;color:#555;margin:4px 0 4px}
.cols{display:flex;gap:18px;align-items:flex-start}
.side{flex:0 0 310px}.main{flex:1 1 auto;min-width:0}
.ctxs{border:1px solid #eee;border-radius:3px}
.ctx{display:flex;gap:8px;align-items:baseline;padding:2px 6px;border-bottom:1px solid #f0f0f0;font-family:"DejaVu Sans Mono",monospace;font-size:12px}
.ctx:last-child{border-bottom:0}
.ctx .act{flex:0 0 52px;text-align:right;color:#555}
.ctx .toks{flex:1 1 auto;min-width:0}
.ctx .src{flex:0 0 auto;color:#999;font-size:11px;max-width:120px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.tk{padding:0 1px;border-radius:2px}
.tk.focus{font-weight:bold;text-decoration:underline;text-decoration-thickness:2px}
table.logits{border-collapse:collapse;font-size:12px}
table.logits th{font-weight:600;color:#666;text-align:left;padding:1px 6px}
table.logits td{padding:1px 6px}
table.logits td.tok span{font-family:"DejaVu Sans Mono",monospace;padding:0 3px;border-radius:2px;display:inline-block;max-width:100px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
td.num,span.num{text-align:right;color:#555;font-size:12px}
ul.corr{list-style:none;margin:0;padding:0;font-size:12px;columns:2}
table.shares{border-collapse:collapse;font-size:12px;width:100%}
table.shares td{padding:0 4px}table.shares td.name{font-family:"DejaVu Sans Mono",monospace;white-space:nowrap;max-width:130px;overflow:hidden;text-overflow:ellipsis}
table.shares td.other{color:#888;font-family:inherit}
table.shares td.bar{width:55%}table.shares td.bar i{display:block;height:9px;background:#8aa9c7}
`;

/** The page's CSP: no network at all, inline style, data: images, and INDEX_SCRIPT alone (by its hash). */
const CSP_META = reportCspMeta([INDEX_SCRIPT]);

/**
 * Builds the feature dashboards of an SAE on a language model as one self-contained HTML string
 * (layout of SAEDashboard and Neuronpedia; see the module header): header and sources, the log10
 * feature-density histogram of all latents (SAEBench's feature density), an index table of the
 * latents (index, group, density, max activation, top tokens; filter by text, sort by a column),
 * then one card per latent: top contexts and contexts per activation interval with each token
 * shaded by activation / max (hover for the value), activation histogram, logit effects
 * W_dec[i]·W_U (ln_final skipped, as SAELens' dashboards do), most correlated latents, POS-tag and
 * genre shares of its firing rows. A CSP meta forbids network loads; every data string is escaped.
 *
 * @example const html = report.buildTextDashboard(await report.textDashboardData(model, acts, rows, tokenizer, lmModel, capture), { title: 'layer 1' });
 */
export function buildTextDashboard(data: TextDashboardData, options: TextDashboardOptions = {}): string {
  const where = 'report.buildTextDashboard';
  const d = checkData(where, data);
  checkKnownKeys(where, options, ['title', 'date']);
  if (options.title !== undefined && typeof options.title !== 'string') throw new NestlabArgumentError(where, 'options.title', 'a string', options.title);
  if (options.date !== undefined && !(options.date instanceof Date && Number.isFinite(options.date.getTime()))) throw new NestlabArgumentError(where, 'options.date', 'a valid Date', options.date);
  const title = options.title ?? `SAE feature dashboards · ${d.hook}`;
  const date = (options.date ?? new Date()).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const shown = new Set(d.latents.map((l) => l.latent));
  const p: string[] = [];
  p.push(`<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">`);
  p.push(CSP_META);
  p.push(`<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>`);
  p.push(`<h1>${escapeHtml(title)}</h1>`);
  p.push(`<p class="meta">hook <code>${escapeHtml(d.hook)}</code> · ${escapeHtml(String(d.rows))} rows · ${escapeHtml(String(d.dSae))} latents, prefixes [${escapeHtml(d.prefixes.join(', '))}] · generated ${escapeHtml(date)}</p>`);
  if (d.sources && d.sources.length > 0) p.push(`<dl class="cfg">${d.sources.map((s) => `<dt>${escapeHtml(s.label)}</dt><dd>${escapeHtml(s.value)}</dd>`).join('')}</dl>`);
  for (const n of d.notes ?? []) p.push(`<p class="note">${escapeHtml(n)}</p>`);

  // density of all latents
  const dens = d.density;
  const live = dens.counts.reduce((a, b) => a + b, 0);
  p.push(`<h2>Feature density</h2>`);
  p.push(`<p class="note">log10 of each latent's firing frequency on these rows (share of rows where it is &gt; 0), all ${escapeHtml(String(live + dens.dead))} latents; ${escapeHtml(String(dens.dead))} never fire (dead) and are not in the bins.</p>`);
  if (dens.counts.length > 0) {
    const bins = dens.counts.map((count, b) => ({ lo: dens.edges[b], hi: dens.edges[b + 1], count }));
    p.push(barChart(bins, GROUP_COLORS[0], 'log10 firing frequency', 'histogram of log10 firing frequency across latents'));
  }

  // index
  p.push(`<h2 id="index-title">Latents (${escapeHtml(String(d.latents.length))} of ${escapeHtml(String(d.dSae))})</h2>`);
  p.push(`<p class="note">Click a column to sort; the filter matches a latent's index or its top tokens (the tokens of its strongest activations). Legend: ${d.prefixes
    .map((x, g) => `<span class="swatch" style="background:${GROUP_COLORS[g % GROUP_COLORS.length]}"></span>group ${g + 1}: latents ${g === 0 ? 0 : d.prefixes[g - 1]}–${x - 1}`)
    .join(' · ')}.</p>`);
  p.push(`<div class="filter"><input id="index-filter" type="search" placeholder="filter by index or token" aria-label="filter latents"><span id="index-count">${d.latents.length} of ${d.latents.length} latents</span></div>`);
  const columns: [string, string, number][] = [['latent', 'latent', 1], ['group', 'group', 1], ['density', 'density', -1], ['max', 'max activation', -1], ['text', 'top tokens', 1]];
  p.push(`<table class="index" id="index"><thead><tr>${columns.map(([key, label, first]) => `<th aria-sort="none"><button type="button" data-key="${key}" data-first="${first}">${escapeHtml(label)}</button></th>`).join('')}</tr></thead><tbody>`);
  const entries = d.latents.map((l) => ({ latent: l.latent, group: l.group, density: l.density, max: l.maxActivation, text: topTokens(l).join(' ') }));
  d.latents.forEach((l, i) => {
    const color = GROUP_COLORS[(l.group - 1) % GROUP_COLORS.length];
    const cells = [
      `<td><a href="#latent-${l.latent}">${l.latent}</a></td>`,
      `<td><span class="swatch" style="background:${color}"></span>${l.group}</td>`,
      `<td>${escapeHtml(formatNumber(l.density, 3))}</td>`,
      `<td>${escapeHtml(formatNumber(l.maxActivation, 3))}</td>`,
      `<td class="tokens">${topTokens(l).map((t) => `<span class="tk">${escapeHtml(t)}</span>`).join(' ')}</td>`,
    ];
    p.push(`<tr data-i="${i}"${l.fires === 0 ? ' class="dead"' : ''}>${cells.join('')}</tr>`);
  });
  p.push(`</tbody></table>`);
  p.push(`<script type="application/json" id="index-data">${scriptJson(entries)}</script>`);

  // cards
  p.push(`<h2>Latent dashboards</h2>`);
  p.push(
    `<p class="note">Tokens are shaded by the latent's activation over its max on these rows (hover a token for its value); the underlined token is the row the context was chosen for; windows stop at document boundaries. Intervals split [0, max] into equal parts, with contexts spread over the interval's rows. Logit effects are W_dec[i]·W_U (W_U = W_Eᵀ for tied embeddings), the decoder direction's direct effect on the logits without the final LayerNorm, as SAELens' dashboards compute them; blue promotes, red suppresses. Correlation: Pearson r of two latents' activations over all rows (zeros included), positive only. Tag and genre shares are over all rows the latent fires on.</p>`,
  );
  p.push(`<div class="cards">`);
  for (const l of d.latents) p.push(latentCard(l, d.prefixes, shown));
  p.push(`</div>`);
  p.push(`<p class="note">nestlab feature dashboards · ${escapeHtml(String(d.latents.length))} of ${escapeHtml(String(d.dSae))} latents, ${escapeHtml(String(d.rows))} rows.</p>`);
  p.push(`<script>${INDEX_SCRIPT}</script>`);
  p.push(`</body></html>\n`);
  return p.join('\n');
}
