/**
 * Small HTML helpers for self-contained reports: text escaping, number formatting, and turning a
 * standalone SVG document (vega's output) into markup that can sit inline, many times, in one page.
 *
 * Hand-written: three string functions; a templating engine would be a dependency for nothing.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values (& < > " '). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A number for a table cell: 4 significant digits, exponent form for very small/large magnitudes, "—" for NaN. */
export function formatNumber(v: number, digits = 4): string {
  if (Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/**
 * Makes a standalone SVG document embeddable inline: drops the XML prolog and the namespace
 * declarations (the HTML parser puts <svg> in the SVG namespace by itself, and the page then holds
 * no http URL at all), and prefixes every id (and its url(#id) / href="#id" references) with
 * `prefix`, because ids are global to the page and vega reuses names such as "clip1" per chart.
 */
export function inlineSvg(svg: string, prefix: string): string {
  let s = svg.replace(/^\s*<\?xml[^>]*>\s*/, '');
  s = s.replace(/\s+xmlns(:\w+)?="[^"]*"/g, '');
  const ids = [...s.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  if (ids.length > 0) {
    const known = new Set(ids);
    s = s.replace(/(\sid=")([^"]+)(")/g, (_m, a: string, id: string, b: string) => `${a}${prefix}${id}${b}`);
    s = s.replace(/url\(#([^)]+)\)/g, (m, id: string) => (known.has(id) ? `url(#${prefix}${id})` : m));
    s = s.replace(/(href=")#([^"]+)(")/g, (m, a: string, id: string, b: string) => (known.has(id) ? `${a}#${prefix}${id}${b}` : m));
  }
  return s;
}
